// Field ownership (metadata.managedFields, FieldsV1) and server-side apply.
import { applyConflict } from "./errors.js";
import { clone, deepEqual, isPlainObject, nowIso } from "./objects.js";
import type { FieldNames, ListSemanticsResolver } from "./list-semantics.js";
import type { Json, KObj, ManagedFieldsEntry } from "./types.js";

/** A field path: FieldsV1 elements ("f:spec", "k:{\"name\":\"a\"}", "v:\"x\"") joined by newlines. */
type FieldPath = string;
const SEP = "\n";

const IGNORED_METADATA = new Set([
  "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
  "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "generateName",
]);

export type Scope = "main" | "status";

/** Leaf paths of an object with their values. Item markers of keyed lists map to `true`. */
export function fieldValues(obj: KObj, scope: Scope, statusSeparate: boolean, lists: ListSemanticsResolver): Map<FieldPath, Json> {
  const out = new Map<FieldPath, Json>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind") continue;
    if (statusSeparate && ((scope === "main" && k === "status") || (scope === "status" && k !== "status"))) continue;
    if (k === "metadata") {
      if (!isPlainObject(v)) continue;
      for (const [mk, mv] of Object.entries(v)) {
        if (IGNORED_METADATA.has(mk)) continue;
        walk(mv, [`f:metadata`, `f:${mk}`], ["metadata", mk], lists, out);
      }
      continue;
    }
    walk(v, [`f:${k}`], [k], lists, out);
  }
  return out;
}

function walk(v: Json, path: string[], names: FieldNames, lists: ListSemanticsResolver, out: Map<FieldPath, Json>): void {
  if (isPlainObject(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) walk(x, [...path, `f:${k}`], [...names, k], lists, out);
    return;
  }
  if (Array.isArray(v) && v.length > 0) {
    const sem = lists(names);
    if (sem?.type === "set") {
      for (const item of v) out.set([...path, `v:${JSON.stringify(item)}`].join(SEP), true);
      return;
    }
    if (sem?.type === "map" && v.every(isPlainObject)) {
      for (const item of v) {
        const itemPath = [...path, `k:${keyOf(item, sem.keys)}`];
        out.set(itemPath.join(SEP), true);
        for (const [k, x] of Object.entries(item)) walk(x, [...itemPath, `f:${k}`], [...names, k], lists, out);
      }
      return;
    }
  }
  out.set(path.join(SEP), v);
}

const keyOf = (item: Record<string, Json>, keys: string[]): string => {
  const k: Record<string, Json> = {};
  for (const key of [...keys].sort()) if (item[key] !== undefined) k[key] = item[key];
  return JSON.stringify(k);
};

/** FieldsV1 tree → set of paths. */
export function fieldsV1ToSet(tree: Json): Set<FieldPath> {
  const out = new Set<FieldPath>();
  const rec = (node: Json, prefix: string[]) => {
    const keys = Object.keys(node ?? {}).filter((k) => k !== ".");
    if (prefix.length > 0 && (keys.length === 0 || Object.prototype.hasOwnProperty.call(node, "."))) out.add(prefix.join(SEP));
    for (const k of keys) rec(node[k], [...prefix, k]);
  };
  rec(tree, []);
  return out;
}

/** Set of paths → FieldsV1 tree. */
export function setToFieldsV1(paths: Iterable<FieldPath>): Record<string, Json> {
  type Node = { own: boolean; children: Map<string, Node> };
  const root: Node = { own: false, children: new Map() };
  for (const p of paths) {
    let n = root;
    for (const el of p.split(SEP)) {
      let c = n.children.get(el);
      if (!c) n.children.set(el, (c = { own: false, children: new Map() }));
      n = c;
    }
    n.own = true;
  }
  const ser = (n: Node): Record<string, Json> => {
    const o: Record<string, Json> = {};
    if (n.own && n.children.size > 0) o["."] = {};
    for (const k of [...n.children.keys()].sort()) o[k] = ser(n.children.get(k)!);
    return o;
  };
  return ser(root);
}

