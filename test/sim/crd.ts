// CustomResourceDefinitions: serving a CRD's resource once created (Established), structural schema
// processing for its objects, and cleanup of its objects when the CRD is deleted.
import type { SchemaProcessor, SimApi } from "./api.js";
import type { StatusCause } from "./errors.js";
import { nowIso } from "./objects.js";
import { applyDefaults, prune, validate } from "./structural-schema.js";
import { typeKeyOf, type Json, type KObj, type PrinterColumn, type ResourceType } from "./types.js";

const CRD_TYPE_KEY = typeKeyOf("apiextensions.k8s.io", "customresourcedefinitions");
const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";
const SYSTEM_MANAGER = "kube-apiserver";

export const crdSchemaProcessor: SchemaProcessor = {
  normalize(rt: ResourceType, version: string, obj: KObj): string[] {
    const schema = rt.crd?.schemas[version];
    if (!schema) return [];
    const unknown = rt.crd?.preserveUnknownFields ? [] : prune(schema, obj);
    applyDefaults(schema, obj);
    return unknown;
  },
  validate(rt: ResourceType, version: string, obj: KObj, old: KObj | undefined): StatusCause[] {
    const schema = rt.crd?.schemas[version];
    return schema ? validate(schema, obj, old) : [];
  },
};

/** The ResourceType a CRD serves, or undefined when its spec cannot be served. */
export function resourceTypeFromCrd(crd: KObj): ResourceType | undefined {
  const s = crd.spec ?? {};
  const versions: Json[] = (s.versions ?? []).filter((v: Json) => v.served !== false);
  if (!s.group || !s.names?.plural || !s.names?.kind || versions.length === 0) return undefined;
  // The storage version is served first so it is the one objects are stored at.
  versions.sort((a, b) => Number(Boolean(b.storage)) - Number(Boolean(a.storage)));
  const storage = versions[0];
  const schemas: Record<string, Json> = {};
  const printerColumns: Record<string, PrinterColumn[]> = {};
  for (const v of versions) {
    schemas[v.name] = v.schema?.openAPIV3Schema;
    printerColumns[v.name] = v.additionalPrinterColumns ?? [];
  }
  const scale = storage.subresources?.scale;
  return {
    group: s.group,
    versions: versions.map((v) => v.name),
    resource: s.names.plural,
    kind: s.names.kind,
    listKind: s.names.listKind ?? `${s.names.kind}List`,
    singular: s.names.singular ?? s.names.kind.toLowerCase(),
    namespaced: s.scope === "Namespaced",
    shortNames: s.names.shortNames ?? [],
    categories: s.names.categories ?? [],
    verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
    statusSubresource: storage.subresources?.status !== undefined,
    scale: scale ? { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath, labelSelectorPath: scale.labelSelectorPath } : undefined,
    extraSubresources: [],
    selectableFields: (storage.selectableFields ?? []).map((f: Json) => String(f.jsonPath).replace(/^\./, "")),
    crd: { crdName: crd.metadata.name!, schemas, printerColumns, preserveUnknownFields: s.preserveUnknownFields === true },
  };
}

/** Keeps the registry in step with CRDs: serve on create/update, clean up and stop serving on delete. */
export function startCrdController(api: SimApi): () => void {
  const crdRt = api.registry.get("apiextensions.k8s.io", "customresourcedefinitions")!;
  const pending = new Set<string>();
  const sync = (name: string) => {
    pending.delete(name);
    try {
      syncOnce(name);
    } catch (e) {
      // A concurrent writer won; the next event retries.
      void e;
    }
  };
  const syncOnce = (name: string) => {
    const crd = api.tryGet(crdRt, undefined, name);
    if (!crd) return;
    const rt = resourceTypeFromCrd(crd);
    if (crd.metadata.deletionTimestamp) {
      if (rt) {
        for (const o of api.store.list(typeKeyOf(rt.group, rt.resource))) {
          if (!o.metadata.deletionTimestamp) api.delete(rt, o.metadata.namespace, o.metadata.name!);
        }
        if (api.store.count(typeKeyOf(rt.group, rt.resource)) > 0) return;
        api.registry.remove(rt.group, rt.resource);
      }
      const finalizers = (crd.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
      if (finalizers.length !== (crd.metadata.finalizers ?? []).length) {
        api.update(crdRt, undefined, name, { ...crd, metadata: { ...crd.metadata, finalizers } }, { fieldManager: SYSTEM_MANAGER });
      }
      return;
    }
    if (!rt) return;
    const existing = api.registry.get(rt.group, rt.resource);
    if (existing && existing.crd?.crdName !== name) return;
    api.registry.add(rt);
    const now = nowIso();
    const conditions = [
      { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found", lastTransitionTime: now },
      { type: "Established", status: "True", reason: "InitialNamesAccepted", message: "the initial names have been accepted", lastTransitionTime: now },
    ];
    const prevConds: Json[] = crd.status?.conditions ?? [];
    const merged = conditions.map((c) => prevConds.find((p) => p.type === c.type && p.status === c.status) ?? c);
    const status = {
      conditions: merged,
      acceptedNames: { ...crd.spec.names, listKind: rt.listKind, singular: rt.singular },
      storedVersions: [...new Set([...(crd.status?.storedVersions ?? []), rt.versions[0]])],
    };
    api.update(crdRt, undefined, name, { ...crd, status }, { fieldManager: SYSTEM_MANAGER }, "status");
  };
  const unsubscribeCrds = api.store.subscribe(CRD_TYPE_KEY, (ev) => {
    const name = ev.obj.metadata.name!;
    if (ev.type === "DELETED") {
      const rt = resourceTypeFromCrd(ev.obj);
      if (rt && api.registry.get(rt.group, rt.resource)?.crd?.crdName === name) api.registry.remove(rt.group, rt.resource);
      return;
    }
    if (!pending.has(name)) {
      pending.add(name);
      queueMicrotask(() => sync(name));
    }
  });
  // Deleting the last object of a CRD being deleted lets the CRD go.
  const unsubscribeAll = api.store.subscribe("*", (ev) => {
    if (ev.type !== "DELETED") return;
    const rt = api.registry.all().find((r) => r.crd && typeKeyOf(r.group, r.resource) === ev.typeKey);
    if (!rt?.crd) return;
    const crdName = rt.crd.crdName;
    if (!pending.has(crdName) && api.tryGet(crdRt, undefined, crdName)?.metadata.deletionTimestamp) {
      pending.add(crdName);
      queueMicrotask(() => sync(crdName));
    }
  });
  return () => {
    unsubscribeCrds();
    unsubscribeAll();
  };
}
