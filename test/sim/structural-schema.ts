// The simulator's own structural-schema handling for custom resources, written from the apiserver's
// behaviour and independent of operator/src/api (so the simulator and `validate` are two oracles):
// pruning, defaulting, OpenAPI validation by ajv compiled from the openAPIV3Schema, list types, and
// x-kubernetes-validations evaluated with cel-js. Errors are apiserver causes (field: Invalid value …).
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsImport from "ajv-formats";
import { Environment, Optional } from "@marcbachmann/cel-js";
import type { StatusCause } from "./errors.js";
import type { Json } from "./types.js";

type Schema = Json;
type Seg = { prop: string } | { key: string } | { index: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** field.Path rendering: properties dotted, map keys and indices in brackets. */
function pathString(segs: Seg[]): string {
  let out = "";
  for (const s of segs) {
    if ("prop" in s) out += out ? `.${s.prop}` : s.prop;
    else if ("key" in s) out += `[${s.key}]`;
    else out += `[${s.index}]`;
  }
  return out;
}

/** The schema of `key` under an object schema and how the apiserver names that step. */
function child(schema: Schema | undefined, key: string): { schema?: Schema; seg: Seg } {
  if (schema?.properties && Object.hasOwn(schema.properties, key)) return { schema: schema.properties[key], seg: { prop: key } };
  if (isObject(schema?.additionalProperties)) return { schema: schema.additionalProperties, seg: { key } };
  return { seg: { prop: key } };
}

const OBJECT_META_KEYS = ["apiVersion", "kind", "metadata"];

// ---- pruning -----------------------------------------------------------------------------

/** Drops undeclared fields in place (apiVersion/kind/metadata kept at the root and in embedded resources); returns their paths. */
export function prune(schema: Schema, obj: Json): string[] {
  const dropped: string[] = [];
  pruneAt(schema, obj, [], true, dropped);
  return dropped;
}

function pruneAt(schema: Schema | undefined, value: unknown, path: Seg[], keepMeta: boolean, dropped: string[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => pruneAt(schema.items, item, [...path, { index }], schema.items?.["x-kubernetes-embedded-resource"] === true, dropped));
    return;
  }
  if (!isObject(value)) return;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true || schema.additionalProperties === true;
  for (const key of Object.keys(value)) {
    // ObjectMeta is the apiserver's, whatever the schema says of it (at most name/generateName constraints)
    if (keepMeta && key === "metadata") continue;
    const { schema: sub, seg } = child(schema, key);
    if (sub) {
      pruneAt(sub, value[key], [...path, seg], sub["x-kubernetes-embedded-resource"] === true, dropped);
    } else if (!preserve && !(keepMeta && OBJECT_META_KEYS.includes(key))) {
      dropped.push(pathString([...path, seg]));
      delete value[key];
    }
  }
}

// ---- defaulting --------------------------------------------------------------------------

/** Sets each absent (or null, when not nullable) property with a default, depth first, in place. */
export function applyDefaults(schema: Schema | undefined, value: unknown): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const item of value) applyDefaults(schema.items, item);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, sub] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    const absent = value[key] === undefined || (value[key] === null && sub.nullable !== true);
    if (absent && sub.default !== undefined) value[key] = structuredClone(sub.default);
  }
  for (const key of Object.keys(value)) applyDefaults(child(schema, key).schema, value[key]);
}

// ---- OpenAPI validation (ajv) ------------------------------------------------------------

const addFormats = ((addFormatsImport as unknown as { default?: typeof addFormatsImport }).default ?? addFormatsImport) as unknown as (ajv: Ajv) => void;
/** Formats the apiserver checks that ajv-formats also knows; others are ignored, as the apiserver ignores unknown ones. */
const CHECKED_FORMATS = new Set(["date-time", "date", "uuid", "ipv4", "ipv6", "uri", "email", "hostname", "byte"]);
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
addFormats(ajv);
const compiled = new WeakMap<object, ValidateFunction>();

