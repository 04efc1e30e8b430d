// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.
import jsonpatch from "fast-json-patch";
import { ApiError, badRequest } from "./errors.js";
import { clone, deepEqual, isPlainObject } from "./objects.js";
import type { FieldNames, ListSemanticsResolver } from "./list-semantics.js";
import type { Json } from "./types.js";

export function mergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, Json> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest("json patch must be an array of operations");
  try {
    return jsonpatch.applyPatch(clone(target), ops, true, false).newDocument;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    const name = (e as { name?: string }).name;
    const message = (e as Error).message.split("\n")[0];
    if (name === "TEST_OPERATION_FAILED") throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `the server rejected our request due to an error in our request: testing value failed`, reason: "Invalid", code: 422 });
    throw badRequest(`the server rejected our request due to an error in our request: ${message}`);
  }
}

const SET_ORDER = "$setElementOrder/";
const DELETE_FROM = "$deleteFromPrimitiveList/";

/** Strategic merge patch with the directives kubectl sends ($patch, $retainKeys, $setElementOrder, $deleteFromPrimitiveList). */
export function strategicMergePatch(target: Json, patch: Json, lists: ListSemanticsResolver): Json {
  return smpMap(isPlainObject(target) ? target : {}, patch, [], lists);
}

function smpMap(orig: Record<string, Json>, patch: Json, names: FieldNames, lists: ListSemanticsResolver): Json {
  if (!isPlainObject(patch)) return clone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _drop, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const out: Record<string, Json> = { ...orig };
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys" || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_FROM)) {
      const field = k.slice(DELETE_FROM.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = out[field].filter((x: Json) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const childNames = [...names, k];
    if (Array.isArray(v)) {
      out[k] = smpList(Array.isArray(out[k]) ? out[k] : [], v, childNames, lists);
    } else if (isPlainObject(v)) {
      const merged = smpMap(isPlainObject(out[k]) ? out[k] : {}, v, childNames, lists);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k];
  }
  return out;
}

function smpList(orig: Json[], patch: Json[], names: FieldNames, lists: ListSemanticsResolver): Json[] {
  if (patch.some((x) => isPlainObject(x) && x.$patch === "replace")) {
    return patch.filter((x) => !(isPlainObject(x) && x.$patch === "replace")).map(stripDirectives);
  }
  const sem = lists(names);
  if (sem?.type === "set") {
    const out = [...orig];
    for (const v of patch) if (!out.some((x) => deepEqual(x, v))) out.push(v);
    return out;
  }
  if (sem?.type !== "map") return patch.map(stripDirectives);
  const out = [...orig];
  const same = (a: Json, b: Json) => isPlainObject(a) && sem.keys.every((key) => deepEqual(a[key], b[key]));
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const idx = out.findIndex((x) => same(x, item));
    if (item.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpMap(out[idx], item, names, lists);
    else out.push(stripDirectives(item));
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isPlainObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}
