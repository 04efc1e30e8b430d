// Stage hook GeneratedSecrets: Secrets the operator generates once (render says which). Created only
// when missing, never overwritten, never logged.
import { randomBytes } from "node:crypto";
import type { GeneratedSecret, KubeObject, ObjectRef, ObservedState, OwnerReference } from "../contract/index.js";

/** What creating a Secret needs: a strict create (409 when it exists), so a race never overwrites. */
export interface SecretCreator {
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  create(obj: KubeObject): Promise<KubeObject>;
}

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/** Random password from an unambiguous alphabet (rejection sampling: no modulo bias). */
export function randomPassword(length = 24): string {
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 256 - (256 % ALPHABET.length) && out.length < length) out += ALPHABET[b % ALPHABET.length];
    }
  }
  return out;
}

function isAlreadyExists(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { status?: number }).status === 409;
}

/** Creates each missing Secret; returns the names it created. */
export async function ensureGeneratedSecrets(
  client: SecretCreator,
  observed: ObservedState,
  secrets: readonly GeneratedSecret[],
  ownerReferences: OwnerReference[],
): Promise<string[]> {
  const created: string[] = [];
  for (const s of secrets) {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Secret", name: s.name, namespace: s.namespace };
    if (observed.get(ref) || (await client.get(ref))) continue;
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: s.name, namespace: s.namespace, labels: { ...s.labels }, ownerReferences },
      type: "Opaque",
      stringData: Object.fromEntries(s.keys.map((k) => [k, randomPassword()])),
    };
    try {
      await client.create(secret);
      created.push(`${s.namespace}/${s.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  return created;
}
