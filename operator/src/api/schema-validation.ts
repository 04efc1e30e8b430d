// Generic structural-schema machinery with apiserver semantics, for ANY CRD's openAPIV3Schema:
// pruning, defaulting, OpenAPI validation (ajv) and x-kubernetes-validations (CEL), errors shaped like
// k8s.io/apimachinery field.Error and the 422 Status body. The cluster simulator reuses it.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { Environment, Optional } from "@marcbachmann/cel-js";

/** apiextensions.k8s.io/v1 JSONSchemaProps (the structural subset plus Kubernetes extensions). */
export interface JSONSchemaProps {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  title?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minProperties?: number;
  maxProperties?: number;
  required?: string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  allOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  nullable?: boolean;
  example?: unknown;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-validations"?: ValidationRule[];
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export type FieldErrorType =
  | "FieldValueRequired"
  | "FieldValueInvalid"
  | "FieldValueNotSupported"
  | "FieldValueTooLong"
  | "FieldValueTooMany"
  | "FieldValueForbidden"
  | "FieldValueTypeInvalid"
  | "FieldValueDuplicate"
  | "InternalError";

/** One problem, like field.Error: `message` is the body the apiserver puts in causes[].message. */
export interface FieldError {
  field: string;
  type: FieldErrorType;
  message: string;
  value?: unknown;
}

/** `spec.x: Invalid value: ...`, the line the apiserver prints for one error. */
export function formatFieldError(error: FieldError): string {
  return error.field ? `${error.field}: ${error.message}` : error.message;
}

// ---------------------------------------------------------------------------------------------
// Schema navigation

type PathSegment = { kind: "prop"; name: string } | { kind: "key"; name: string } | { kind: "index"; index: number };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function childSchema(schema: JSONSchemaProps | undefined, key: string): { schema?: JSONSchemaProps; segment: PathSegment } {
  if (schema?.properties && Object.prototype.hasOwnProperty.call(schema.properties, key)) {
    return { schema: schema.properties[key], segment: { kind: "prop", name: key } };
  }
  if (schema && typeof schema.additionalProperties === "object") {
    return { schema: schema.additionalProperties, segment: { kind: "key", name: key } };
  }
  return { schema: undefined, segment: { kind: "prop", name: key } };
}

/** apimachinery field.Path rendering: `spec.a.b[0][mapKey]`. */
export function renderFieldPath(segments: PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (segment.kind === "prop") out += out ? `.${segment.name}` : segment.name;
    else if (segment.kind === "key") out += `[${segment.name}]`;
    else out += `[${segment.index}]`;
  }
  return out;
}

function deepCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

const ROOT_META_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

// ---------------------------------------------------------------------------------------------
// Pruning

/**
 * Drops fields the schema does not declare, as the apiserver does silently on write. apiVersion, kind and
 * metadata are kept at the root and in x-kubernetes-embedded-resource objects. Returns a new object.
 */
export function pruneUnknownFields(schema: JSONSchemaProps, obj: unknown): unknown {
  return pruneValue(schema, deepCopy(obj), true, [], undefined);
}

/** The fields pruneUnknownFields would drop, as field paths (for strict, client-side warnings). */
export function findUnknownFields(schema: JSONSchemaProps, obj: unknown): string[] {
  const found: string[] = [];
  pruneValue(schema, deepCopy(obj), true, [], found);
  return found;
}

