// Checks a stage needs before it can be ready that render cannot see: referenced Secrets exist.
// Only existence and the key are checked; values are never read into logs or status.
import type { OlaresInstallationSpec } from "../api/index.js";
import type { ObjectRef, Readiness, StageName } from "../render/types.js";
import type { ClusterClient } from "../kube/types.js";

interface SecretUse {
  field: string;
  name: string;
  namespace?: string;
  keys: string[];
}

function secretUses(spec: OlaresInstallationSpec, stage: StageName): SecretUse[] {
  const uses: SecretUse[] = [];
  if (stage === "Prerequisites" && spec.owner?.passwordSecretRef) {
    const ref = spec.owner.passwordSecretRef;
    uses.push({ field: "spec.owner.passwordSecretRef", name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), keys: [ref.key ?? "password"] });
  }
  if (stage === "Storage" && spec.storage?.type === "JuiceFS") {
    const jfs = spec.storage.juicefs;
    const url = jfs?.metadata?.urlSecretRef as { name: string; namespace?: string; key?: string } | undefined;
    if (jfs?.metadata?.type === "External" && url) {
      uses.push({ field: "spec.storage.juicefs.metadata.urlSecretRef", name: url.name, ...(url.namespace ? { namespace: url.namespace } : {}), keys: [url.key ?? "url"] });
    }
    const creds = jfs?.objectStore?.credentialsSecretRef;
    if (creds && jfs?.objectStore?.type !== "ManagedMinIO") {
      uses.push({
        field: "spec.storage.juicefs.objectStore.credentialsSecretRef",
        name: creds.name,
        ...(creds.namespace ? { namespace: creds.namespace } : {}),
        keys: [creds.accessKeyIdKey ?? "AWS_ACCESS_KEY_ID", creds.secretAccessKeyKey ?? "AWS_SECRET_ACCESS_KEY"],
      });
    }
  }
  return uses;
}

function hasKey(secret: Record<string, unknown>, key: string): boolean {
  const data = (secret.data as Record<string, unknown> | undefined) ?? {};
  const stringData = (secret.stringData as Record<string, unknown> | undefined) ?? {};
  return key in data || key in stringData;
}

/** The operator's own namespace: where Secret references without a namespace point (CRD contract). */
export const DEFAULT_OPERATOR_NAMESPACE = "olares-operator";

/** Undefined when the stage references no Secret. */
export async function secretPreconditions(
  client: Pick<ClusterClient, "get">,
  spec: OlaresInstallationSpec,
  stage: StageName,
  operatorNamespace: string = DEFAULT_OPERATOR_NAMESPACE,
): Promise<Readiness | undefined> {
  const uses = secretUses(spec, stage);
  if (uses.length === 0) return undefined;
  for (const use of uses) {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Secret", name: use.name, namespace: use.namespace ?? operatorNamespace };
    const secret = await client.get(ref);
    if (!secret) {
      return { ready: false, reason: "SecretNotFound", message: `${use.field}: Secret ${ref.namespace}/${ref.name} not found`, degraded: true };
    }
    const missing = use.keys.filter((k) => !hasKey(secret, k));
    if (missing.length) {
      return { ready: false, reason: "SecretKeyMissing", message: `${use.field}: Secret ${ref.namespace}/${ref.name} has no key ${missing.join(", ")}`, degraded: true };
    }
  }
  return { ready: true, reason: "SecretsPresent", message: "referenced Secrets present" };
}
