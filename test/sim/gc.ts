// The garbage collector and namespace lifecycle controller: owner references (background, foreground,
// orphan), dangling owners, and namespace deletion cascading to its contents.
import type { SimApi } from "./api.js";
import type { KObj, ResourceType, StoreEvent } from "./types.js";

const GC_MANAGER = "kube-controller-manager";
const NS_TYPE_KEY = "/namespaces";

export interface GarbageCollector {
  stop(): void;
  /** Resolves once all queued GC work has run (tests and the demo use it to settle). */
  idle(): Promise<void>;
}

export function startGarbageCollector(api: SimApi): GarbageCollector {
  const store = api.store;
  const queue = new Map<string, () => void>();
  let scheduled = false;
  let idleWaiters: Array<() => void> = [];
  const uidIndex = new Map<string, { typeKey: string; namespace: string; name: string }>();

  const rtOf = (typeKey: string): ResourceType | undefined => {
    const slash = typeKey.indexOf("/");
    return api.registry.get(typeKey.slice(0, slash), typeKey.slice(slash + 1));
  };

  const schedule = (key: string, work: () => void) => {
    queue.set(key, work);
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };

  const drain = () => {
    scheduled = false;
    // Bounded passes so one burst cannot starve the event loop.
    for (let pass = 0; pass < 50 && queue.size > 0; pass++) {
      const items = [...queue.values()];
      queue.clear();
      for (const work of items) {
        try {
          work();
        } catch {
          // Conflicts and NotFound are expected races; the next event re-queues the work.
        }
      }
    }
    if (queue.size > 0) {
      scheduled = true;
      setImmediate(drain);
      return;
    }
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const ownerAlive = (uid: string): boolean => {
    const ref = uidIndex.get(uid);
    if (!ref) return false;
    const o = store.get(ref.typeKey, ref.namespace, ref.name);
    return o !== undefined && o.metadata.uid === uid;
  };

  const objectAt = (typeKey: string, namespace: string, name: string) => {
    const rt = rtOf(typeKey);
    const obj = store.get(typeKey, namespace, name);
    return rt && obj ? { rt, obj } : undefined;
  };

  /** A dependent whose owners are all gone is deleted; dangling references next to live owners are dropped. */
  const collectDependent = (typeKey: string, namespace: string, name: string) => {
    const found = objectAt(typeKey, namespace, name);
    if (!found || found.obj.metadata.deletionTimestamp) return;
    const refs = found.obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const alive = refs.filter((r) => ownerAlive(r.uid) && !ownerWaitingForDependents(r.uid));
    const waiting = refs.filter((r) => ownerWaitingForDependents(r.uid));
    if (alive.length === refs.length) return;
    if (alive.length === 0 && waiting.length === 0) {
      api.delete(found.rt, namespace, name, { propagationPolicy: "Background", fieldManager: GC_MANAGER });
      return;
    }
    if (alive.length === 0) {
      // Every remaining owner is being deleted in the foreground: go with them.
      api.delete(found.rt, namespace, name, { propagationPolicy: "Foreground", fieldManager: GC_MANAGER });
      return;
    }
    const keep = refs.filter((r) => ownerAlive(r.uid));
    if (keep.length !== refs.length) {
      api.patch(found.rt, namespace, name, "merge", { metadata: { ownerReferences: keep } }, { fieldManager: GC_MANAGER });
    }
  };

  const ownerWaitingForDependents = (uid: string): boolean => {
    const ref = uidIndex.get(uid);
    const o = ref && store.get(ref.typeKey, ref.namespace, ref.name);
    return Boolean(o?.metadata.deletionTimestamp && o.metadata.finalizers?.includes("foregroundDeletion"));
  };

  const removeFinalizer = (rt: ResourceType, obj: KObj, finalizer: string) => {
    const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    api.update(rt, obj.metadata.namespace, obj.metadata.name!, { ...obj, metadata: { ...obj.metadata, finalizers } }, { fieldManager: GC_MANAGER });
  };

  /** Owners being deleted with foregroundDeletion / orphan finalizers. */
  const processOwner = (typeKey: string, namespace: string, name: string) => {
    const found = objectAt(typeKey, namespace, name);
    if (!found || !found.obj.metadata.deletionTimestamp) return;
    const { rt, obj } = found;
    const uid = obj.metadata.uid!;
    const fins = obj.metadata.finalizers ?? [];
    if (fins.includes("orphan")) {
      for (const d of store.dependentsOf(uid)) {
        const dep = objectAt(d.typeKey, d.namespace, d.name);
        if (!dep) continue;
        const keep = (dep.obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        api.patch(dep.rt, d.namespace, d.name, "merge", { metadata: { ownerReferences: keep.length ? keep : null } }, { fieldManager: GC_MANAGER });
      }
      removeFinalizer(rt, store.get(typeKey, namespace, name)!, "orphan");
      return;
    }
    if (fins.includes("foregroundDeletion")) {
      let blocking = 0;
      for (const d of store.dependentsOf(uid)) {
        const dep = objectAt(d.typeKey, d.namespace, d.name);
        if (!dep) continue;
        const ref = (dep.obj.metadata.ownerReferences ?? []).find((r) => r.uid === uid);
        if (ref?.blockOwnerDeletion) blocking++;
        if (!dep.obj.metadata.deletionTimestamp) collectDependent(d.typeKey, d.namespace, d.name);
      }
      if (blocking === 0) removeFinalizer(rt, store.get(typeKey, namespace, name)!, "foregroundDeletion");
    }
  };

  /** Terminating namespace: delete everything in it, then let the namespace go. */
  const processNamespace = (name: string) => {
    const ns = store.get(NS_TYPE_KEY, "", name);
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const typeKey of store.typeKeysInNamespace(name)) {
      const rt = rtOf(typeKey);
      if (!rt) continue;
      for (const o of store.list(typeKey, name)) {
        remaining++;
        if (!o.metadata.deletionTimestamp) api.delete(rt, name, o.metadata.name!, { propagationPolicy: "Background", fieldManager: GC_MANAGER });
      }
    }
    if (remaining > 0) return;
    const nsRt = api.registry.get("", "namespaces")!;
    const current = store.get(NS_TYPE_KEY, "", name)!;
    if ((current.spec?.finalizers ?? []).length > 0) {
      api.update(nsRt, undefined, name, { ...current, spec: { ...current.spec, finalizers: [] } }, { fieldManager: "namespace-controller" });
    }
  };

  const onEvent = (ev: StoreEvent) => {
    const m = ev.obj.metadata;
    const ns = m.namespace ?? "";
    if (ev.type === "DELETED") uidIndex.delete(m.uid!);
    else uidIndex.set(m.uid!, { typeKey: ev.typeKey, namespace: ns, name: m.name! });

    if (ev.type === "DELETED") {
      for (const d of store.dependentsOf(m.uid!)) schedule(`dep|${d.typeKey}|${d.namespace}|${d.name}`, () => collectDependent(d.typeKey, d.namespace, d.name));
      // A dependent that went away may unblock a foreground owner.
      for (const r of m.ownerReferences ?? []) {
        const o = uidIndex.get(r.uid);
        if (o) schedule(`own|${o.typeKey}|${o.namespace}|${o.name}`, () => processOwner(o.typeKey, o.namespace, o.name));
      }
      if (ns) schedule(`ns|${ns}`, () => processNamespace(ns));
      return;
    }
    if (m.deletionTimestamp) {
      if (m.finalizers?.includes("foregroundDeletion") || m.finalizers?.includes("orphan")) {
        schedule(`own|${ev.typeKey}|${ns}|${m.name}`, () => processOwner(ev.typeKey, ns, m.name!));
      }
      if (ev.typeKey === NS_TYPE_KEY) schedule(`ns|${m.name}`, () => processNamespace(m.name!));
      for (const r of m.ownerReferences ?? []) {
        const o = uidIndex.get(r.uid);
        if (o) schedule(`own|${o.typeKey}|${o.namespace}|${o.name}`, () => processOwner(o.typeKey, o.namespace, o.name));
      }
    }
    // New or changed owner references: dependents of owners that never existed or already left are collected.
    if ((m.ownerReferences ?? []).length > 0 && (ev.type === "ADDED" || ev.prev?.metadata.ownerReferences !== m.ownerReferences)) {
      schedule(`dep|${ev.typeKey}|${ns}|${m.name}`, () => collectDependent(ev.typeKey, ns, m.name!));
    }
  };

  const unsubscribe = store.subscribe("*", onEvent);
  return {
    stop: unsubscribe,
    idle: () =>
      new Promise<void>((resolve) => {
        if (!scheduled && queue.size === 0) resolve();
        else idleWaiters.push(resolve);
      }),
  };
}