function pruneValue(
  schema: JSONSchemaProps | undefined,
  value: unknown,
  keepMeta: boolean,
  path: PathSegment[],
  found: string[] | undefined,
): unknown {
  if (!schema) return value;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, index) => pruneValue(schema.items, item, false, [...path, { kind: "index", index }], found));
    return value;
  }
  if (!isPlainObject(value)) return value;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const embedded = keepMeta || schema["x-kubernetes-embedded-resource"] === true;
  for (const key of Object.keys(value)) {
    // The apiserver handles apiVersion, kind and metadata of resources itself.
    if (embedded && ROOT_META_FIELDS.has(key)) continue;
    const { schema: sub, segment } = childSchema(schema, key);
    if (sub) {
      value[key] = pruneValue(sub, value[key], false, [...path, segment], found);
      continue;
    }
    if (preserve || schema.additionalProperties === true) continue;
    found?.push(renderFieldPath([...path, segment]));
    delete value[key];
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Defaulting

/**
 * Structural defaulting as the apiserver does it: a property with a `default` that is missing (or a
 * non-nullable null) in a present object gets a copy of the default, then defaulting recurses into every
 * property, map value and list item, including defaulted values. Non-nullable nulls without a default are
 * dropped. Returns a new object.
 */
export function applySchemaDefaults(schema: JSONSchemaProps, obj: unknown): unknown {
  const copy = deepCopy(obj);
  defaultValue(schema, copy);
  return copy;
}

function defaultValue(schema: JSONSchemaProps | undefined, value: unknown): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    for (const item of value) defaultValue(schema.items, item);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const current = value[key];
    const nonNullableNull = current === null && !prop.nullable;
    if (prop.default !== undefined && (current === undefined || nonNullableNull)) value[key] = deepCopy(prop.default);
    else if (nonNullableNull) delete value[key];
  }
  for (const key of Object.keys(value)) {
    const { schema: sub } = childSchema(schema, key);
    if (sub) defaultValue(sub, value[key]);
  }
}

// ---------------------------------------------------------------------------------------------
// OpenAPI validation with ajv

