// The apiserver's REST semantics over the object store: create/update/patch/apply/delete, subresources,
// optimistic concurrency, generation, managed fields, finalizers, dry runs.
import { randomUUID } from "node:crypto";
import YAML from "yaml";
import {
  ApiError, MODIFIED_MESSAGE, alreadyExists, badRequest, conflict, forbidden, invalid, notFound,
  successStatus, tooManyRequests, unsupportedMediaType, type StatusBody, type StatusCause,
} from "./errors.js";
import { builtinListSemantics, schemaListSemantics, type ListSemanticsResolver } from "./list-semantics.js";
import { recordUpdate, serverSideApply, type Scope } from "./managed-fields.js";
import { clone, deepEqual, getPath, isPlainObject, nowIso, randomSuffix, setPath, specPart } from "./objects.js";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.js";
import type { ResourceRegistry } from "./registry.js";
import { immutableFieldCauses, tracksGeneration } from "./immutable.js";
import { fieldMatcher, labelMatcher, labelSelectorObjectMatcher, labelSelectorToString } from "./selectors.js";
import type { ObjectStore } from "./store.js";
import { apiVersionOf, typeKeyOf, type Json, type KObj, type ResourceType } from "./types.js";

export interface WriteOptions {
  fieldManager?: string;
  /** Used to derive a manager name when fieldManager is absent (like the apiserver does). */
  userAgent?: string;
  dryRun?: boolean;
  /** Strict | Warn | Ignore (kubectl sends Strict). */
  fieldValidation?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

export type PatchType = "merge" | "json" | "strategic" | "apply";

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
  "application/apply-patch+cbor": "apply",
};

/** CRD-specific processing (defaulting, pruning, validation); supplied by crd.ts. */
export interface SchemaProcessor {
  /** Defaults + prunes in place; returns paths of pruned unknown fields. */
  normalize(rt: ResourceType, version: string, obj: KObj): string[];
  validate(rt: ResourceType, version: string, obj: KObj, old: KObj | undefined): StatusCause[];
}

