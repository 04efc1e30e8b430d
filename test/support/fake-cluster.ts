// In-memory API server for controller tests: stores objects, assigns uid/resourceVersion/generation,
// models server-side apply as a field merge per manager, finalizers, owner-reference GC, status
// subresource, label selectors and watches; records every request so tests can count writes.
import { isDeepStrictEqual } from "node:util";
import fastJsonPatch from "fast-json-patch";
import type { KubeObject, ObjectRef, ObservedState } from "../../operator/src/contract/index.js";
import type {
  KubeClient,
  ListOptions,
  ListResult,
  ListerWatcher,
  PatchType,
  WatchEvent,
  WatchHandle,
  WatchOptions,
} from "../../operator/src/kube/types.js";
import { ApiError } from "../../operator/src/kube/errors.js";
import { builtInResource } from "../../operator/src/kube/resources.js";
import { matchesFieldSelector, matchesLabelSelector } from "./label-selector.js";

export type FakeVerb =
  | "get"
  | "list"
  | "watch"
  | "apply"
  | "applyStatus"
  | "create"
  | "replace"
  | "patch"
  | "delete"
  | "evict"
  | "createEvent";

export const WRITE_VERBS: ReadonlySet<FakeVerb> = new Set(["apply", "applyStatus", "create", "replace", "patch", "delete", "evict", "createEvent"]);

export interface FakeRequest {
  verb: FakeVerb;
  ref: ObjectRef;
  /** For writes: whether the stored object actually changed. */
  changed?: boolean;
  body?: unknown;
  patchType?: PatchType;
  subresource?: "status";
  force?: boolean;
  labelSelector?: string;
  propagationPolicy?: string;
}

export interface FaultMatch {
  verb?: FakeVerb;
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Fault {
  match: FaultMatch;
  error: ApiError;
  remaining: number;
}

interface Stored {
  obj: KubeObject;
  /** Last applied configuration per "manager/subresource" slot, to release fields dropped from it. */
  applied: Map<string, Record<string, unknown>>;
}

const SERVER_METADATA = ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "managedFields", "selfLink"];
const HISTORY_LIMIT = 5000;