const KUBERNETES_ONLY_FORMATS: Record<string, RegExp | true> = {
  bsonobjectid: /^[0-9a-fA-F]{24}$/,
  cidr: /^(((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)|[0-9a-fA-F:.]+\/(12[0-8]|1[01]\d|[1-9]?\d))$/,
  mac: /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/,
  uuid3: /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  uuid4: /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i,
  uuid5: /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i,
  hexcolor: /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/,
  rgbcolor: /^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$/,
  datetime: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
  isbn: true,
  isbn10: true,
  isbn13: true,
  creditcard: true,
  ssn: true,
};

const ajv = new Ajv({ allErrors: true, strict: false, logger: false, validateFormats: true });
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
addFormats(ajv);
for (const [name, format] of Object.entries(KUBERNETES_ONLY_FORMATS)) ajv.addFormat(name, format);

const compiledSchemas = new WeakMap<JSONSchemaProps, ValidateFunction>();

/** Rewrites the Kubernetes dialect into plain JSON Schema for ajv (int-or-string, nullable, extensions). */
function toAjvSchema(schema: JSONSchemaProps): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "default" || key === "nullable" || key === "example") continue;
    if (key === "properties") {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JSONSchemaProps>).map(([k, v]) => [k, toAjvSchema(v)]));
    } else if (key === "items" || key === "not" || (key === "additionalProperties" && typeof value === "object")) {
      out[key] = toAjvSchema(value as JSONSchemaProps);
    } else if (key === "allOf" || key === "anyOf" || key === "oneOf") {
      out[key] = (value as JSONSchemaProps[]).map(toAjvSchema);
    } else {
      out[key] = value;
    }
  }
  if (schema["x-kubernetes-int-or-string"]) {
    const typeOnly = (s: JSONSchemaProps) => Object.keys(s).every((k) => k === "type");
    if (Array.isArray(schema.anyOf) && schema.anyOf.every(typeOnly)) delete out.anyOf;
    out.type = ["integer", "string"];
  }
  if (schema.nullable && typeof out.type === "string") {
    out.type = [out.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

/** Callers may parse the same CRD again and again (a simulator per request): cache by content too. */
const compiledByContent = new Map<string, ValidateFunction>();

function compiled(schema: JSONSchemaProps): ValidateFunction {
  let fn = compiledSchemas.get(schema);
  if (!fn) {
    const content = JSON.stringify(schema);
    fn = compiledByContent.get(content) ?? ajv.compile(toAjvSchema(schema));
    compiledByContent.set(content, fn);
    compiledSchemas.set(schema, fn);
  }
  return fn;
}

/** Go-like rendering of a bad value: strings quoted, numbers bare, objects as JSON. */
function goValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function jsonTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function pointerToSegments(schema: JSONSchemaProps, root: unknown, pointer: string): { segments: PathSegment[]; value: unknown; schema?: JSONSchemaProps } {
  const parts = pointer === "" ? [] : pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const segments: PathSegment[] = [];
  let value: unknown = root;
  let current: JSONSchemaProps | undefined = schema;
  for (const part of parts) {
    if (Array.isArray(value)) {
      const index = Number(part);
      segments.push({ kind: "index", index });
      value = value[index];
      current = current?.items;
    } else {
      const { schema: sub, segment } = childSchema(current, part);
      segments.push(segment);
      value = isPlainObject(value) ? value[part] : undefined;
      current = sub;
    }
  }
  return { segments, value, schema: current };
}

function ajvErrorToFieldError(schema: JSONSchemaProps, root: unknown, error: ErrorObject): FieldError | undefined {
  const at = pointerToSegments(schema, root, error.instancePath);
  const field = renderFieldPath(at.segments);
  const value = at.value;
  const params = error.params as Record<string, unknown>;
  const invalid = (detail: string): FieldError => ({
    field,
    type: "FieldValueInvalid",
    value,
    message: `Invalid value: ${goValue(value)}: ${field} in body ${detail}`,
  });
  switch (error.keyword) {
    case "required": {
      const missing = String(params.missingProperty);
      const { segment } = childSchema(at.schema, missing);
      return { field: renderFieldPath([...at.segments, segment]), type: "FieldValueRequired", message: "Required value" };
    }
    case "type": {
      const actual = jsonTypeName(value);
      const expected = String(params.type).split(",")[0];
      return {
        field,
        type: "FieldValueTypeInvalid",
        value: actual,
        message: `Invalid value: ${JSON.stringify(actual)}: ${field} in body must be of type ${expected}: ${JSON.stringify(actual)}`,
      };
    }
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(goValue).join(", ");
      return { field, type: "FieldValueNotSupported", value, message: `Unsupported value: ${goValue(value)}: supported values: ${allowed}` };
    }
    case "pattern":
      return invalid(`should match '${String(params.pattern)}'`);
    case "format":
      return invalid(`must be of type ${String(params.format)}: ${goValue(value)}`);
    case "maxLength":
      return { field, type: "FieldValueTooLong", value, message: `Too long: may not be more than ${String(params.limit)} bytes` };
    case "minLength":
      return invalid(`should be at least ${String(params.limit)} chars long`);
    case "maxItems":
    case "maxProperties": {
      const size = Array.isArray(value) ? value.length : isPlainObject(value) ? Object.keys(value).length : 0;
      return { field, type: "FieldValueTooMany", value: size, message: `Too many: ${size}: must have at most ${String(params.limit)} items` };
    }
    case "minItems":
      return invalid(`should have at least ${String(params.limit)} items`);
    case "minProperties":
      return invalid(`should have at least ${String(params.limit)} properties`);
    case "minimum":
    case "exclusiveMinimum":
      return invalid(`should be greater than ${params.comparison === ">=" ? "or equal to " : ""}${String(params.limit)}`);
    case "maximum":
    case "exclusiveMaximum":
      return invalid(`should be less than ${params.comparison === "<=" ? "or equal to " : ""}${String(params.limit)}`);
    case "multipleOf":
      return invalid(`should be a multiple of ${String(params.multipleOf)}`);
    case "uniqueItems":
      return { field: `${field}[${String(params.i)}]`, type: "FieldValueDuplicate", message: `Duplicate value: ${goValue((value as unknown[])[Number(params.i)])}` };
    case "anyOf":
    case "oneOf":
    case "not":
      return invalid(`${error.message ?? "is invalid"}`);
    default:
      // Sub-errors of allOf/anyOf members are reported on their own; "if"/"then" are not in the dialect.
      return error.keyword === "allOf" ? undefined : invalid(error.message ?? "is invalid");
  }
}

// ---------------------------------------------------------------------------------------------
// CEL (x-kubernetes-validations)

const celEnvironment = new Environment({
  unlistedVariablesAreDyn: true,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
});
type CompiledRule = (context: Record<string, unknown>) => unknown;
const compiledRules = new Map<string, CompiledRule>();

/** Parses a CEL expression once; throws with the parser's message when it does not compile. */
export function compileCelRule(expression: string): CompiledRule {
  let fn = compiledRules.get(expression);
  if (!fn) {
    const parsed = celEnvironment.parse(expression);
    fn = (context) => parsed(context);
    compiledRules.set(expression, fn);
  }
  return fn;
}

export function isTransitionRule(rule: ValidationRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

/** Converts JSON to CEL values: integers of integer/int-or-string fields become int, nulls are absent. */
function toCel(schema: JSONSchemaProps | undefined, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "number") {
    const integerField = schema?.type === "integer" || schema?.["x-kubernetes-int-or-string"] === true;
    return integerField && Number.isInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => toCel(schema?.items, item));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === null) continue;
      out[key] = toCel(childSchema(schema, key).schema ?? (schema?.["x-kubernetes-preserve-unknown-fields"] ? {} : undefined), v);
    }
    return out;
  }
  return value;
}