export interface DeleteResult {
  /** The object as it is now (with deletionTimestamp) or as it was when removed. */
  object: KObj;
  removed: boolean;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class SimApi {
  schema?: SchemaProcessor;
  /** Hook run before every write that reaches the store (fault injection). */
  beforeWrite?: (rt: ResourceType, name: string) => void;

  constructor(
    readonly store: ObjectStore,
    readonly registry: ResourceRegistry,
  ) {}

  typeKey(rt: ResourceType): string {
    return typeKeyOf(rt.group, rt.resource);
  }

  listSemantics(rt: ResourceType): ListSemanticsResolver {
    return rt.crd ? schemaListSemantics(rt.crd.schemas[rt.versions[0]]) : builtinListSemantics;
  }

  /** The object as served at `version` (only apiVersion differs between served CRD versions). */
  present(rt: ResourceType, obj: KObj, version = rt.versions[0]): KObj {
    const apiVersion = apiVersionOf(rt.group, version);
    return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
  }

  resolve(apiVersion: string, kind: string): ResourceType {
    const rt = this.registry.byKind(apiVersion, kind);
    if (!rt) throw notFound({ group: "", resource: kind }, `${apiVersion} ${kind}`);
    return rt;
  }

  // ---- reads ----

  get(rt: ResourceType, namespace: string | undefined, name: string): KObj {
    const obj = this.store.get(this.typeKey(rt), rt.namespaced ? namespace ?? "" : "", name);
    if (!obj) throw notFound(rt, name);
    return obj;
  }

  tryGet(rt: ResourceType, namespace: string | undefined, name: string): KObj | undefined {
    return this.store.get(this.typeKey(rt), rt.namespaced ? namespace ?? "" : "", name);
  }

  list(rt: ResourceType, namespace: string | undefined, opts: ListOptions = {}): { items: KObj[]; resourceVersion: string; continue?: string; remainingItemCount?: number } {
    const lm = labelMatcher(opts.labelSelector);
    const fm = fieldMatcher(opts.fieldSelector, rt.selectableFields, rt.kind);
    const all = this.store.list(this.typeKey(rt), rt.namespaced ? namespace : undefined);
    let items = lm || fm ? all.filter((o) => (!lm || lm(o)) && (!fm || fm(o))) : all;
    let start = 0;
    const rv = String(this.store.resourceVersion);
    if (opts.continue) {
      try {
        const token = JSON.parse(Buffer.from(opts.continue, "base64").toString("utf8")) as { start: string };
        start = items.findIndex((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}` > token.start);
        if (start < 0) start = items.length;
      } catch {
        throw badRequest(`continue key is not valid: ${opts.continue}`);
      }
    }
    items = items.slice(start);
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      const last = page[page.length - 1];
      const token = Buffer.from(JSON.stringify({ start: `${last.metadata.namespace ?? ""}/${last.metadata.name}` })).toString("base64");
      return { items: page, resourceVersion: rv, continue: token, remainingItemCount: items.length - opts.limit };
    }
    return { items, resourceVersion: rv };
  }

  // ---- writes ----

  private managerName(opts: WriteOptions): string {
    if (opts.fieldManager) return opts.fieldManager;
    const ua = opts.userAgent ?? "unknown";
    return ua.split("/")[0] || "unknown";
  }

  private requireNamespace(rt: ResourceType, namespace: string | undefined, name: string, creating: boolean): void {
    if (!rt.namespaced) return;
    if (!namespace) throw badRequest("the server could not find the requested resource: a namespace is required");
    const ns = this.store.get("/namespaces", "", namespace);
    if (!ns) throw notFound({ group: "", resource: "namespaces" }, namespace);
    if (creating && ns.metadata.deletionTimestamp) {
      throw forbidden(rt, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private validateBasics(rt: ResourceType, obj: KObj): StatusCause[] {
    const causes: StatusCause[] = [];
    const name = obj.metadata.name;
    if (!name) causes.push({ reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" });
    else if (!NAME_RE.test(name) || name.length > 253) {
      causes.push({ reason: "FieldValueInvalid", message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`, field: "metadata.name" });
    }
    for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) {
      if (typeof v !== "string" || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) {
        causes.push({ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, field: `metadata.labels` });
      }
      void k;
    }
    if (rt.group === "apps" && (rt.resource === "deployments" || rt.resource === "statefulsets" || rt.resource === "daemonsets" || rt.resource === "replicasets")) {
      const sel = obj.spec?.selector;
      if (!sel) causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.selector" });
      else if (!labelSelectorObjectMatcher(sel)(obj.spec?.template?.metadata?.labels ?? {})) {
        causes.push({ reason: "FieldValueInvalid", message: "Invalid value: map[string]string(nil): `selector` does not match template `labels`", field: "spec.template.metadata.labels" });
      }
    }
    if (rt.group === "" && rt.resource === "pods" && !(Array.isArray(obj.spec?.containers) && obj.spec.containers.length > 0)) {
      causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.containers" });
    }
    if (rt.resource === "customresourcedefinitions") causes.push(...validateCrd(obj));
    return causes;
  }

