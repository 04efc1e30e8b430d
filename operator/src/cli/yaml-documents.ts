// Reads YAML documents for `validate` and `plan` without ever crashing on hostile input: syntax errors,
// aliases that refer to themselves (a circular document) and alias bombs become one-line problems.
import { parseAllDocuments } from "yaml";

export type YamlDocument = { index: number; value: unknown } | { index: number; error: string };

/** Aliases per document; a small manifest has a handful, an alias bomb thousands. */
const MAX_ALIASES = 100;

function isCircular(value: unknown, stack = new Set<object>()): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (stack.has(value)) return true;
  stack.add(value);
  const children = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  const found = children.some((child) => isCircular(child, stack));
  stack.delete(value);
  return found;
}

/** Every document of `text` (empty ones left out), or the rule it breaks. Never throws. */
export function yamlDocuments(text: string): YamlDocument[] {
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text);
  } catch (err) {
    return [{ index: 0, error: `invalid YAML: ${(err as Error).message.split("\n")[0]}` }];
  }
  const out: YamlDocument[] = [];
  for (const [index, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0) {
      out.push({ index, error: `invalid YAML: ${doc.errors[0]!.message.split("\n")[0]}` });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      const message = (err as Error).message;
      out.push({
        index,
        error: /alias count/i.test(message)
          ? `too many YAML aliases (more than ${MAX_ALIASES} expansions: an alias bomb?)`
          : `cannot read the YAML: ${message.split("\n")[0]}`,
      });
      continue;
    }
    if (isCircular(value)) {
      out.push({ index, error: "a YAML alias refers to its own anchor (the document would be infinite)" });
      continue;
    }
    if (value !== null && value !== undefined) out.push({ index, value });
  }
  return out;
}
