// Which lists merge by key (strategic merge patch, server-side apply) and which are atomic.
import type { Json } from "./types.js";

export type ListSemantics = { type: "map"; keys: string[] } | { type: "set" } | undefined;

/** Path of field names from the object root, list indices left out: ["spec","template","spec","containers"]. */
export type FieldNames = readonly string[];

export type ListSemanticsResolver = (names: FieldNames) => ListSemantics;

const CONTAINER_LISTS = new Set(["containers", "initContainers", "ephemeralContainers"]);

/** Merge keys of the built-in kinds (the patchMergeKey tags of k8s.io/api). */
export const builtinListSemantics: ListSemanticsResolver = (names) => {
  const field = names[names.length - 1];
  const parent = names[names.length - 2];
  if (CONTAINER_LISTS.has(field)) return { type: "map", keys: ["name"] };
  if (parent !== undefined && CONTAINER_LISTS.has(parent)) {
    if (field === "env") return { type: "map", keys: ["name"] };
    if (field === "ports") return { type: "map", keys: ["containerPort"] };
    if (field === "volumeMounts") return { type: "map", keys: ["mountPath"] };
    if (field === "volumeDevices") return { type: "map", keys: ["devicePath"] };
    return undefined;
  }
  if (field === "volumes" || field === "imagePullSecrets" || field === "resourceClaims") return { type: "map", keys: ["name"] };
  if (field === "hostAliases") return { type: "map", keys: ["ip"] };
  if (field === "conditions") return { type: "map", keys: ["type"] };
  if (field === "finalizers" && parent === "metadata") return { type: "set" };
  if (field === "ownerReferences" && parent === "metadata") return { type: "map", keys: ["uid"] };
  if (field === "ports" && names.length === 2 && names[0] === "spec") return { type: "map", keys: ["port"] };
  if (field === "addresses" && parent === "status" && names.length === 2) return { type: "map", keys: ["type"] };
  return undefined;
};

/** CRDs: x-kubernetes-list-type / x-kubernetes-list-map-keys from the structural schema. */
export function schemaListSemantics(schema: Json | undefined): ListSemanticsResolver {
  return (names) => {
    if (names[0] === "metadata") return builtinListSemantics(names);
    let node: Json = schema;
    for (const n of names) {
      if (!node) return undefined;
      if (node.type === "array") node = node.items;
      if (!node) return undefined;
      node = node.properties?.[n] ?? (node.additionalProperties && typeof node.additionalProperties === "object" ? node.additionalProperties : undefined);
    }
    if (!node || node.type !== "array") return undefined;
    if (node["x-kubernetes-list-type"] === "map") return { type: "map", keys: node["x-kubernetes-list-map-keys"] ?? [] };
    if (node["x-kubernetes-list-type"] === "set") return { type: "set" };
    return undefined;
  };
}
