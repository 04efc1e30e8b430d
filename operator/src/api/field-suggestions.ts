// "Did you mean": for a field the CRD does not declare, the declared sibling it most likely stands for
// (another case, a dash or underscore, a typo, a longer or shorter spelling such as bucketName or accessKey).
import type { JSONSchemaProps } from "./schema-validation.js";

const normalize = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");

/** Spellings no distance finds: what users write for a field, by the field's name. */
const ALIASES: Record<string, string[]> = {
  accessKeyIdKey: ["accesskey", "accesskeyid", "accessid", "accesskeykey"],
  secretAccessKeyKey: ["secretkey", "secretkeykey", "secretaccesskey"],
  sizeMiB: ["cachesize", "size", "sizemb", "sizegib", "sizegb"],
  credentialsSecretRef: ["secretref", "credentials", "credentialssecret", "secret"],
  urlSecretRef: ["secretref", "url", "urlsecret", "secret"],
  objectStore: ["storage", "objectstorage", "store", "bucketstore"],
};

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The schema node a field path ("spec.storage.juicefs.objectstore", "spec.x[0].y") sits in, if it resolves. */
function parentSchema(schema: JSONSchemaProps, fieldPath: string): { parent: JSONSchemaProps; name: string } | undefined {
  const parts = fieldPath.replace(/\[[^\]]*\]/g, ".[]").split(".").filter(Boolean);
  const name = parts.pop();
  if (!name || name === "[]") return undefined;
  let node: JSONSchemaProps | undefined = schema;
  for (const part of parts) {
    if (!node) return undefined;
    if (part === "[]") node = node.items as JSONSchemaProps | undefined ?? (typeof node.additionalProperties === "object" ? node.additionalProperties : undefined);
    else node = node.properties?.[part];
  }
  return node ? { parent: node, name } : undefined;
}

/** The declared field `fieldPath` most likely means, or undefined. */
export function suggestField(schema: JSONSchemaProps, fieldPath: string): string | undefined {
  const at = parentSchema(schema, fieldPath);
  const known = Object.keys(at?.parent.properties ?? {});
  if (!at || known.length === 0) return undefined;
  const wrong = normalize(at.name);
  const exact = known.find((k) => normalize(k) === wrong);
  if (exact) return exact;
  const aliased = known.find((k) => ALIASES[k]?.includes(wrong));
  if (aliased) return aliased;
  const near = known
    .map((k) => ({ k, d: editDistance(wrong, normalize(k)) }))
    .filter(({ k, d }) => d <= (Math.min(wrong.length, k.length) >= 6 ? 2 : 1))
    .sort((a, b) => a.d - b.d)[0];
  if (near) return near.k;
  // A longer or shorter spelling: bucketName → bucket, accessKeyId → accessKeyIdKey.
  const contained = known.filter((k) => {
    const n = normalize(k);
    return Math.min(n.length, wrong.length) >= 3 && (wrong.includes(n) || n.includes(wrong));
  });
  return contained.length === 1 ? contained[0] : undefined;
}