/** ".spec.replicas" / ".spec.containers[name=\"a\"].image" the way conflict messages print paths. */
export function pathToString(p: FieldPath): string {
  return p
    .split(SEP)
    .map((el) => {
      if (el.startsWith("f:")) return `.${el.slice(2)}`;
      if (el.startsWith("k:")) {
        const k = JSON.parse(el.slice(2)) as Record<string, Json>;
        return `[${Object.entries(k).map(([a, b]) => `${a}=${JSON.stringify(b)}`).join(",")}]`;
      }
      return `[${el.slice(2)}]`;
    })
    .join("");
}

interface Owner {
  entry: ManagedFieldsEntry;
  set: Set<FieldPath>;
}

const entryScope = (e: ManagedFieldsEntry): Scope => (e.subresource === "status" ? "status" : "main");

function owners(obj: KObj | undefined): Owner[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => ({ entry, set: fieldsV1ToSet(entry.fieldsV1) }));
}

function writeOwners(list: Owner[]): ManagedFieldsEntry[] | undefined {
  const out = list
    .filter((o) => o.set.size > 0)
    .map((o) => ({ ...o.entry, fieldsType: "FieldsV1" as const, fieldsV1: setToFieldsV1(o.set) }));
  return out.length > 0 ? out : undefined;
}

export interface WriteContext {
  manager: string;
  apiVersion: string;
  scope: Scope;
  /** Whether status is served by its own subresource for this kind. */
  statusSeparate: boolean;
  lists: ListSemanticsResolver;
}

/**
 * Ownership after a non-apply write (create/update/patch): the writer takes every field it added or
 * changed; fields that disappeared leave every manager.
 */
export function recordUpdate(oldObj: KObj | undefined, newObj: KObj, ctx: WriteContext): ManagedFieldsEntry[] | undefined {
  const before = oldObj ? fieldValues(oldObj, ctx.scope, ctx.statusSeparate, ctx.lists) : new Map<FieldPath, Json>();
  const after = fieldValues(newObj, ctx.scope, ctx.statusSeparate, ctx.lists);
  const changed = new Set<FieldPath>();
  for (const [p, v] of after) if (!before.has(p) || !deepEqual(before.get(p), v)) changed.add(p);
  const removed = [...before.keys()].filter((p) => !after.has(p));
  const list = owners(oldObj);
  if (changed.size === 0 && removed.length === 0) return oldObj?.metadata.managedFields;
  for (const o of list) {
    if (entryScope(o.entry) !== ctx.scope && ctx.statusSeparate) continue;
    for (const p of removed) o.set.delete(p);
    for (const p of changed) o.set.delete(p);
  }
  const subresource = ctx.scope === "status" ? "status" : undefined;
  let mine = list.find((o) => o.entry.manager === ctx.manager && o.entry.operation === "Update" && o.entry.subresource === subresource);
  if (!mine) {
    const entry: ManagedFieldsEntry = { manager: ctx.manager, operation: "Update", apiVersion: ctx.apiVersion, time: nowIso(), fieldsType: "FieldsV1", fieldsV1: {} };
    if (subresource) entry.subresource = subresource;
    list.push((mine = { entry, set: new Set() }));
  }
  mine.entry = { ...mine.entry, time: nowIso(), apiVersion: ctx.apiVersion };
  for (const p of changed) mine.set.add(p);
  return writeOwners(list);
}

export interface ApplyResult {
  object: KObj;
  /** True when neither the object nor its ownership changed. */
  noop: boolean;
}

/**
 * Server-side apply of `applied` onto `live` (undefined = create). Throws 409 on conflicts unless
 * force; removes fields this manager stopped applying when nobody else owns them.
 */