  /**
   * Shared tail of every write: schema processing, validation, metadata bookkeeping, no-op detection,
   * storage. `old` undefined means create.
   */
  private commit(rt: ResourceType, old: KObj | undefined, next: KObj, opts: WriteOptions, scope: Scope, managedFieldsDone = false): KObj {
    const version = rt.versions[0];
    next.apiVersion = apiVersionOf(rt.group, version);
    next.kind = rt.kind;
    if (!isPlainObject(next.metadata)) next.metadata = {};
    if (old) {
      // System metadata is owned by the server.
      next.metadata.name = old.metadata.name;
      next.metadata.namespace = old.metadata.namespace;
      next.metadata.uid = old.metadata.uid;
      next.metadata.creationTimestamp = old.metadata.creationTimestamp;
      next.metadata.generation = old.metadata.generation;
      next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
      next.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      if (old.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
        if (added.length > 0) {
          throw invalid(rt.kind, rt.group, old.metadata.name!, [{ reason: "FieldValueForbidden", message: "Forbidden: no new finalizers can be added if the object is being deleted", field: "metadata.finalizers" }]);
        }
      }
      if (rt.statusSubresource) {
        if (scope === "main") {
          if (old.status === undefined) delete next.status;
          else next.status = old.status;
        } else {
          // The status endpoint changes status only.
          const status = next.status;
          const meta = next.metadata;
          next = { ...clone(old), status };
          if (status === undefined) delete next.status;
          next.metadata.managedFields = meta.managedFields;
        }
      }
    } else {
      if (rt.statusSubresource && rt.crd) delete next.status;
    }
    for (const k of Object.keys(next.metadata)) if (next.metadata[k] === undefined || next.metadata[k] === null) delete next.metadata[k];
    if (rt.group === "" && rt.resource === "secrets" && isPlainObject(next.stringData)) {
      // stringData is write-only: merged into data, base64-encoded.
      next.data = { ...(next.data ?? {}) };
      for (const [k, v] of Object.entries(next.stringData)) next.data[k] = Buffer.from(String(v)).toString("base64");
      delete next.stringData;
    }

    const pruned = rt.crd && this.schema ? this.schema.normalize(rt, version, next) : [];
    if (pruned.length > 0 && opts.fieldValidation === "Strict") {
      throw badRequest(`strict decoding error: ${pruned.map((p) => `unknown field "${p}"`).join(", ")}`);
    }
    const causes = [
      ...this.validateBasics(rt, next),
      ...(old && scope === "main" ? immutableFieldCauses(rt, old, next) : []),
      ...(rt.crd && this.schema ? this.schema.validate(rt, version, next, old) : []),
    ];
    if (causes.length > 0) throw invalid(rt.kind, rt.group, next.metadata.name ?? "", causes);

    if (!tracksGeneration(rt)) delete next.metadata.generation;
    else if (old) {
      if (!deepEqual(specPart(old), specPart(next))) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    } else next.metadata.generation = 1;

    if (!managedFieldsDone) {
      const mf = recordUpdate(old, next, {
        manager: this.managerName(opts),
        apiVersion: next.apiVersion,
        scope,
        statusSeparate: rt.statusSubresource,
        lists: this.listSemantics(rt),
      });
      if (mf) next.metadata.managedFields = mf;
      else delete next.metadata.managedFields;
    }

    if (old) {
      const a = { ...old, metadata: { ...old.metadata, resourceVersion: undefined, managedFields: undefined } };
      const b = { ...next, metadata: { ...next.metadata, resourceVersion: undefined, managedFields: undefined } };
      if (deepEqual(a, b) && deepEqual(stripTimes(old.metadata.managedFields), stripTimes(next.metadata.managedFields))) return old;
    }
    if (opts.dryRun) {
      next.metadata.resourceVersion = old?.metadata.resourceVersion;
      if (!next.metadata.resourceVersion) delete next.metadata.resourceVersion;
      return next;
    }
    this.beforeWrite?.(rt, next.metadata.name!);
    const rv = this.store.nextResourceVersion();
    next.metadata.resourceVersion = String(rv);
    const typeKey = this.typeKey(rt);
    if (old && next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0 && !namespaceHoldsSpecFinalizers(rt, next)) {
      this.store.remove(typeKey, next.metadata.namespace ?? "", next.metadata.name!, next);
      return next;
    }
    this.store.put(typeKey, next, old ? "MODIFIED" : "ADDED");
    return next;
  }

