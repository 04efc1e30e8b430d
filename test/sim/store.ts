// Object storage: one global resourceVersion, per-kind/per-namespace indexes, a bounded event history
// and the change feed that watches and controllers consume.
import { gone } from "./errors.js";
import type { KObj, StoreEvent, WatchEventType } from "./types.js";

export type StoreListener = (ev: StoreEvent) => void;

export interface StoreOptions {
  /** Events kept for watch resumption; older resourceVersions get 410 Gone. */
  historySize?: number;
}

export class ObjectStore {
  private rv = 0;
  /** typeKey → namespace ("" for cluster scope) → name → object. */
  private readonly objects = new Map<string, Map<string, Map<string, KObj>>>();
  /** owner uid → set of "typeKey|namespace|name" of dependents. */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly history: StoreEvent[] = [];
  private historyStart = 0;
  /** Lowest resourceVersion a watch may still start from. */
  private compactedRv = 0;
  private readonly listeners = new Map<string, Set<StoreListener>>();
  private readonly anyListeners = new Set<StoreListener>();
  readonly historySize: number;

  constructor(opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 100_000;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  nextResourceVersion(): number {
    return ++this.rv;
  }

  get(typeKey: string, namespace: string, name: string): KObj | undefined {
    return this.objects.get(typeKey)?.get(namespace)?.get(name);
  }

  /** Objects of a kind, optionally in one namespace, sorted by namespace then name. */
  list(typeKey: string, namespace?: string): KObj[] {
    const byNs = this.objects.get(typeKey);
    if (!byNs) return [];
    const out: KObj[] = [];
    if (namespace !== undefined) {
      const m = byNs.get(namespace);
      if (m) for (const o of m.values()) out.push(o);
      out.sort(byName);
      return out;
    }
    for (const ns of [...byNs.keys()].sort()) {
      const part = [...byNs.get(ns)!.values()].sort(byName);
      for (const o of part) out.push(o);
    }
    return out;
  }

  count(typeKey: string, namespace?: string): number {
    const byNs = this.objects.get(typeKey);
    if (!byNs) return 0;
    if (namespace !== undefined) return byNs.get(namespace)?.size ?? 0;
    let n = 0;
    for (const m of byNs.values()) n += m.size;
    return n;
  }

  /** Namespaces that hold at least one object of some kind. */
  typeKeysInNamespace(namespace: string): string[] {
    const out: string[] = [];
    for (const [tk, byNs] of this.objects) if ((byNs.get(namespace)?.size ?? 0) > 0) out.push(tk);
    return out;
  }

  dependentsOf(ownerUid: string): Array<{ typeKey: string; namespace: string; name: string }> {
    return [...(this.dependents.get(ownerUid) ?? [])].map((k) => {
      const [typeKey, namespace, name] = k.split("|");
      return { typeKey, namespace, name };
    });
  }

  /** Store an object whose metadata.resourceVersion was already set from nextResourceVersion(). */
  put(typeKey: string, obj: KObj, type: WatchEventType): StoreEvent {
    deepFreeze(obj);
    const ns = obj.metadata.namespace ?? "";
    const name = obj.metadata.name!;
    let byNs = this.objects.get(typeKey);
    if (!byNs) this.objects.set(typeKey, (byNs = new Map()));
    let m = byNs.get(ns);
    if (!m) byNs.set(ns, (m = new Map()));
    const prev = m.get(name);
    m.set(name, obj);
    this.reindexOwners(typeKey, prev, obj);
    return this.emit({ rv: Number(obj.metadata.resourceVersion), type, typeKey, obj, prev });
  }

  /**
   * Remove an object; the DELETED event carries a fresh resourceVersion like the apiserver's. `last` is
   * the object's final state when the removal is an update's effect (the last finalizer dropped): the
   * apiserver then emits DELETED only, carrying that state, never a MODIFIED first.
   */
  remove(typeKey: string, namespace: string, name: string, last?: KObj): StoreEvent | undefined {
    const m = this.objects.get(typeKey)?.get(namespace);
    const prev = m?.get(name);
    if (!m || !prev) return undefined;
    m.delete(name);
    this.reindexOwners(typeKey, prev, undefined);
    const rv = this.nextResourceVersion();
    const base = last ?? prev;
    const obj = deepFreeze({ ...base, metadata: { ...base.metadata, resourceVersion: String(rv) } });
    return this.emit({ rv, type: "DELETED", typeKey, obj, prev });
  }

  private reindexOwners(typeKey: string, prev: KObj | undefined, next: KObj | undefined): void {
    const ref = (o: KObj) => `${typeKey}|${o.metadata.namespace ?? ""}|${o.metadata.name}`;
    for (const r of prev?.metadata.ownerReferences ?? []) this.dependents.get(r.uid)?.delete(ref(prev!));
    for (const r of next?.metadata.ownerReferences ?? []) {
      let s = this.dependents.get(r.uid);
      if (!s) this.dependents.set(r.uid, (s = new Set()));
      s.add(ref(next!));
    }
  }

  private emit(ev: StoreEvent): StoreEvent {
    this.history.push(ev);
    if (this.history.length - this.historyStart > this.historySize) this.historyStart++;
    if (this.historyStart > 4096 && this.historyStart * 2 > this.history.length) {
      this.history.splice(0, this.historyStart);
      this.historyStart = 0;
    }
    for (const l of this.listeners.get(ev.typeKey) ?? []) l(ev);
    for (const l of this.anyListeners) l(ev);
    return ev;
  }

  /** Subscribe to changes of one kind (or all kinds with "*"); returns the unsubscribe function. */
  subscribe(typeKey: string, listener: StoreListener): () => void {
    if (typeKey === "*") {
      this.anyListeners.add(listener);
      return () => this.anyListeners.delete(listener);
    }
    let s = this.listeners.get(typeKey);
    if (!s) this.listeners.set(typeKey, (s = new Set()));
    s.add(listener);
    return () => s!.delete(listener);
  }

  /** Forget all history up to now: watches from older resourceVersions get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
    this.historyStart = 0;
  }

  /** Events of a kind after `fromRv`; throws 410 when that part of history is gone. */
  eventsSince(typeKey: string, fromRv: number): StoreEvent[] {
    const oldest = this.historyStart < this.history.length ? this.history[this.historyStart].rv : this.rv + 1;
    // Resuming at fromRv needs every event with rv > fromRv.
    if (fromRv < this.compactedRv || (fromRv + 1 < oldest && fromRv < this.rv)) {
      throw gone(`too old resource version: ${fromRv} (${Math.max(this.compactedRv, oldest - 1)})`);
    }
    const out: StoreEvent[] = [];
    // Binary search the first event after fromRv.
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= fromRv) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.history.length; i++) if (this.history[i].typeKey === typeKey) out.push(this.history[i]);
    return out;
  }
}

const byName = (a: KObj, b: KObj): number => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0);

/** Stored objects are shared by readers and watch encodings; freezing makes accidental mutation throw. */
function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}