export function serverSideApply(live: KObj | undefined, applied: KObj, ctx: WriteContext, force: boolean): ApplyResult {
  const appliedValues = fieldValues(applied, ctx.scope, ctx.statusSeparate, ctx.lists);
  const liveValues = live ? fieldValues(live, ctx.scope, ctx.statusSeparate, ctx.lists) : new Map<FieldPath, Json>();
  const list = owners(live);
  const subresource = ctx.scope === "status" ? "status" : undefined;
  const isMine = (e: ManagedFieldsEntry) => e.manager === ctx.manager && e.operation === "Apply" && e.subresource === subresource;
  const inScope = (e: ManagedFieldsEntry) => !ctx.statusSeparate || entryScope(e) === ctx.scope;

  const conflicts: Array<{ manager: string; apiVersion: string; field: string }> = [];
  for (const o of list) {
    if (isMine(o.entry) || !inScope(o.entry)) continue;
    for (const p of appliedValues.keys()) {
      if (!o.set.has(p)) continue;
      if (liveValues.has(p) && deepEqual(liveValues.get(p), appliedValues.get(p))) continue;
      if (force) o.set.delete(p);
      else conflicts.push({ manager: o.entry.manager, apiVersion: o.entry.apiVersion, field: pathToString(p) });
    }
  }
  if (conflicts.length > 0) throw applyConflict(conflicts);

  let mine = list.find((o) => isMine(o.entry));
  const previouslyMine = mine ? new Set(mine.set) : new Set<FieldPath>();
  const base: KObj = live ? clone(live) : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
  const merged = applyMerge(base, scopedPart(applied, ctx), [], ctx.lists) as KObj;

  const ownedByOthers = new Set<FieldPath>();
  for (const o of list) if (!isMine(o.entry) && inScope(o.entry)) for (const p of o.set) ownedByOthers.add(p);
  const dropped = [...previouslyMine].filter((p) => !appliedValues.has(p) && !ownedByOthers.has(p));
  // Shortest paths first: a dropped list item goes as a whole before its (then absent) fields.
  for (const p of dropped.sort((a, b) => a.length - b.length)) removePath(merged, p);
  // kube-apiserver leaves no husk: an object field or list emptied by the removal goes too, unless the
  // applier still applies it (an explicit {}) or another manager owns it.
  const kept = (p: FieldPath) => appliedValues.has(p) || ownedByOthers.has(p);
  for (const p of dropped.sort((a, b) => b.length - a.length)) pruneEmptiedParents(merged, p, kept);

  if (!mine) {
    const entry: ManagedFieldsEntry = { manager: ctx.manager, operation: "Apply", apiVersion: ctx.apiVersion, time: nowIso(), fieldsType: "FieldsV1", fieldsV1: {} };
    if (subresource) entry.subresource = subresource;
    list.push((mine = { entry, set: new Set() }));
  }
  mine.set = new Set(appliedValues.keys());
  const sameOwnership = previouslyMine.size === mine.set.size && [...mine.set].every((p) => previouslyMine.has(p));
  const objectSame = live !== undefined && deepEqual(stripManaged(merged), stripManaged(live));
  if (live && objectSame && sameOwnership && !list.some((o) => !isMine(o.entry) && ownershipShrunk(o, live))) {
    return { object: live, noop: true };
  }
  mine.entry = { ...mine.entry, time: nowIso(), apiVersion: ctx.apiVersion };
  merged.metadata.managedFields = writeOwners(list);
  if (!merged.metadata.managedFields) delete merged.metadata.managedFields;
  return { object: merged, noop: false };
}

function ownershipShrunk(o: Owner, live: KObj): boolean {
  const before = (live.metadata.managedFields ?? []).find((e) => e === o.entry);
  return before !== undefined && fieldsV1ToSet(before.fieldsV1).size !== o.set.size;
}

const stripManaged = (o: KObj): KObj => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } });

/** The part of an applied configuration that this endpoint may change. */
function scopedPart(applied: KObj, ctx: WriteContext): Json {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(applied)) {
    if (k === "apiVersion" || k === "kind") continue;
    if (ctx.statusSeparate && ((ctx.scope === "main" && k === "status") || (ctx.scope === "status" && k !== "status"))) continue;
    if (k === "metadata" && isPlainObject(v)) {
      const m: Record<string, Json> = {};
      for (const [mk, mv] of Object.entries(v)) if (!IGNORED_METADATA.has(mk)) m[mk] = mv;
      out.metadata = m;
    } else out[k] = v;
  }
  return out;
}

