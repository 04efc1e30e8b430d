// Shared fixtures for the API tests.
import { applyCrdDefaults } from "../../operator/src/api/defaults.js";
import type { JSONSchemaProps, ValidationRule } from "../../operator/src/api/schema-validation.js";

export type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A valid, minimal OlaresInstallation. */
export function base(): Doc {
  return {
    apiVersion: "olares.com/v1alpha1",
    kind: "OlaresInstallation",
    metadata: { name: "olares" },
    spec: { version: "1.12.1", owner: { username: "alice" } },
  };
}

/** base() with `edit` applied to its spec, then CRD-defaulted as the apiserver would store it. */
export function defaulted(edit: (spec: Doc) => void = () => {}): Doc {
  const doc = base();
  edit(doc.spec);
  return applyCrdDefaults(doc) as Doc;
}

export interface RuleSite {
  /** Schema path with [] for list items and {} for map values, e.g. "spec.storage.juicefs.objectStore". */
  path: string;
  rule: ValidationRule;
  schema: JSONSchemaProps;
}

/** Every x-kubernetes-validations rule in the schema with where it sits. */
export function collectRules(schema: JSONSchemaProps, path = ""): RuleSite[] {
  const sites: RuleSite[] = (schema["x-kubernetes-validations"] ?? []).map((rule) => ({ path, rule, schema }));
  for (const [key, child] of Object.entries(schema.properties ?? {})) sites.push(...collectRules(child, path ? `${path}.${key}` : key));
  if (schema.items) sites.push(...collectRules(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === "object") sites.push(...collectRules(schema.additionalProperties, `${path}{}`));
  return sites;
}

/** Every schema node with its path. */
export function collectNodes(schema: JSONSchemaProps, path = ""): Array<{ path: string; schema: JSONSchemaProps }> {
  const nodes = [{ path, schema }];
  for (const [key, child] of Object.entries(schema.properties ?? {})) nodes.push(...collectNodes(child, path ? `${path}.${key}` : key));
  if (schema.items) nodes.push(...collectNodes(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === "object") nodes.push(...collectNodes(schema.additionalProperties, `${path}{}`));
  return nodes;
}