/** The openAPIV3Schema as plain JSON Schema: Kubernetes extensions become their JSON Schema meaning or are left to the walks below. */
function toJsonSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith("x-kubernetes-") || k === "nullable" || k === "default" || k === "description" || k === "example") continue;
    if (k === "format" && !CHECKED_FORMATS.has(String(v))) continue;
    if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, toJsonSchema(s)]));
    else if (k === "items" || k === "not") out[k] = toJsonSchema(v);
    else if (k === "additionalProperties") out[k] = isObject(v) ? toJsonSchema(v) : v;
    else if (k === "allOf" || k === "anyOf" || k === "oneOf") out[k] = (v as Schema[]).map(toJsonSchema);
    else out[k] = v;
  }
  // int-or-string: an integer or a string, whatever anyOf below it says about which.
  if (schema["x-kubernetes-int-or-string"] === true) out.type = ["integer", "string"];
  if (schema.nullable === true && out.type) out.type = [...[out.type].flat(), "null"];
  if (schema.nullable === true && out.enum) out.enum = [...out.enum, null];
  // embedded resources: apiVersion and kind must be set
  if (schema["x-kubernetes-embedded-resource"] === true) out.required = [...new Set([...(out.required ?? []), "apiVersion", "kind"])];
  return out;
}

function validator(schema: Schema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(toJsonSchema(schema));
    compiled.set(schema, fn);
  }
  return fn;
}

/** An ajv instance path (/spec/a/0) as field.Path segments, telling map keys from properties by the schema. */
function segmentsOf(schema: Schema, pointer: string): { segs: Seg[]; schema?: Schema } {
  const segs: Seg[] = [];
  let at: Schema | undefined = schema;
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (at?.type === "array" || (at?.items && /^\d+$/.test(part))) {
      segs.push({ index: Number(part) });
      at = at?.items;
    } else {
      const c = child(at, part);
      segs.push(c.seg);
      at = c.schema;
    }
  }
  return { segs, schema: at };
}

/** A value as the apiserver prints it in "Invalid value: …" (Go %#v-ish: strings quoted, numbers bare). */
function shown(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : typeof v === "number" || typeof v === "boolean" ? String(v) : v === null ? "null" : Array.isArray(v) ? "array" : "object";
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function valueAt(obj: unknown, pointer: string): unknown {
  let at: unknown = obj;
  for (const raw of pointer.split("/").slice(1)) at = (at as Record<string, unknown> | undefined)?.[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
  return at;
}

function causeFromAjv(root: Schema, obj: unknown, e: ErrorObject): StatusCause {
  const { segs } = segmentsOf(root, e.instancePath);
  const field = pathString(segs);
  const value = valueAt(obj, e.instancePath);
  const inBody = field || "body";
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required": {
      const missing = String(p.missingProperty);
      return { reason: "FieldValueRequired", field: pathString([...segs, { prop: missing }]), message: "Required value" };
    }
    case "enum":
      return { reason: "FieldValueNotSupported", field, message: `Unsupported value: ${shown(value)}: supported values: ${(p.allowedValues as unknown[]).map((a) => shown(a)).join(", ")}` };
    case "type":
      return { reason: "FieldValueTypeInvalid", field, message: `Invalid value: ${JSON.stringify(typeName(value))}: ${inBody} in body must be of type ${[p.type].flat().join("/")}: ${JSON.stringify(typeName(value))}` };
    case "maxLength":
      return { reason: "FieldValueTooLong", field, message: `Too long: may not be more than ${p.limit} bytes` };
    case "maxItems":
    case "maxProperties":
      return { reason: "FieldValueTooMany", field, message: `Too many: ${Array.isArray(value) ? value.length : Object.keys(value as object).length}: must have at most ${p.limit} items` };
    case "minLength":
      return { reason: "FieldValueInvalid", field, message: `Invalid value: ${shown(value)}: ${inBody} in body should be at least ${p.limit} chars long` };
    case "pattern":
      return { reason: "FieldValueInvalid", field, message: `Invalid value: ${shown(value)}: ${inBody} in body should match '${p.pattern}'` };
    case "minimum":
    case "exclusiveMinimum":
      return { reason: "FieldValueInvalid", field, message: `Invalid value: ${shown(value)}: ${inBody} in body should be greater than ${e.keyword === "minimum" ? "or equal to " : ""}${p.limit}` };
    case "maximum":
    case "exclusiveMaximum":
      return { reason: "FieldValueInvalid", field, message: `Invalid value: ${shown(value)}: ${inBody} in body should be less than ${e.keyword === "maximum" ? "or equal to " : ""}${p.limit}` };
    case "minItems":
      return { reason: "FieldValueInvalid", field, message: `Invalid value: ${(value as unknown[]).length}: ${inBody} in body should have at least ${p.limit} items` };
    case "format":
      return { reason: "FieldValueInvalid", field, message: `Invalid value: ${shown(value)}: ${inBody} in body must be of type ${p.format}: ${shown(value)}` };
    default:
      return { reason: "FieldValueInvalid", field, message: `Invalid value: ${shown(value)}: ${inBody} ${e.message ?? `fails ${e.keyword}`}` };
  }
}