function applyMerge(live: Json, applied: Json, names: FieldNames, lists: ListSemanticsResolver): Json {
  if (isPlainObject(applied)) {
    const out: Record<string, Json> = isPlainObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) {
        delete out[k];
        continue;
      }
      out[k] = applyMerge(out[k], v, [...names, k], lists);
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const sem = lists(names);
    if (sem?.type === "set") {
      const out = [...live];
      for (const v of applied) if (!out.some((x) => deepEqual(x, v))) out.push(v);
      return out;
    }
    if (sem?.type === "map" && applied.every(isPlainObject)) {
      const out = [...live];
      for (const item of applied) {
        const idx = out.findIndex((x) => isPlainObject(x) && keyOf(x, sem.keys) === keyOf(item, sem.keys));
        if (idx >= 0) out[idx] = applyMerge(out[idx], item, names, lists);
        else out.push(clone(item));
      }
      return out;
    }
  }
  return clone(applied);
}

/** Navigates to the container holding the last element of `els` (undefined when absent). */
function containerOf(obj: Json, els: string[]): Json {
  let cur: Json = obj;
  for (const el of els.slice(0, -1)) {
    if (el.startsWith("f:")) {
      if (!isPlainObject(cur)) return undefined;
      cur = cur[el.slice(2)];
    } else if (el.startsWith("k:")) {
      if (!Array.isArray(cur)) return undefined;
      const key = JSON.parse(el.slice(2)) as Record<string, Json>;
      cur = cur.find((x: Json) => isPlainObject(x) && Object.entries(key).every(([a, b]) => deepEqual(x[a], b)));
    } else return undefined;
  }
  return cur;
}

/** Deletes the object fields and lists on `path`'s way up that are now empty, deepest first. */
function pruneEmptiedParents(obj: Json, path: FieldPath, kept: (p: FieldPath) => boolean): void {
  const els = path.split(SEP);
  for (let n = els.length - 1; n >= 1; n--) {
    const prefix = els.slice(0, n);
    const last = prefix[prefix.length - 1]!;
    if (!last.startsWith("f:") || kept(prefix.join(SEP))) return;
    const parent = containerOf(obj, prefix);
    if (!isPlainObject(parent)) return;
    const v = parent[last.slice(2)];
    const empty = (isPlainObject(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);
    if (!empty) return;
    delete parent[last.slice(2)];
  }
}

function removePath(obj: Json, path: FieldPath): void {
  const els = path.split(SEP);
  // The key fields of a keyed list item identify it: they go only with the item itself.
  const parent = els[els.length - 2];
  if (parent?.startsWith("k:") && els[els.length - 1].startsWith("f:") && els[els.length - 1].slice(2) in (JSON.parse(parent.slice(2)) as object)) return;
  let cur: Json = obj;
  for (let i = 0; i < els.length; i++) {
    const el = els[i];
    const last = i === els.length - 1;
    if (el.startsWith("f:")) {
      if (!isPlainObject(cur)) return;
      if (last) {
        delete cur[el.slice(2)];
        return;
      }
      cur = cur[el.slice(2)];
    } else if (el.startsWith("k:")) {
      if (!Array.isArray(cur)) return;
      const key = JSON.parse(el.slice(2)) as Record<string, Json>;
      const idx = cur.findIndex((x: Json) => isPlainObject(x) && Object.entries(key).every(([a, b]) => deepEqual(x[a], b)));
      if (idx < 0) return;
      if (last) {
        cur.splice(idx, 1);
        return;
      }
      cur = cur[idx];
    } else if (el.startsWith("v:")) {
      if (!Array.isArray(cur)) return;
      const val = JSON.parse(el.slice(2));
      const idx = cur.findIndex((x: Json) => deepEqual(x, val));
      if (idx >= 0) cur.splice(idx, 1);
      return;
    }
  }
}
