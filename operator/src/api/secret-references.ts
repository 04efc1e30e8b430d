// The one list of Secrets a spec references, with the stage that reads each and the keys it needs.
// The controller checks them in-cluster (stage hook SecretReferences); `validate` checks them against
// Secrets in the same file. Only references the spec actually uses are listed.
import type { SecretReference, StageName } from "../contract/index.js";
import type { OlaresInstallationSpec } from "./types.generated.js";

export interface StageSecretReference extends SecretReference {
  stage: StageName;
}

function ns(namespace: string | undefined): { namespace?: string } {
  return namespace ? { namespace } : {};
}

/** Every Secret reference in use, in stage order. Key defaults are the CRD's (applied here too, for raw specs). */
export function secretReferences(spec: OlaresInstallationSpec): StageSecretReference[] {
  const refs: StageSecretReference[] = [];
  const password = spec.owner?.passwordSecretRef;
  if (password) {
    const field = "spec.owner.passwordSecretRef";
    refs.push({ stage: "Prerequisites", field, name: password.name, ...ns(password.namespace), keys: [{ field: `${field}.key`, key: password.key ?? "password" }] });
  }
  const jfs = spec.storage?.type === "JuiceFS" ? spec.storage.juicefs : undefined;
  const url = jfs?.metadata?.urlSecretRef;
  if (jfs?.metadata?.type === "External" && url) {
    const field = "spec.storage.juicefs.metadata.urlSecretRef";
    refs.push({ stage: "Storage", field, name: url.name, ...ns(url.namespace), keys: [{ field: `${field}.key`, key: url.key ?? "url" }] });
  }
  const creds = jfs?.objectStore?.credentialsSecretRef;
  if (creds && jfs?.objectStore?.type !== "ManagedMinIO") {
    const field = "spec.storage.juicefs.objectStore.credentialsSecretRef";
    refs.push({
      stage: "Storage",
      field,
      name: creds.name,
      ...ns(creds.namespace),
      keys: [
        { field: `${field}.accessKeyIdKey`, key: creds.accessKeyIdKey ?? "AWS_ACCESS_KEY_ID" },
        { field: `${field}.secretAccessKeyKey`, key: creds.secretAccessKeyKey ?? "AWS_SECRET_ACCESS_KEY" },
        ...(creds.sessionTokenKey ? [{ field: `${field}.sessionTokenKey`, key: creds.sessionTokenKey }] : []),
      ],
    });
  }
  return refs;
}

/** The references one stage reads. */
export function stageSecretReferences(spec: OlaresInstallationSpec, stage: StageName): SecretReference[] {
  return secretReferences(spec)
    .filter((r) => r.stage === stage)
    .map(({ stage: _stage, ...ref }) => ref);
}
