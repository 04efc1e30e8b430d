// Full validation of an OlaresInstallation as `validate` and the operator run it: identity, unknown
// fields, CRD schema + CEL (apiserver semantics), then semantic checks the schema cannot express. Every
// problem names the field and the rule it breaks.
import { isDns1123Subdomain } from "../contract/index.js";
import { semanticProblemsByRule, type ValidationProblem } from "./semantic-rules.js";
import { API_VERSION, KIND, loadSchema } from "./crd.js";
import { applyCrdDefaults } from "./defaults.js";
import { suggestField } from "./field-suggestions.js";
import { CEL_SKIPPED_MESSAGE, findUnknownFields, pruneUnknownFields, validateAgainstSchema, type FieldError } from "./schema-validation.js";
import type { OlaresInstallation, OlaresInstallationSpec } from "./types.generated.js";

export type { ValidationProblem } from "./semantic-rules.js";

export interface ValidationResult {
  valid: boolean;
  problems: ValidationProblem[];
  /** The pruned and CRD-defaulted object (what the apiserver would store). */
  object: OlaresInstallation;
}

export interface ValidateOptions {
  /** The stored object, to check transition rules (immutable fields, no downgrades). */
  oldObject?: unknown;
  /** Report fields the CRD does not declare (the apiserver would silently drop them). Default true. */
  strict?: boolean;
}

export function formatProblem(problem: ValidationProblem): string {
  return problem.field ? `${problem.field}: ${problem.rule}` : problem.rule;
}

/** Validates one document; never throws on bad input. */
export function validateInstallation(document: unknown, options: ValidateOptions = {}): ValidationResult {
  const schema = loadSchema();
  const problems: ValidationProblem[] = [];
  const fromErrors = (errors: FieldError[]) => errors.map((e) => ({ field: e.field, rule: e.message }));

  if (!isObject(document)) {
    return { valid: false, problems: [{ field: "", rule: "the document must be a YAML/JSON object" }], object: document as OlaresInstallation };
  }
  if (document.apiVersion !== API_VERSION) problems.push({ field: "apiVersion", rule: `Unsupported value: ${JSON.stringify(document.apiVersion ?? null)}: supported values: "${API_VERSION}"` });
  if (document.kind !== KIND) problems.push({ field: "kind", rule: `Unsupported value: ${JSON.stringify(document.kind ?? null)}: supported values: "${KIND}"` });
  const metadata = isObject(document.metadata) ? document.metadata : {};
  const name = metadata.name;
  if (typeof name !== "string" || name === "") problems.push({ field: "metadata.name", rule: "Required value: name is required" });
  else if (!isDns1123Subdomain(name)) problems.push({ field: "metadata.name", rule: `Invalid value: ${JSON.stringify(name)}: must be a lowercase RFC 1123 subdomain` });
  if (metadata.namespace !== undefined) problems.push({ field: "metadata.namespace", rule: "Forbidden: OlaresInstallation is cluster-scoped and has no namespace" });

  if (options.strict !== false) {
    for (const field of findUnknownFields(schema, document)) {
      const meant = suggestField(schema, field);
      problems.push({ field, rule: `Forbidden: unknown field, not declared in the CRD (the apiserver would drop it)${meant ? `; did you mean ${JSON.stringify(meant)}?` : ""}` });
    }
  }

  const object = applyCrdDefaults(pruneUnknownFields(schema, document));
  const oldObject = options.oldObject === undefined ? undefined : applyCrdDefaults(pruneUnknownFields(schema, options.oldObject));
  const schemaErrors = validateAgainstSchema(schema, object, oldObject);

  // Semantic checks trust the shape of the spec: with type errors they wait, as CEL does in the apiserver.
  const shapeIsSound = !schemaErrors.some((e) => e.type === "FieldValueTypeInvalid");
  const semantic = shapeIsSound && isObject(object.spec) ? semanticProblemsByRule(object.spec, oldObject?.spec) : [];
  // A semantic rule that fired says it more precisely (the sysctl key, the list index) than its CEL twin.
  const twinMessages = new Set(semantic.flatMap(({ rule }) => (Array.isArray(rule.cel) ? rule.cel.map((c) => c.message) : [])));
  let schemaProblems = fromErrors(schemaErrors.filter((e) => ![...twinMessages].some((m) => e.message.endsWith(m)))).map(withHints);
  // "some validation rules were not checked" only matters when nothing else explains the failure.
  const skipped = schemaProblems.filter((p) => p.rule.endsWith(CEL_SKIPPED_MESSAGE));
  if (skipped.length > 0 && schemaProblems.length > skipped.length) schemaProblems = schemaProblems.filter((p) => !skipped.includes(p));
  problems.push(...schemaProblems);
  const flagged = new Set(problems.map((p) => p.field));
  for (const { problem } of semantic) {
    if (!flagged.has(problem.field)) problems.push(problem);
  }
  return { valid: problems.length === 0, problems, object };
}

/** Adds a hint where a schema message alone leaves the user guessing. */
function withHints(problem: ValidationProblem): ValidationProblem {
  if (problem.field === "spec.gpu.enabled" && problem.rule.includes('"boolean"')) {
    return { ...problem, rule: `${problem.rule} (quote it in YAML: "auto", "true" or "false")` };
  }
  return problem;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Semver precedence (major.minor.patch, then a release sorts after its pre-releases). */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split("+")[0].split(/-(.*)/s);
    return { nums: core.split(".").map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    if ((x.nums[i] ?? 0) !== (y.nums[i] ?? 0)) return (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre.localeCompare(y.pre, "en", { numeric: true });
}



/**
 * Compiles the schema and the CEL rules once (about a second on a busy node), so the first reconcile
 * after start does not pay for it.
 */
export function warmUpValidation(): void {
  validateInstallation({ apiVersion: API_VERSION, kind: KIND, metadata: { name: "warm-up" }, spec: { version: "0.0.0", owner: { username: "warmup" } } });
}
