// Stage hook SecretReferences: the Secrets a stage reads exist with their keys (render cannot see them).
// Only existence and the keys are checked; values are never read into logs or status.
import type { ObjectRef, Readiness, SecretReference } from "../contract/index.js";
import type { ClusterClient } from "../kube/types.js";

function hasKey(secret: Record<string, unknown>, key: string): boolean {
  const data = (secret.data as Record<string, unknown> | undefined) ?? {};
  const stringData = (secret.stringData as Record<string, unknown> | undefined) ?? {};
  return key in data || key in stringData;
}

/** The operator's own namespace: where Secret references without a namespace point (CRD contract). */
export const DEFAULT_OPERATOR_NAMESPACE = "olares-operator";

/** Ready when every referenced Secret exists with every key; otherwise the first problem, Degraded. */
export async function secretPreconditions(
  client: Pick<ClusterClient, "get">,
  references: readonly SecretReference[],
  operatorNamespace: string = DEFAULT_OPERATOR_NAMESPACE,
): Promise<Readiness> {
  for (const use of references) {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Secret", name: use.name, namespace: use.namespace ?? operatorNamespace };
    const secret = await client.get(ref);
    if (!secret) {
      return { ready: false, reason: "SecretNotFound", message: `${use.field}: Secret ${ref.namespace}/${ref.name} not found`, degraded: true };
    }
    const missing = use.keys.map((k) => k.key).filter((k) => !hasKey(secret, k));
    if (missing.length) {
      return { ready: false, reason: "SecretKeyMissing", message: `${use.field}: Secret ${ref.namespace}/${ref.name} has no key ${missing.join(", ")}`, degraded: true };
    }
  }
  return { ready: true, reason: "SecretsPresent", message: "referenced Secrets present" };
}
