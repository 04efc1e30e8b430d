// Secrets the operator generates once: the owner's initial password (when spec.owner.passwordSecretRef
// is absent) and the core services' internal credentials. Created only when missing, never
// overwritten, never logged.
import { randomBytes } from "node:crypto";
import type { OlaresInstallationSpec } from "../api/index.js";
import type { KubeObject, ObjectRef, ObservedState, OwnerReference } from "../render/types.js";
import {
  CORE_CREDENTIALS_SECRET,
  FRAMEWORK_NAMESPACE,
  LABEL_INSTALLATION,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  MANAGED_BY,
  OWNER_PASSWORD_SECRET,
  SYSTEM_NAMESPACE,
} from "../render/names.js";
import { CORE_CREDENTIAL_KEYS } from "../render/stages/core-catalog.js";

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

export interface GeneratedSecret {
  namespace: string;
  name: string;
  component: string;
  keys: readonly string[];
}

export function generatedSecrets(spec: OlaresInstallationSpec, coreServicesEnabled: boolean): GeneratedSecret[] {
  const out: GeneratedSecret[] = [];
  if (!spec.owner?.passwordSecretRef) {
    out.push({ namespace: SYSTEM_NAMESPACE, name: OWNER_PASSWORD_SECRET, component: "owner", keys: ["password"] });
  }
  if (coreServicesEnabled) {
    out.push({ namespace: FRAMEWORK_NAMESPACE, name: CORE_CREDENTIALS_SECRET, component: "core-credentials", keys: CORE_CREDENTIAL_KEYS });
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
  secrets: GeneratedSecret[],
  installationName: string,
  owner: OwnerReference,
): Promise<string[]> {
  const created: string[] = [];
  for (const s of secrets) {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Secret", name: s.name, namespace: s.namespace };
    if (observed.get(ref) || (await client.get(ref))) continue;
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: s.name,
        namespace: s.namespace,
        labels: {
          [LABEL_MANAGED_BY]: MANAGED_BY,
          [LABEL_PART_OF]: "olares",
          [LABEL_NAME]: s.component,
          [LABEL_INSTALLATION]: installationName,
          "olares.com/generated": "true",
        },
        ownerReferences: [owner],
      },
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