  create(rt: ResourceType, namespace: string | undefined, body: KObj, opts: WriteOptions = {}): KObj {
    if (!isPlainObject(body)) throw badRequest("request body must be a JSON object");
    const obj = clone(body);
    obj.metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
    if (rt.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace;
    } else delete obj.metadata.namespace;
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    const name = obj.metadata.name ?? "";
    this.requireNamespace(rt, obj.metadata.namespace, name, true);
    if (name && this.tryGet(rt, obj.metadata.namespace, name)) throw alreadyExists(rt, name);
    if (obj.metadata.resourceVersion) throw badRequest("resourceVersion should not be set on objects to be created");
    for (const k of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields", "selfLink"]) delete obj.metadata[k];
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = nowIso();
    this.defaultsOnCreate(rt, obj);
    return this.commit(rt, undefined, obj, opts, "main");
  }

  /** What the built-in registries fill in on create. */
  private defaultsOnCreate(rt: ResourceType, obj: KObj): void {
    if (rt.group === "" && rt.resource === "namespaces") {
      obj.spec = { finalizers: ["kubernetes"], ...(obj.spec ?? {}) };
      obj.status = { phase: "Active" };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": obj.metadata.name! };
    }
    if (rt.group === "" && rt.resource === "pods") {
      obj.status = { phase: "Pending", qosClass: "BestEffort", ...(obj.status ?? {}) };
      obj.spec.restartPolicy ??= "Always";
      obj.spec.schedulerName ??= "default-scheduler";
      obj.spec.serviceAccountName ??= "default";
    }
    if (rt.group === "" && rt.resource === "secrets") obj.type ??= "Opaque";
    if (rt.group === "" && rt.resource === "services") {
      obj.spec = obj.spec ?? {};
      obj.spec.type ??= "ClusterIP";
      if (obj.spec.clusterIP === undefined) obj.spec.clusterIP = `10.43.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
      obj.spec.clusterIPs ??= [obj.spec.clusterIP];
    }
    if (rt.group === "apps" && (rt.resource === "deployments" || rt.resource === "statefulsets")) obj.spec.replicas ??= 1;
    if (rt.group === "apps" && rt.resource === "deployments") obj.spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
    if (rt.group === "apps" && rt.resource === "daemonsets") obj.spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
    if (rt.group === "apps" && rt.resource === "statefulsets") {
      obj.spec.podManagementPolicy ??= "OrderedReady";
      obj.spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { partition: 0 } };
    }
    if (rt.group === "batch" && rt.resource === "jobs") {
      obj.spec.completions ??= 1;
      obj.spec.parallelism ??= 1;
      obj.spec.backoffLimit ??= 6;
      obj.spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": obj.metadata.uid! } };
      obj.spec.template = obj.spec.template ?? {};
      obj.spec.template.metadata = obj.spec.template.metadata ?? {};
      obj.spec.template.metadata.labels = { ...(obj.spec.template.metadata.labels ?? {}), "batch.kubernetes.io/controller-uid": obj.metadata.uid!, "batch.kubernetes.io/job-name": obj.metadata.name! };
    }
    if (rt.resource === "customresourcedefinitions") {
      obj.metadata.finalizers = [...new Set([...(obj.metadata.finalizers ?? []), "customresourcecleanup.apiextensions.k8s.io"])];
    }
  }

  update(rt: ResourceType, namespace: string | undefined, name: string, body: KObj, opts: WriteOptions = {}, scope: Scope = "main"): KObj {
    if (!isPlainObject(body) || !isPlainObject(body.metadata)) throw badRequest("request body must be an object with metadata");
    if (body.metadata.name && body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    const old = this.tryGet(rt, namespace, name);
    if (!old) {
      if (scope === "main" && rt.crd === undefined && rt.resource !== "pods") {
        // PUT creates for kinds that allow create-on-update (most built-ins).
        return this.create(rt, namespace, { ...body, metadata: { ...body.metadata, name, resourceVersion: undefined } }, opts);
      }
      throw notFound(rt, name);
    }
    const rv = body.metadata.resourceVersion;
    if (rv === undefined || rv === "") {
      if (rt.crd) throw invalid(rt.kind, rt.group, name, [{ reason: "FieldValueInvalid", message: "Invalid value: 0x0: must be specified for an update", field: "metadata.resourceVersion" }]);
    } else if (rv !== old.metadata.resourceVersion) throw conflict(rt, name, MODIFIED_MESSAGE);
    const next = clone(body);
    next.metadata.namespace = old.metadata.namespace;
    return this.commit(rt, old, next, opts, scope);
  }

  patch(rt: ResourceType, namespace: string | undefined, name: string, type: PatchType, body: Json, opts: WriteOptions & { force?: boolean } = {}, scope: Scope = "main"): KObj {
    if (type === "apply") return this.apply(rt, namespace, name, body, opts, scope);
    const old = this.get(rt, namespace, name);
    let next: Json;
    if (type === "merge") next = mergePatch(clone(old), body);
    else if (type === "json") next = jsonPatch(old, body);
    else {
      if (rt.crd) throw unsupportedMediaType("application/strategic-merge-patch+json");
      next = strategicMergePatch(clone(old), body, this.listSemantics(rt));
    }
    if (!isPlainObject(next)) throw badRequest("patch must produce an object");
    const rv = next.metadata?.resourceVersion;
    if (rv !== undefined && rv !== old.metadata.resourceVersion) throw conflict(rt, name, MODIFIED_MESSAGE);
    if (next.metadata?.name !== undefined && next.metadata.name !== name) throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
    return this.commit(rt, old, next as KObj, opts, scope);
  }

  /** A non-apply patch applied to a plain value (the scale subresource). */
  patchValue(value: Json, type: Exclude<PatchType, "apply">, body: Json): Json {
    if (type === "merge") return mergePatch(clone(value), body);
    if (type === "json") return jsonPatch(value, body);
    return strategicMergePatch(clone(value), body, builtinListSemantics);
  }

  apply(rt: ResourceType, namespace: string | undefined, name: string, body: Json, opts: WriteOptions & { force?: boolean }, scope: Scope = "main"): KObj {
    if (!opts.fieldManager) throw badRequest("PATCH, application/apply-patch+yaml: fieldManager is required for apply requests");
    let applied: Json = body;
    if (typeof body === "string" || Buffer.isBuffer(body)) {
      try {
        applied = YAML.parse(String(body));
      } catch (e) {
        throw badRequest(`error decoding YAML: ${(e as Error).message}`);
      }
    }
    if (!isPlainObject(applied)) throw badRequest("apply configuration must be an object");
    if (!applied.apiVersion || !applied.kind) throw badRequest("apiVersion and kind must be set in an apply configuration");
    applied.metadata = isPlainObject(applied.metadata) ? applied.metadata : {};
    if (applied.metadata.name !== undefined && applied.metadata.name !== name) throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
    applied.metadata.name = name;
    if (rt.namespaced) applied.metadata.namespace = namespace;
    const old = this.tryGet(rt, namespace, name);
    if (!old && scope === "status") throw notFound(rt, name);
    if (old && applied.metadata.resourceVersion !== undefined && applied.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(rt, name, MODIFIED_MESSAGE);
    }
    const ctx = { manager: opts.fieldManager, apiVersion: apiVersionOf(rt.group, rt.versions[0]), scope, statusSeparate: rt.statusSubresource, lists: this.listSemantics(rt) };
    if (!old) {
      this.requireNamespace(rt, namespace, name, true);
      const { object } = serverSideApply(undefined, applied as KObj, ctx, true);
      object.metadata.name = name;
      if (rt.namespaced) object.metadata.namespace = namespace;
      object.metadata.uid = randomUUID();
      object.metadata.creationTimestamp = nowIso();
      this.defaultsOnCreate(rt, object);
      return this.commit(rt, undefined, object, opts, scope, true);
    }
    const { object, noop } = serverSideApply(old, applied as KObj, ctx, opts.force === true);
    if (noop) return old;
    return this.commit(rt, old, object, opts, scope, true);
  }

  delete(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): DeleteResult {
    const old = this.get(rt, namespace, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(rt, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(rt, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const policy = opts.propagationPolicy ?? "Background";
    const finalizers = [...(old.metadata.finalizers ?? [])];
    const hasDependents = this.store.dependentsOf(old.metadata.uid!).length > 0;
    if (policy === "Foreground" && hasDependents && !finalizers.includes("foregroundDeletion")) finalizers.push("foregroundDeletion");
    if (policy === "Orphan" && hasDependents && !finalizers.includes("orphan")) finalizers.push("orphan");
    const isNamespace = rt.group === "" && rt.resource === "namespaces";
    if (finalizers.length === 0 && !isNamespace) {
      if (opts.dryRun) return { object: old, removed: true };
      this.beforeWrite?.(rt, name);
      const ev = this.store.remove(this.typeKey(rt), old.metadata.namespace ?? "", name);
      return { object: ev!.obj, removed: true };
    }
    if (old.metadata.deletionTimestamp && deepEqual(finalizers, old.metadata.finalizers ?? [])) return { object: old, removed: false };
    const next = clone(old);
    next.metadata.finalizers = finalizers;
    if (!next.metadata.deletionTimestamp && (next.metadata.generation ?? 0) > 0) next.metadata.generation = next.metadata.generation! + 1;
    next.metadata.deletionTimestamp ??= nowIso();
    next.metadata.deletionGracePeriodSeconds ??= 0;
    if (isNamespace) next.status = { ...(next.status ?? {}), phase: "Terminating" };
    if (opts.dryRun) return { object: next, removed: false };
    this.beforeWrite?.(rt, name);
    next.metadata.resourceVersion = String(this.store.nextResourceVersion());
    this.store.put(this.typeKey(rt), next, "MODIFIED");
    return { object: next, removed: false };
  }

  deleteCollection(rt: ResourceType, namespace: string | undefined, list: ListOptions, opts: DeleteOptions = {}): KObj[] {
    const { items } = this.list(rt, namespace, list);
    return items.map((o) => this.delete(rt, o.metadata.namespace, o.metadata.name!, opts).object);
  }

  deleteStatus(rt: ResourceType, result: DeleteResult): { code: number; body: KObj | StatusBody } {
    // kube-apiserver answers 200 with the object while finalizers hold it (202 only for the deprecated
    // orphanDependents=false, which this simulator maps to Background).
    if (!result.removed) return { code: 200, body: result.object };
    if (rt.crd) return { code: 200, body: result.object };
    const details: StatusBody["details"] = { name: result.object.metadata.name, kind: rt.resource, uid: result.object.metadata.uid };
    if (rt.group) details.group = rt.group;
    return { code: 200, body: successStatus(details) };
  }

  // ---- subresources ----

  getScale(rt: ResourceType, namespace: string | undefined, name: string): KObj {
    if (!rt.scale) throw notFound(rt, `${name}/scale`);
    const obj = this.get(rt, namespace, name);
    const selector = rt.scale.labelSelectorPath ? getPath(obj, rt.scale.labelSelectorPath) : undefined;
    return {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
      spec: { replicas: (getPath(obj, rt.scale.specReplicasPath) as number | undefined) ?? 0 },
      status: {
        replicas: (getPath(obj, rt.scale.statusReplicasPath) as number | undefined) ?? 0,
        selector: typeof selector === "string" ? selector : labelSelectorToString(selector as never),
      },
    };
  }

  writeScale(rt: ResourceType, namespace: string | undefined, name: string, change: (scale: KObj) => Json, opts: WriteOptions): KObj {
    const scale = this.getScale(rt, namespace, name);
    const next = change(clone(scale));
    const replicas = next?.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid("Scale", "autoscaling", name, [{ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: "spec.replicas" }]);
    }
    const rv = next.metadata?.resourceVersion;
    const old = this.get(rt, namespace, name);
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(rt, name, MODIFIED_MESSAGE);
    const updated = clone(old);
    setPath(updated, rt.scale!.specReplicasPath, replicas);
    this.commit(rt, old, updated, opts, "main");
    return this.getScale(rt, namespace, name);
  }

  /** pods/eviction: honours PodDisruptionBudgets, then deletes the pod. */
  evict(namespace: string, name: string, body: Json, opts: WriteOptions): StatusBody {
    const podsRt = this.registry.get("", "pods")!;
    const pod = this.get(podsRt, namespace, name);
    const pdbRt = this.registry.get("policy", "poddisruptionbudgets")!;
    for (const pdb of this.store.list(this.typeKey(pdbRt), namespace)) {
      const match = labelSelectorObjectMatcher(pdb.spec?.selector);
      if (!pdb.spec?.selector || !match(pod.metadata.labels ?? {})) continue;
      const allowed = disruptionsAllowed(pdb, this.store.list("/pods", namespace).filter((p) => match(p.metadata.labels ?? {})));
      if (allowed <= 0 && isPodReady(pod)) {
        throw tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10);
      }
    }
    const deleteOpts: DeleteOptions = { ...opts, dryRun: opts.dryRun || (Array.isArray(body?.deleteOptions?.dryRun) && body.deleteOptions.dryRun.includes("All")) };
    this.delete(podsRt, namespace, name, deleteOpts);
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
  }

  podLog(namespace: string, name: string, container?: string): string {
    const pod = this.get(this.registry.get("", "pods")!, namespace, name);
    const c = container ?? pod.spec?.containers?.[0]?.name;
    if (container && !(pod.spec?.containers ?? []).some((x: Json) => x.name === container)) {
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    }
    return `sim: container ${c} of pod ${namespace}/${name} on node ${pod.spec?.nodeName ?? "<none>"} is ${pod.status?.phase ?? "Pending"}\n`;
  }

}

const stripTimes = (mf: KObj["metadata"]["managedFields"]): unknown => (mf ?? []).map((e) => ({ ...e, time: undefined }));

const namespaceHoldsSpecFinalizers = (rt: ResourceType, obj: KObj): boolean =>
  rt.group === "" && rt.resource === "namespaces" && (obj.spec?.finalizers ?? []).length > 0;

export function isPodReady(pod: KObj): boolean {
  return (pod.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");
}

function resolveIntOrPercent(v: Json, total: number, roundUp: boolean): number {
  if (typeof v === "string" && v.endsWith("%")) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return Number(v ?? 0);
}

export function disruptionsAllowed(pdb: KObj, pods: KObj[]): number {
  const healthy = pods.filter(isPodReady).length;
  const expected = pods.length;
  if (pdb.spec?.maxUnavailable !== undefined) {
    const maxUnavailable = resolveIntOrPercent(pdb.spec.maxUnavailable, expected, true);
    return Math.max(0, healthy - (expected - maxUnavailable));
  }
  const minAvailable = resolveIntOrPercent(pdb.spec?.minAvailable ?? 1, expected, true);
  return Math.max(0, healthy - minAvailable);
}

function validateCrd(obj: KObj): StatusCause[] {
  const causes: StatusCause[] = [];
  const s = obj.spec ?? {};
  if (!s.group) causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.group" });
  if (!s.names?.plural) causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.names.plural" });
  if (!s.names?.kind) causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.names.kind" });
  if (s.scope !== "Namespaced" && s.scope !== "Cluster") causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(s.scope)}: supported values: "Cluster", "Namespaced"`, field: "spec.scope" });
  const versions: Json[] = Array.isArray(s.versions) ? s.versions : [];
  if (versions.length === 0) causes.push({ reason: "FieldValueInvalid", message: "Invalid value: must have exactly one version marked as storage version", field: "spec.versions" });
  else if (versions.filter((v) => v.storage).length !== 1) causes.push({ reason: "FieldValueInvalid", message: "Invalid value: must have exactly one version marked as storage version", field: "spec.versions" });
  if (s.group && s.names?.plural && obj.metadata.name !== `${s.names.plural}.${s.group}`) {
    causes.push({ reason: "FieldValueInvalid", message: `Invalid value: "${obj.metadata.name}": must be spec.names.plural+"."+spec.group`, field: "metadata.name" });
  }
  return causes;
}

export { ApiError };
