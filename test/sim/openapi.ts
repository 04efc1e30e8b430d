// /openapi/v3: one document per group-version with the CRDs' schemas (and a few built-ins), enough for
// `kubectl explain` and for kubectl's server-side field validation check.
import { createHash } from "node:crypto";
import type { ResourceRegistry } from "./registry.js";
import type { Json, ResourceType } from "./types.js";

const META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/** Built-in kinds published with a minimal schema (no merge-key lists, so kubectl's apply is unaffected). */
const MINIMAL_BUILTINS: Record<string, Json> = {
  "/namespaces": { spec: { type: "object", description: "Spec defines the behavior of the Namespace.", properties: { finalizers: { type: "array", items: { type: "string" } } } }, status: { type: "object", description: "Status describes the current status of a Namespace.", properties: { phase: { type: "string" } } } },
  "/configmaps": { data: { type: "object", description: "Data contains the configuration data.", additionalProperties: { type: "string" } }, binaryData: { type: "object", additionalProperties: { type: "string", format: "byte" } }, immutable: { type: "boolean" } },
  "/secrets": { data: { type: "object", description: "Data contains the secret data, base64 encoded.", additionalProperties: { type: "string", format: "byte" } }, stringData: { type: "object", additionalProperties: { type: "string" } }, type: { type: "string" }, immutable: { type: "boolean" } },
  "/serviceaccounts": { automountServiceAccountToken: { type: "boolean" } },
  "coordination.k8s.io/leases": { spec: { type: "object", description: "Specification of the Lease.", properties: { holderIdentity: { type: "string" }, leaseDurationSeconds: { type: "integer", format: "int32" }, acquireTime: { type: "string", format: "date-time" }, renewTime: { type: "string", format: "date-time" }, leaseTransitions: { type: "integer", format: "int32" } } } },
};

const OBJECT_META: Json = {
  type: "object",
  description: "ObjectMeta is metadata that all persisted resources must have.",
  properties: {
    name: { type: "string", description: "Name must be unique within a namespace." },
    generateName: { type: "string" },
    namespace: { type: "string", description: "Namespace defines the space within which each name must be unique." },
    uid: { type: "string" },
    resourceVersion: { type: "string" },
    generation: { type: "integer", format: "int64" },
    creationTimestamp: { type: "string", format: "date-time" },
    deletionTimestamp: { type: "string", format: "date-time" },
    deletionGracePeriodSeconds: { type: "integer", format: "int64" },
    labels: { type: "object", additionalProperties: { type: "string" }, description: "Map of string keys and values that can be used to organize and categorize objects." },
    annotations: { type: "object", additionalProperties: { type: "string" }, description: "Annotations is an unstructured key value map." },
    finalizers: { type: "array", items: { type: "string" } },
    ownerReferences: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
    managedFields: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
  },
};

const definitionName = (rt: ResourceType, version: string): string => {
  const groupPart = rt.group ? rt.group.split(".").reverse().join(".") : "io.k8s.api.core";
  return `${groupPart}.${version}.${rt.kind}`;
};

function kindSchema(rt: ResourceType, version: string): Json | undefined {
  let props: Json;
  let base: Json = {};
  if (rt.crd) {
    const s = rt.crd.schemas[version];
    if (!s) return undefined;
    base = JSON.parse(JSON.stringify(s));
    props = base.properties ?? {};
  } else {
    const minimal = MINIMAL_BUILTINS[`${rt.group}/${rt.resource}`];
    if (!minimal) return undefined;
    props = JSON.parse(JSON.stringify(minimal));
    base = { type: "object", description: `${rt.kind} (simulator: minimal schema).` };
  }
  props.apiVersion ??= { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." };
  props.kind ??= { type: "string", description: "Kind is a string value representing the REST resource this object represents." };
  props.metadata = { allOf: [{ $ref: `#/components/schemas/${META_REF}` }], default: {}, description: "Standard object's metadata." };
  return { ...base, type: "object", properties: props, "x-kubernetes-group-version-kind": [{ group: rt.group, version, kind: rt.kind }] };
}

function operation(rt: ResourceType, version: string, action: string, withFieldValidation: boolean, hasSchema: boolean): Json {
  const params = withFieldValidation ? [{ name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } }] : [];
  return {
    operationId: `${action}${rt.kind}`,
    parameters: [...params, { name: "dryRun", in: "query", schema: { type: "string" } }, { name: "fieldManager", in: "query", schema: { type: "string" } }],
    responses: { "200": { description: "OK", ...(hasSchema ? { content: { "application/json": { schema: { $ref: `#/components/schemas/${definitionName(rt, version)}` } } } } : {}) } },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group: rt.group, version, kind: rt.kind },
  };
}

/**
 * Group-version paths ("api/v1", "apis/olares.com/v1alpha1") → documents. Every served resource gets its
 * paths (kubectl checks them for the fieldValidation parameter); schemas only where kindSchema has one.
 */
export function openApiDocuments(registry: ResourceRegistry): Map<string, Json> {
  const docs = new Map<string, Json>();
  for (const rt of registry.all()) {
    for (const version of rt.versions) {
      const schema = kindSchema(rt, version);
      const gvPath = rt.group ? `apis/${rt.group}/${version}` : `api/${version}`;
      let doc = docs.get(gvPath);
      if (!doc) {
        doc = {
          openapi: "3.0.0",
          info: { title: "Kubernetes", version: "v1.33.1" },
          paths: {},
          components: { schemas: { [META_REF]: OBJECT_META } },
        };
        docs.set(gvPath, doc);
      }
      if (schema) doc.components.schemas[definitionName(rt, version)] = schema;
      const op = (action: string, fv: boolean) => operation(rt, version, action, fv, schema !== undefined);
      const base = `/${gvPath}${rt.namespaced ? "/namespaces/{namespace}" : ""}/${rt.resource}`;
      doc.paths[base] = { get: op("list", false), post: op("post", true) };
      doc.paths[`${base}/{name}`] = { get: op("get", false), put: op("put", true), patch: op("patch", true), delete: op("delete", false) };
    }
  }
  return docs;
}

export const documentHash = (doc: Json): string => createHash("sha512").update(JSON.stringify(doc)).digest("hex").slice(0, 128).toUpperCase();

export function openApiIndex(docs: Map<string, Json>): Json {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [p, doc] of docs) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${documentHash(doc)}` };
  return { paths };
}