// ---- list types --------------------------------------------------------------------------

function listTypeCauses(schema: Schema | undefined, value: unknown, path: Seg[], out: StatusCause[]): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    const type = schema["x-kubernetes-list-type"];
    const keys: string[] = schema["x-kubernetes-list-map-keys"] ?? [];
    const seen = new Set<string>();
    value.forEach((item, index) => {
      const identity = type === "set" ? JSON.stringify(item) : type === "map" && isObject(item) ? JSON.stringify(keys.map((k) => item[k] ?? schema.items?.properties?.[k]?.default ?? null)) : undefined;
      if (identity !== undefined && seen.has(identity)) {
        const dup = type === "map" && isObject(item) ? `{${keys.map((k) => `"${k}":${shown(item[k])}`).join(", ")}}` : shown(item);
        out.push({ reason: "FieldValueDuplicate", field: pathString([...path, { index }]), message: `Duplicate value: ${dup}` });
      }
      if (identity !== undefined) seen.add(identity);
      listTypeCauses(schema.items, item, [...path, { index }], out);
    });
    return;
  }
  if (isObject(value)) for (const key of Object.keys(value)) {
    const c = child(schema, key);
    listTypeCauses(c.schema, value[key], [...path, c.seg], out);
  }
}

// ---- CEL (x-kubernetes-validations) -------------------------------------------------------

const cel = new Environment({ unlistedVariablesAreDyn: true, enableOptionalTypes: true, homogeneousAggregateLiterals: false });
const programs = new Map<string, (ctx: Record<string, unknown>) => unknown>();

function program(expr: string): (ctx: Record<string, unknown>) => unknown {
  let p = programs.get(expr);
  if (!p) {
    p = cel.parse(expr) as (ctx: Record<string, unknown>) => unknown;
    programs.set(expr, p);
  }
  return p;
}

/** JSON → CEL: whole numbers of integer, int-or-string and untyped fields are CEL ints (BigInt); nulls are absent. */
function celValue(schema: Schema | undefined, v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) && schema?.type !== "number" ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((item) => celValue(schema?.items, item));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = celValue(child(schema, k).schema, x);
    return out;
  }
  return v;
}

function schemaType(schema: Schema, v: unknown): string {
  return schema["x-kubernetes-int-or-string"] ? (typeof v === "string" ? "string" : "integer") : schema.type ?? typeName(v);
}

/** fieldPath (".a.b" or ".a['x']") below the rule's node, as segments. */
function ruleFieldPath(schema: Schema, fieldPath: string): Seg[] {
  const segs: Seg[] = [];
  let at: Schema | undefined = schema;
  for (const m of fieldPath.matchAll(/\.([A-Za-z_][\w]*)|\['([^']*)'\]/g)) {
    const c = child(at, m[1] ?? m[2]!);
    segs.push(c.seg);
    at = c.schema;
  }
  return segs;
}

function ruleCause(rule: Json, schema: Schema, value: unknown, path: Seg[], detail: string): StatusCause {
  const field = pathString(rule.fieldPath ? [...path, ...ruleFieldPath(schema, rule.fieldPath)] : path);
  if (rule.reason === "FieldValueRequired") return { reason: rule.reason, field, message: `Required value: ${detail}` };
  if (rule.reason === "FieldValueForbidden") return { reason: rule.reason, field, message: `Forbidden: ${detail}` };
  if (rule.reason === "FieldValueDuplicate") return { reason: rule.reason, field, message: `Duplicate value: ${JSON.stringify(detail)}` };
  return { reason: "FieldValueInvalid", field, message: `Invalid value: ${JSON.stringify(schemaType(schema, value))}: ${detail}` };
}

