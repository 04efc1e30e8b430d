// values.yaml is documented: every key has a comment above it or sits under a commented key, and
// values.schema.json describes every top-level key (so nothing undocumented is accepted either).
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, parseDocument, type Node } from "yaml";
import { CHART_DIR } from "./tools.js";

function undocumented(node: Node | null | undefined, path: string[], underComment: boolean, out: string[]): void {
  if (!isMap(node)) return;
  node.items.forEach((pair, index) => {
    const key = pair.key as Node & { value?: unknown; commentBefore?: string | null };
    // the yaml parser attaches the comment above a map's first key to the map itself
    const comment = key.commentBefore ?? (index === 0 ? node.commentBefore : undefined);
    const documented = underComment || Boolean(comment);
    const keyPath = [...path, String(key.value)];
    if (!documented) out.push(keyPath.join("."));
    undocumented(pair.value as Node, keyPath, documented, out);
  });
}

describe("chart values documentation", () => {
  const text = readFileSync(join(CHART_DIR, "values.yaml"), "utf8");
  const doc = parseDocument(text);

  it("has a comment for every key in values.yaml", () => {
    const missing: string[] = [];
    undocumented(doc.contents as Node, [], false, missing);
    expect(missing, "keys without a comment above them (or above a parent)").to.deep.equal([]);
  });

  it("has a schema entry for every top-level key, and no schema entry without a default", () => {
    const schema = JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")) as { properties: Record<string, unknown> };
    const keys = Object.keys(doc.toJS() as Record<string, unknown>).sort();
    expect(Object.keys(schema.properties).sort()).to.deep.equal(keys);
  });
});