function schemaTypeName(schema: JSONSchemaProps, value: unknown): string {
  return schema.type ?? jsonTypeName(value);
}

function matchesSchemaType(schema: JSONSchemaProps, value: unknown): boolean {
  if (schema["x-kubernetes-int-or-string"]) return typeof value === "string" || (typeof value === "number" && Number.isInteger(value));
  switch (schema.type) {
    case "object": return isPlainObject(value);
    case "array": return Array.isArray(value);
    case "string": return typeof value === "string";
    case "integer": return typeof value === "number" && Number.isInteger(value);
    case "number": return typeof value === "number";
    case "boolean": return typeof value === "boolean";
    default: return true;
  }
}

/** `.a.b` or `.a['x.y']` relative to the rule's node → path segments. */
function parseRuleFieldPath(fieldPath: string, schema: JSONSchemaProps): PathSegment[] {
  const segments: PathSegment[] = [];
  const pattern = /\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]/g;
  let current: JSONSchemaProps | undefined = schema;
  for (const match of fieldPath.matchAll(pattern)) {
    const name = match[1] ?? match[2];
    const { schema: sub, segment } = childSchema(current, name);
    segments.push(segment);
    current = sub;
  }
  return segments;
}

function ruleError(rule: ValidationRule, schema: JSONSchemaProps, value: unknown, path: PathSegment[], detail: string): FieldError {
  const fullPath = rule.fieldPath ? [...path, ...parseRuleFieldPath(rule.fieldPath, schema)] : path;
  const field = renderFieldPath(fullPath);
  switch (rule.reason) {
    case "FieldValueRequired":
      return { field, type: "FieldValueRequired", message: `Required value: ${detail}` };
    case "FieldValueForbidden":
      return { field, type: "FieldValueForbidden", message: `Forbidden: ${detail}` };
    case "FieldValueDuplicate":
      return { field, type: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(detail)}` };
    default: {
      const typeName = schemaTypeName(schema, value);
      return { field, type: "FieldValueInvalid", value: typeName, message: `Invalid value: ${JSON.stringify(typeName)}: ${detail}` };
    }
  }
}

function evaluateRules(schema: JSONSchemaProps, value: unknown, old: unknown, hasOld: boolean, path: PathSegment[], errors: FieldError[]): void {
  const rules = schema["x-kubernetes-validations"];
  if (!rules?.length) return;
  const self = toCel(schema, value);
  const oldSelf = hasOld ? toCel(schema, old) : undefined;
  for (const rule of rules) {
    const transition = isTransitionRule(rule);
    if (transition && !hasOld && !rule.optionalOldSelf) continue;
    // optionalOldSelf: the rule also runs on create, with oldSelf as a CEL optional.
    const context = !transition ? { self } : rule.optionalOldSelf ? { self, oldSelf: Optional.of(oldSelf) } : { self, oldSelf };
    let passed: unknown;
    try {
      passed = compileCelRule(rule.rule)(context);
    } catch (err) {
      const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
      errors.push(ruleError({ ...rule, reason: undefined }, schema, value, path, `${reason} evaluating rule: ${rule.rule}`));
      continue;
    }
    if (passed === true) continue;
    let detail = rule.message ?? `failed rule: ${rule.rule}`;
    if (rule.messageExpression) {
      try {
        const computed = compileCelRule(rule.messageExpression)(context);
        if (typeof computed === "string" && computed.trim() && !computed.includes("\n")) detail = computed;
      } catch {
        // The apiserver falls back to message / the rule text when messageExpression fails.
      }
    }
    errors.push(ruleError(rule, schema, value, path, detail));
  }
}

function listMapKey(item: unknown, keys: string[], itemSchema: JSONSchemaProps | undefined): string | undefined {
  if (!isPlainObject(item)) return undefined;
  return JSON.stringify(keys.map((k) => item[k] ?? itemSchema?.properties?.[k]?.default ?? null));
}

function walkCel(schema: JSONSchemaProps, value: unknown, old: unknown, hasOld: boolean, path: PathSegment[], errors: FieldError[]): void {
  if (value === undefined || value === null || !matchesSchemaType(schema, value)) return;
  evaluateRules(schema, value, old, hasOld, path, errors);
  if (Array.isArray(value)) {
    const itemSchema = schema.items;
    if (!itemSchema) return;
    const keys = schema["x-kubernetes-list-type"] === "map" ? schema["x-kubernetes-list-map-keys"] ?? [] : undefined;
    const oldByKey = new Map<string, unknown>();
    if (keys && hasOld && Array.isArray(old)) {
      for (const item of old) {
        const key = listMapKey(item, keys, itemSchema);
        if (key !== undefined) oldByKey.set(key, item);
      }
    }
    value.forEach((item, index) => {
      const key = keys ? listMapKey(item, keys, itemSchema) : undefined;
      const correlated = key !== undefined && oldByKey.has(key);
      walkCel(itemSchema, item, correlated ? oldByKey.get(key) : undefined, correlated, [...path, { kind: "index", index }], errors);
    });
    return;
  }
  if (!isPlainObject(value)) return;
  const oldObject = hasOld && isPlainObject(old) ? old : undefined;
  for (const [key, child] of Object.entries(value)) {
    const { schema: sub, segment } = childSchema(schema, key);
    if (!sub) continue;
    const oldChild = oldObject?.[key];
    walkCel(sub, child, oldChild, oldChild !== undefined && oldChild !== null, [...path, segment], errors);
  }
}

// ---------------------------------------------------------------------------------------------
// list-type set / map uniqueness (the apiserver reports these as Duplicate value)

function walkListTypes(schema: JSONSchemaProps, value: unknown, path: PathSegment[], errors: FieldError[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    const listType = schema["x-kubernetes-list-type"];
    const seen = new Set<string>();
    value.forEach((item, index) => {
      let identity: string | undefined;
      let shown: unknown = item;
      if (listType === "set") identity = JSON.stringify(item);
      if (listType === "map") {
        const keys = schema["x-kubernetes-list-map-keys"] ?? [];
        identity = listMapKey(item, keys, schema.items);
        if (isPlainObject(item)) shown = Object.fromEntries(keys.map((k) => [k, item[k] ?? schema.items?.properties?.[k]?.default]));
      }
      if (identity !== undefined) {
        if (seen.has(identity)) {
          errors.push({ field: renderFieldPath([...path, { kind: "index", index }]), type: "FieldValueDuplicate", value: shown, message: `Duplicate value: ${goValue(shown)}` });
        }
        seen.add(identity);
      }
      if (schema.items) walkListTypes(schema.items, item, [...path, { kind: "index", index }], errors);
    });
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const { schema: sub, segment } = childSchema(schema, key);
    if (sub) walkListTypes(sub, child, [...path, segment], errors);
  }
}

/** Schema errors after which the apiserver does not evaluate x-kubernetes-validations (hasBlockingErr). */
const CEL_BLOCKING_ERRORS = new Set<FieldErrorType>([
  "FieldValueNotSupported",
  "FieldValueRequired",
  "FieldValueTooLong",
  "FieldValueTooMany",
  "FieldValueTypeInvalid",
]);
export const CEL_SKIPPED_MESSAGE =
  "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

/**
 * Validates `obj` (already pruned and defaulted, as the apiserver does before validating) against the
 * schema: OpenAPI keywords through ajv, list-type uniqueness, and every x-kubernetes-validations rule at
 * every level with `self`; transition rules (those using `oldSelf`) only when `oldObj` is given and the
 * correlated old value exists. As in the apiserver, rules are skipped (with one error saying so) when a
 * type, enum, required, maxLength or maxItems/maxProperties error was found. Unknown fields are not errors
 * here: the apiserver prunes them.
 */
export function validateAgainstSchema(schema: JSONSchemaProps, obj: unknown, oldObj?: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const validate = compiled(schema);
  if (!validate(obj)) {
    const seen = new Set<string>();
    for (const ajvError of validate.errors ?? []) {
      const fieldError = ajvErrorToFieldError(schema, obj, ajvError);
      if (!fieldError) continue;
      const identity = `${fieldError.field}\u0000${fieldError.message}`;
      if (!seen.has(identity)) errors.push(fieldError);
      seen.add(identity);
    }
  }
  walkListTypes(schema, obj, [], errors);
  // Like the apiserver: rules would see values of the wrong shape, so they are skipped and said so.
  if (errors.some((e) => CEL_BLOCKING_ERRORS.has(e.type))) {
    errors.push({ field: "", type: "FieldValueInvalid", value: null, message: `Invalid value: "null": ${CEL_SKIPPED_MESSAGE}` });
    return errors;
  }
  walkCel(schema, obj, oldObj, oldObj !== undefined && oldObj !== null, [], errors);
  return errors;
}

// ---------------------------------------------------------------------------------------------
// The 422 Status body

export interface GroupKind {
  group: string;
  kind: string;
}

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: "Invalid";
  details: { name: string; group?: string; kind: string; causes: Array<{ reason: FieldErrorType; message: string; field: string }> };
  code: 422;
}

/**
 * The Status the apiserver answers a create/update with when validation fails. `kind` is a GroupKind or
 * "Kind.group" ("OlaresInstallation.olares.com"); a kind without a dot is in the core group.
 */
export function toStatusBody(kind: string | GroupKind, name: string, errors: FieldError[]): StatusBody {
  const groupKind: GroupKind =
    typeof kind === "string"
      ? { kind: kind.split(".")[0], group: kind.includes(".") ? kind.slice(kind.indexOf(".") + 1) : "" }
      : kind;
  const qualified = groupKind.group ? `${groupKind.kind}.${groupKind.group}` : groupKind.kind;
  const lines = errors.map(formatFieldError);
  const aggregate = lines.length === 1 ? lines[0] : `[${lines.join(", ")}]`;
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `${qualified} ${JSON.stringify(name)} is invalid: ${aggregate}`,
    reason: "Invalid",
    details: {
      name,
      ...(groupKind.group ? { group: groupKind.group } : {}),
      kind: groupKind.kind,
      causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    },
    code: 422,
  };
}