function typeMatches(schema: Schema, v: unknown): boolean {
  if (schema["x-kubernetes-int-or-string"]) return typeof v === "string" || Number.isInteger(v);
  const t = schema.type;
  return !t || (t === "object" ? isObject(v) : t === "array" ? Array.isArray(v) : t === "integer" ? Number.isInteger(v) : typeof v === t);
}

/** Every rule at every node; rules naming oldSelf only where the old value correlates (or optionalOldSelf). */
function celCauses(schema: Schema | undefined, value: unknown, old: unknown, hasOld: boolean, path: Seg[], out: StatusCause[]): void {
  if (!schema || value === undefined || value === null || !typeMatches(schema, value)) return;
  const rules: Json[] = schema["x-kubernetes-validations"] ?? [];
  if (rules.length) {
    const self = celValue(schema, value);
    for (const rule of rules) {
      const transition = /\boldSelf\b/.test(rule.rule);
      if (transition && !hasOld && !rule.optionalOldSelf) continue;
      const oldSelf = hasOld ? celValue(schema, old) : undefined;
      const ctx = !transition ? { self } : rule.optionalOldSelf ? { self, oldSelf: hasOld ? Optional.of(oldSelf) : Optional.none() } : { self, oldSelf };
      let ok: unknown;
      try {
        ok = program(rule.rule)(ctx);
      } catch (err) {
        out.push(ruleCause({ ...rule, reason: undefined }, schema, value, path, `${String((err as Error).message ?? err).split("\n")[0]} evaluating rule: ${rule.rule}`));
        continue;
      }
      if (ok === true) continue;
      let detail: string = rule.message ?? `failed rule: ${rule.rule}`;
      if (rule.messageExpression) {
        try {
          const m = program(rule.messageExpression)(ctx);
          if (typeof m === "string" && m.trim() !== "" && !m.includes("\n")) detail = m;
        } catch {
          // the apiserver keeps message (or the rule) when messageExpression fails
        }
      }
      out.push(ruleCause(rule, schema, value, path, detail));
    }
  }
  if (Array.isArray(value)) {
    const keys: string[] | undefined = schema["x-kubernetes-list-type"] === "map" ? schema["x-kubernetes-list-map-keys"] ?? [] : undefined;
    const idOf = (item: unknown) => (keys && isObject(item) ? JSON.stringify(keys.map((k) => item[k] ?? null)) : undefined);
    const olds = new Map<string, unknown>();
    if (keys && hasOld && Array.isArray(old)) for (const o of old) if (idOf(o) !== undefined) olds.set(idOf(o)!, o);
    value.forEach((item, index) => {
      const id = idOf(item);
      const correlated = id !== undefined && olds.has(id);
      celCauses(schema.items, item, correlated ? olds.get(id!) : undefined, correlated, [...path, { index }], out);
    });
    return;
  }
  if (!isObject(value)) return;
  const oldObj = hasOld && isObject(old) ? old : undefined;
  for (const key of Object.keys(value)) {
    const c = child(schema, key);
    const o = oldObj?.[key];
    celCauses(c.schema, value[key], o, o !== undefined && o !== null, [...path, c.seg], out);
  }
}

/** Errors after which the apiserver does not run CEL rules (its hasBlockingErr). */
const BLOCKING = new Set(["FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany", "FieldValueTypeInvalid"]);

/** Validates a pruned, defaulted object: ajv, list types, then CEL (unless a blocking error was found). */
export function validate(schema: Schema, obj: Json, old: Json | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const fn = validator(schema);
  if (!fn(obj)) {
    // anyOf/oneOf report each branch and then themselves; the apiserver names the field once
    const all = fn.errors ?? [];
    const errs = all.filter(
      (e, i) =>
        !all.slice(0, i).some((p) => p.instancePath === e.instancePath && p.keyword === e.keyword && e.keyword !== "required") &&
        !((e.keyword === "anyOf" || e.keyword === "oneOf") && all.some((p) => p !== e && p.instancePath === e.instancePath && p.keyword !== e.keyword)),
    );
    for (const e of errs) causes.push(causeFromAjv(schema, obj, e));
  }
  listTypeCauses(schema, obj, [], causes);
  if (causes.some((c) => BLOCKING.has(c.reason ?? ""))) {
    causes.push({ reason: "FieldValueInvalid", field: "", message: "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation" });
    return causes;
  }
  celCauses(schema, obj, old, old !== undefined, [], causes);
  return causes;
}
