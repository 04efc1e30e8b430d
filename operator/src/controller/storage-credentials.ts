// The one Secret a node agent reads for storage (olares-storage-credentials in the agents' namespace):
// built from the generated Secret (managed Redis/MinIO passwords, strict create, never rotated) and the
// keys the spec references (credentialsSecretRef, urlSecretRef). Its values never leave Secrets: the
// node config carries only the name and a hash of them.
import {
  STORAGE_CREDENTIALS_SECRET,
  STORAGE_CREDENTIAL_KEYS,
  storageCredentialsHash,
  type KubeObject,
  type ObjectRef,
  type StorageCredentialsSource,
  type StorageHookData,
  type StorageSecretKeyRef,
} from "../contract/index.js";
import type { ReconcileClient } from "./reconciler.js";

export type CredentialsResult = { ready: true; hash: string } | { ready: false; message: string };

const decode = (v: string) => Buffer.from(v, "base64").toString("utf8");

async function secretData(client: ReconcileClient, ref: ObjectRef): Promise<Record<string, string> | undefined> {
  const s = await client.get(ref);
  if (!s) return undefined;
  // stringData only on a stand-in that does not fold it into data (the API server always does)
  return { ...((s["stringData"] ?? {}) as Record<string, string>), ...Object.fromEntries(Object.entries((s["data"] ?? {}) as Record<string, string>).map(([k, v]) => [k, decode(v)])) };
}

async function userKey(client: ReconcileClient, ref: StorageSecretKeyRef, operatorNamespace: string): Promise<string | { missing: string }> {
  const ns = ref.namespace ?? operatorNamespace;
  const data = await secretData(client, { apiVersion: "v1", kind: "Secret", namespace: ns, name: ref.name });
  if (!data) return { missing: `${ref.field}: Secret ${ns}/${ref.name} not found` };
  const v = data[ref.key];
  if (!v) return { missing: `${ref.field}: Secret ${ns}/${ref.name} has no key ${ref.key}` };
  return v;
}

/** The credentials Secret's data for this source, or what is missing. */
export async function credentialsData(client: ReconcileClient, src: StorageCredentialsSource, operatorNamespace: string): Promise<Record<string, string> | { missing: string }> {
  const k = STORAGE_CREDENTIAL_KEYS;
  const out: Record<string, string> = {};
  if (src.managedRedis || src.managedMinioRootUser) {
    const gen = await secretData(client, { apiVersion: "v1", kind: "Secret", namespace: src.generated.namespace, name: src.generated.name });
    if (!gen) return { missing: `Secret ${src.generated.namespace}/${src.generated.name} (generated) does not exist yet` };
    if (src.managedRedis) out[k.metaPassword] = gen["redis-password"] ?? "";
    if (src.managedMinioRootUser) {
      out[k.accessKey] = src.managedMinioRootUser;
      out[k.secretKey] = gen["minio-root-password"] ?? "";
      out[k.minioRootPassword] = gen["minio-root-password"] ?? "";
    }
  }
  const refs: Array<[string, StorageSecretKeyRef | undefined]> = [
    [k.metaUrl, src.metaUrl],
    [k.accessKey, src.accessKey],
    [k.secretKey, src.secretKey],
    [k.sessionToken, src.sessionToken],
  ];
  for (const [key, ref] of refs) {
    if (!ref) continue;
    const v = await userKey(client, ref, operatorNamespace);
    if (typeof v !== "string") return v;
    out[key] = v;
  }
  return out;
}

/** Creates or updates the credentials Secret; returns the hash the node configs carry. */
export async function ensureCredentialsSecret(client: ReconcileClient, hook: StorageHookData, namespace: string, operatorNamespace: string): Promise<CredentialsResult> {
  if (!hook.credentials) return { ready: false, message: "no JuiceFS settings (spec.storage.juicefs) to take credentials from" };
  const data = await credentialsData(client, hook.credentials, operatorNamespace);
  if ("missing" in data && typeof data.missing === "string" && Object.keys(data).length === 1) return { ready: false, message: data.missing };
  const values = data as Record<string, string>;
  const hash = storageCredentialsHash(values);
  const ref: ObjectRef = { apiVersion: "v1", kind: "Secret", namespace, name: STORAGE_CREDENTIALS_SECRET };
  const current = await secretData(client, ref);
  if (!current || storageCredentialsHash(current) !== hash) {
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: STORAGE_CREDENTIALS_SECRET, namespace, labels: { ...hook.labels }, ownerReferences: hook.ownerReferences },
      type: "Opaque",
      data: Object.fromEntries(Object.entries(values).map(([key, v]) => [key, Buffer.from(v, "utf8").toString("base64")])),
    };
    await client.apply(secret, { force: true });
  }
  return { ready: true, hash };
}