type Json = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** SSA-like merge: maps merge recursively, lists are atomic except set/map lists in metadata. */
function applyMerge(live: unknown, previous: unknown, desired: unknown, path: string): unknown {
  if (isPlainObject(desired) && isPlainObject(live)) {
    const out: Json = { ...live };
    if (isPlainObject(previous)) {
      for (const k of Object.keys(previous)) if (!(k in desired)) delete out[k];
    }
    for (const [k, v] of Object.entries(desired)) {
      out[k] = applyMerge(live[k], isPlainObject(previous) ? previous[k] : undefined, v, `${path}.${k}`);
    }
    return out;
  }
  if (path === ".metadata.finalizers" && Array.isArray(desired)) {
    const released = new Set(Array.isArray(previous) ? (previous as string[]).filter((f) => !desired.includes(f)) : []);
    const kept = Array.isArray(live) ? (live as string[]).filter((f) => !released.has(f) && !desired.includes(f)) : [];
    return [...kept, ...(desired as string[])];
  }
  if (path === ".metadata.ownerReferences" && Array.isArray(desired)) {
    const desiredUids = new Set((desired as Json[]).map((r) => r["uid"]));
    const released = new Set(Array.isArray(previous) ? (previous as Json[]).map((r) => r["uid"]).filter((u) => !desiredUids.has(u)) : []);
    const kept = Array.isArray(live) ? (live as Json[]).filter((r) => !released.has(r["uid"]) && !desiredUids.has(r["uid"])) : [];
    return [...kept, ...clone(desired as Json[])];
  }
  return clone(desired);
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Json = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Everything but metadata/status: a change here bumps generation. */
function specPart(obj: KubeObject): Json {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function checkRef(ref: ObjectRef): void {
  if (!ref.apiVersion) throw new ApiError(400, "BadRequest", "apiVersion: required");
  if (!ref.kind) throw new ApiError(400, "BadRequest", "kind: required");
  if (!ref.name) throw new ApiError(400, "BadRequest", "metadata.name: required");
}

export class FakeCluster implements KubeClient, ListerWatcher {
  /** Every request in order. */
  readonly requests: FakeRequest[] = [];
  /** Events created through createEvent. */
  readonly events: KubeObject[] = [];

  private readonly objects = new Map<string, Stored>();
  private readonly history: Array<{ rv: number; event: WatchEvent }> = [];
  private readonly watchers = new Set<(ev: WatchEvent) => void>();
  private readonly openWatches = new Set<(err?: unknown) => void>();
  private readonly faults: Fault[] = [];
  /** Non-built-in kinds that are cluster-scoped; our own CRD is known from the start. */
  private readonly clusterScoped = new Set<string>(["olares.com/v1alpha1/OlaresInstallation"]);
  private rv = 0;
  private uidCounter = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  // ---- test helpers -------------------------------------------------------------------------

  /** Declares a non-built-in kind as cluster-scoped (built-in kinds are known already). */
  registerClusterScoped(apiVersion: string, kind: string): void {
    this.clusterScoped.add(`${apiVersion}/${kind}`);
  }

  /** Makes the next `times` matching requests fail with `error` (like client-go's fake reactors). */
  injectFault(match: FaultMatch, error: ApiError, times = 1): void {
    this.faults.push({ match, error, remaining: times });
  }

  /** Writes an object directly (as another actor would: kubelet, a user) without recording a request. */
  seed(obj: KubeObject): KubeObject {
    const ref = this.normalise(obj);
    const key = this.key(ref);
    const existing = this.objects.get(key);
    const next = clone(obj);
    next.metadata = { ...next.metadata, ...(ref.namespace ? { namespace: ref.namespace } : {}) };
    if (ref.namespace === undefined) delete next.metadata.namespace;
    if (existing) {
      next.metadata.uid = existing.obj.metadata.uid;
      next.metadata.creationTimestamp = existing.obj.metadata.creationTimestamp;
      next.metadata.generation = existing.obj.metadata.generation;
      return this.commit(key, existing, next).obj;
    }
    return this.insert(key, next, new Map());
  }

  /** Same as writing the status subresource as another actor (e.g. a DaemonSet controller). */
  setStatus(ref: ObjectRef, status: unknown): KubeObject {
    const key = this.key(this.normalise(ref));
    const stored = this.mustGet(key, ref);
    const next = clone(stored.obj);
    next["status"] = clone(status);
    return this.commit(key, stored, next).obj;
  }

  /** Current stored object (a copy), without recording a request. */
  peek(ref: ObjectRef): KubeObject | undefined {
    const s = this.objects.get(this.key(this.normalise(ref)));
    return s ? clone(s.obj) : undefined;
  }

  /** All stored objects (copies). */
  all(): KubeObject[] {
    return [...this.objects.values()].map((s) => clone(s.obj));
  }

  writes(): FakeRequest[] {
    return this.requests.filter((r) => WRITE_VERBS.has(r.verb));
  }

  /** Writes that changed stored state (a no-op apply is a request but not a change). */
  changingWrites(): FakeRequest[] {
    return this.writes().filter((r) => r.changed);
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  /** A live, read-only view, like an informer-backed cache that is always in sync. */
  observed(): ObservedState {
    return {
      get: (ref) => this.peek(ref),
      list: (apiVersion, kind, namespace) =>
        [...this.objects.values()]
          .filter((s) => s.obj.apiVersion === apiVersion && s.obj.kind === kind)
          .filter((s) => namespace === undefined || s.obj.metadata.namespace === namespace)
          .map((s) => clone(s.obj)),
    };
  }

  /** Subscribes to every change (all kinds); returns an unsubscribe function. */
  onChange(listener: (ev: WatchEvent) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Ends every open watch (a dropped connection when `err` is set, a server timeout when not). */
  dropWatches(err?: unknown): void {
    for (const drop of [...this.openWatches]) drop(err);
  }

  /** Forgets the watch history (like etcd compaction): watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.history.length = 0;
  }

  /** Current resourceVersion of the whole store. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  // ---- ClusterClient ------------------------------------------------------------------------

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    checkRef(ref);
    this.record({ verb: "get", ref });
    const s = this.objects.get(this.key(this.normalise(ref)));
    return s ? clone(s.obj) : undefined;
  }

  async list(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    return (await this.listWithVersion(apiVersion, kind, opts)).items;
  }

  async apply(obj: KubeObject, opts: { force?: boolean } = {}): Promise<KubeObject> {
    const ref = this.normalise(obj);
    const req = this.record({ verb: "apply", ref, body: clone(obj), force: opts.force === true });
    const desired = this.stripServerFields(obj, ref);
    delete desired["status"];
    const key = this.key(ref);
    const stored = this.objects.get(key);
    if (!stored) {
      const created = this.insert(key, clone(desired) as KubeObject, new Map([["apply", desired]]));
      req.changed = true;
      return created;
    }
    this.checkPrecondition(stored, obj);
    const next = applyMerge(stored.obj, stored.applied.get("apply"), desired, "") as KubeObject;
    next["status"] = stored.obj["status"];
    if (next["status"] === undefined) delete next["status"];
    stored.applied.set("apply", desired);
    const result = this.commit(key, stored, next);
    req.changed = result.changed;
    return result.obj;
  }

  async applyStatus(obj: KubeObject): Promise<KubeObject> {
    const ref = this.normalise(obj);
    const req = this.record({ verb: "applyStatus", ref, body: clone(obj), subresource: "status" });
    const key = this.key(ref);
    const stored = this.mustGet(key, ref);
    this.checkPrecondition(stored, obj);
    const desired = { status: clone(obj["status"] ?? {}) };
    const merged = applyMerge({ status: stored.obj["status"] ?? {} }, stored.applied.get("status"), desired, "") as Json;
    stored.applied.set("status", desired);
    const next = clone(stored.obj);
    next["status"] = merged["status"];
    const result = this.commit(key, stored, next);
    req.changed = result.changed;
    return result.obj;
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    const ref = this.normalise(obj);
    const req = this.record({ verb: "create", ref, body: clone(obj) });
    const key = this.key(ref);
    if (this.objects.has(key)) {
      throw new ApiError(409, "AlreadyExists", `${ref.kind.toLowerCase()} "${ref.name}" already exists`);
    }
    req.changed = true;
    const stored = this.stripServerFields(obj, ref) as KubeObject;
    // As the API server: a created CustomResourceDefinition is Established (velero install waits for that).
    if (ref.kind === "CustomResourceDefinition") stored["status"] = { conditions: [{ type: "Established", status: "True", reason: "InitialNamesAccepted" }] };
    return this.insert(key, stored, new Map());
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    const ref = this.normalise(obj);
    const req = this.record({ verb: "replace", ref, body: clone(obj) });
    const key = this.key(ref);
    const stored = this.mustGet(key, ref);
    this.checkPrecondition(stored, obj);
    const next = this.stripServerFields(obj, ref) as KubeObject;
    next["status"] = stored.obj["status"];
    if (next["status"] === undefined) delete next["status"];
    for (const f of SERVER_METADATA) if (stored.obj.metadata[f] !== undefined) next.metadata[f] = stored.obj.metadata[f];
    const result = this.commit(key, stored, next);
    req.changed = result.changed;
    return result.obj;
  }

  async patch(ref: ObjectRef, patch: unknown, type: PatchType, opts: { subresource?: "status" } = {}): Promise<KubeObject> {
    checkRef(ref);
    const nref = this.normalise(ref);
    const req = this.record({ verb: "patch", ref: nref, body: clone(patch), patchType: type, ...(opts.subresource ? { subresource: opts.subresource } : {}) });
    const key = this.key(nref);
    const stored = this.mustGet(key, nref);
    let patched: KubeObject;
    if (type === "json") {
      if (!Array.isArray(patch)) throw new ApiError(400, "BadRequest", "json patch: body must be an array of operations");
      try {
        patched = fastJsonPatch.applyPatch(clone(stored.obj), patch as fastJsonPatch.Operation[], true, false).newDocument;
      } catch (err) {
        throw new ApiError(422, "Invalid", `json patch: ${(err as Error).message.split("\n")[0]}`);
      }
    } else {
      // Strategic merge is modelled as a JSON merge patch (lists are replaced).
      const rvInPatch = isPlainObject(patch) && isPlainObject(patch["metadata"]) ? patch["metadata"]["resourceVersion"] : undefined;
      if (typeof rvInPatch === "string" && rvInPatch !== stored.obj.metadata.resourceVersion) {
        throw this.conflict(nref);
      }
      patched = mergePatch(stored.obj, patch) as KubeObject;
    }
    const next = clone(stored.obj);
    if (opts.subresource === "status") {
      next["status"] = patched["status"];
      if (next["status"] === undefined) delete next["status"];
    } else {
      for (const [k, v] of Object.entries(patched)) if (k !== "status") next[k] = v;
      for (const k of Object.keys(next)) if (!(k in patched) && k !== "status") delete next[k];
      for (const f of SERVER_METADATA) {
        if (f === "deletionTimestamp") continue;
        if (stored.obj.metadata[f] !== undefined) next.metadata[f] = stored.obj.metadata[f];
      }
    }
    const result = this.commit(key, stored, next);
    req.changed = result.changed;
    return result.obj;
  }

  async delete(ref: ObjectRef, opts: { propagationPolicy?: "Background" | "Foreground" | "Orphan" } = {}): Promise<boolean> {
    checkRef(ref);
    const nref = this.normalise(ref);
    const req = this.record({ verb: "delete", ref: nref, ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}) });
    const existed = this.deleteKey(this.key(nref), opts.propagationPolicy ?? "Background");
    req.changed = existed;
    return existed;
  }

  async evict(namespace: string, name: string): Promise<void> {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Pod", namespace, name };
    const req = this.record({ verb: "evict", ref });
    const key = this.key(ref);
    this.mustGet(key, ref);
    req.changed = this.deleteKey(key, "Background");
  }

  /** Stores the Event like any object (so it can be patched) and appends it to `events`. */
  async createEvent(ev: KubeObject): Promise<void> {
    const ref = this.normalise(ev);
    const req = this.record({ verb: "createEvent", ref, body: clone(ev) });
    const key = this.key(ref);
    if (this.objects.has(key)) throw new ApiError(409, "AlreadyExists", `events "${ref.name}" already exists`);
    this.insert(key, this.stripServerFields(ev, ref) as KubeObject, new Map());
    req.changed = true;
    this.events.push(clone(ev));
  }

  // ---- ListerWatcher (for informer tests against the fake) ----------------------------------

  async listWithVersion(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<ListResult> {
    this.record({
      verb: "list",
      ref: { apiVersion, kind, name: "", ...(opts.namespace ? { namespace: opts.namespace } : {}) },
      ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    });
    const items = [...this.objects.values()]
      .map((s) => s.obj)
      .filter((o) => this.matches(o, apiVersion, kind, opts))
      .sort((a, b) => `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ""}/${b.metadata.name}`))
      .map(clone);
    return { items, resourceVersion: String(this.rv) };
  }

  async watch(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (ev: WatchEvent) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle> {
    this.record({ verb: "watch", ref: { apiVersion, kind, name: "", ...(opts.namespace ? { namespace: opts.namespace } : {}) } });
    this.throwFault("watch", { apiVersion, kind, name: "" });
    // "" and "0" mean "from now" (no replay), as for the API server.
    const from = opts.resourceVersion && opts.resourceVersion !== "0" ? Number(opts.resourceVersion) : this.rv;
    const oldest = this.history.length > 0 ? this.history[0]!.rv - 1 : this.rv;
    if (from < oldest) {
      queueMicrotask(() => onDone(new ApiError(410, "Expired", `too old resource version: ${from} (${oldest})`)));
      return { stop: () => undefined };
    }
    let open = true;
    const deliver = (ev: WatchEvent): void => {
      if (open && this.matches(ev.object, apiVersion, kind, opts)) onEvent(clone(ev));
    };
    const stop = (): void => {
      open = false;
      this.watchers.delete(deliver);
      this.openWatches.delete(drop);
    };
    const drop = (err?: unknown): void => {
      if (!open) return;
      stop();
      onDone(err);
    };
    const backlog = this.history.filter((h) => h.rv > from).map((h) => h.event);
    this.watchers.add(deliver);
    this.openWatches.add(drop);
    queueMicrotask(() => backlog.forEach(deliver));
    return { stop };
  }

  // ---- internals ----------------------------------------------------------------------------

  private matches(o: KubeObject, apiVersion: string, kind: string, opts: ListOptions): boolean {
    return (
      o.apiVersion === apiVersion &&
      o.kind === kind &&
      (opts.namespace === undefined || o.metadata.namespace === opts.namespace) &&
      matchesLabelSelector(opts.labelSelector, o.metadata.labels) &&
      matchesFieldSelector(opts.fieldSelector, o)
    );
  }

  private record(req: FakeRequest): FakeRequest {
    this.requests.push(req);
    this.throwFault(req.verb, req.ref);
    return req;
  }

  private throwFault(verb: FakeVerb, ref: ObjectRef): void {
    const i = this.faults.findIndex(
      (f) =>
        (f.match.verb === undefined || f.match.verb === verb) &&
        (f.match.kind === undefined || f.match.kind === ref.kind) &&
        (f.match.name === undefined || f.match.name === ref.name) &&
        (f.match.namespace === undefined || f.match.namespace === ref.namespace),
    );
    if (i < 0) return;
    const fault = this.faults[i]!;
    if (--fault.remaining <= 0) this.faults.splice(i, 1);
    throw fault.error;
  }

  private isNamespaced(apiVersion: string, kind: string): boolean {
    const info = builtInResource(apiVersion, kind);
    if (info) return info.namespaced;
    return !this.clusterScoped.has(`${apiVersion}/${kind}`);
  }

  /** Validates the identity and drops the namespace of cluster-scoped kinds. */
  private normalise(refOrObj: ObjectRef | KubeObject): ObjectRef {
    const isObj = "metadata" in refOrObj && isPlainObject((refOrObj as KubeObject).metadata);
    const meta = isObj ? (refOrObj as KubeObject).metadata : (refOrObj as ObjectRef);
    const ref: ObjectRef = { apiVersion: refOrObj.apiVersion, kind: refOrObj.kind, name: meta.name };
    checkRef(ref);
    if (this.isNamespaced(ref.apiVersion, ref.kind)) {
      if (!meta.namespace) throw new ApiError(400, "BadRequest", `metadata.namespace: required for namespaced kind ${ref.kind} "${ref.name}"`);
      ref.namespace = meta.namespace;
    }
    return ref;
  }

  private key(ref: ObjectRef): string {
    return `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ""}|${ref.name}`;
  }

  private mustGet(key: string, ref: ObjectRef): Stored {
    const s = this.objects.get(key);
    if (!s) throw new ApiError(404, "NotFound", `${ref.kind.toLowerCase()} "${ref.name}" not found`);
    return s;
  }

  private conflict(ref: ObjectRef): ApiError {
    return new ApiError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${ref.kind.toLowerCase()} "${ref.name}": the object has been modified; please apply your changes to the latest version and try again`,
    );
  }

  private checkPrecondition(stored: Stored, obj: KubeObject): void {
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== stored.obj.metadata.resourceVersion) {
      throw this.conflict({ apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name });
    }
  }

  private stripServerFields(obj: KubeObject, ref: ObjectRef): Json {
    const out = clone(obj) as Json;
    const meta = { ...(obj.metadata ?? {}) } as Json;
    for (const f of SERVER_METADATA) delete meta[f];
    if (ref.namespace === undefined) delete meta["namespace"];
    out["metadata"] = meta;
    return out;
  }

  private nextRv(): string {
    return String(++this.rv);
  }

  private emit(type: WatchEvent["type"], obj: KubeObject): void {
    const event: WatchEvent = { type, object: clone(obj) };
    this.history.push({ rv: this.rv, event });
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    for (const w of [...this.watchers]) w(event);
  }

  private insert(key: string, obj: KubeObject, applied: Map<string, Json>): KubeObject {
    this.uidCounter++;
    obj.metadata.uid ??= `00000000-0000-4000-8000-${String(this.uidCounter).padStart(12, "0")}`;
    obj.metadata.creationTimestamp ??= this.now().toISOString().replace(/\.\d{3}Z$/, "Z");
    obj.metadata.generation = 1;
    obj.metadata.resourceVersion = this.nextRv();
    this.objects.set(key, { obj, applied });
    this.emit("ADDED", obj);
    return clone(obj);
  }

  /** Stores `next` if it differs; bumps resourceVersion (and generation on spec change); finishes deletions. */
  private commit(key: string, stored: Stored, next: KubeObject): { obj: KubeObject; changed: boolean } {
    if (isDeepStrictEqual(next, stored.obj)) return { obj: clone(stored.obj), changed: false };
    if (!isDeepStrictEqual(specPart(next), specPart(stored.obj))) {
      next.metadata.generation = (stored.obj.metadata.generation ?? 0) + 1;
    }
    next.metadata.resourceVersion = this.nextRv();
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(key);
      this.emit("DELETED", next);
      this.collectGarbage(next.metadata.uid);
      return { obj: clone(next), changed: true };
    }
    stored.obj = next;
    this.emit("MODIFIED", next);
    return { obj: clone(next), changed: true };
  }

  private deleteKey(key: string, policy: string): boolean {
    const stored = this.objects.get(key);
    if (!stored) return false;
    if ((stored.obj.metadata.finalizers ?? []).length > 0) {
      if (!stored.obj.metadata.deletionTimestamp) {
        const next = clone(stored.obj);
        next.metadata.deletionTimestamp = this.now().toISOString().replace(/\.\d{3}Z$/, "Z");
        this.commit(key, stored, next);
      }
      return true;
    }
    this.objects.delete(key);
    const gone = clone(stored.obj);
    gone.metadata.resourceVersion = this.nextRv();
    this.emit("DELETED", gone);
    if (policy !== "Orphan") this.collectGarbage(stored.obj.metadata.uid);
    return true;
  }

  /** Background garbage collection: deletes objects whose every owner is gone. */
  private collectGarbage(ownerUid: string | undefined): void {
    if (!ownerUid) return;
    const liveUids = new Set([...this.objects.values()].map((s) => s.obj.metadata.uid));
    for (const [key, s] of [...this.objects.entries()]) {
      const owners = s.obj.metadata.ownerReferences ?? [];
      if (owners.some((o) => o.uid === ownerUid) && owners.every((o) => !liveUids.has(o.uid))) {
        this.deleteKey(key, "Background");
      }
    }
  }
}
