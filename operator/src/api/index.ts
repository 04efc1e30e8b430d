// The OlaresInstallation API: generated types, the CRD, defaulting and validation.
export * from "./types.generated.js";
export * from "./crd.js";
export * from "./defaults.js";
export * from "./validate.js";
export * from "./secret-references.js";
export { SEMANTIC_RULES, isDowngrade, semanticProblems, type SemanticRule, type CelTwin } from "./semantic-rules.js";
export {
  applySchemaDefaults,
  findUnknownFields,
  formatFieldError,
  pruneUnknownFields,
  toStatusBody,
  validateAgainstSchema,
  type FieldError,
  type FieldErrorType,
  type JSONSchemaProps,
  type StatusBody,
  type ValidationRule,
} from "./schema-validation.js";
