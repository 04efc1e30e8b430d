// On the simulator's own structural-schema code (test/sim/structural-schema.ts, not operator/src/api):
// every passing and failing case of every CEL rule in the OlaresInstallation CRD gets the same verdict,
// field and reason as test/api expects of `validate` and test/cluster/crd.test.ts of kube-apiserver v1.33.5.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { applyDefaults, prune, validate } from "../sim/structural-schema.js";
import { CEL_CASES } from "../api/cel-cases.js";
import type { Json } from "../sim/types.js";

const CRD = parse(readFileSync(join(import.meta.dirname, "../../crds/olares.com_olaresinstallations.yaml"), "utf8")) as Json;
const SCHEMA: Json = CRD.spec.versions.find((v: Json) => v.storage).schema.openAPIV3Schema;

/** The CR as the simulator stores it: pruned and defaulted by its own code. */
function stored(edit: (spec: Json) => void): Json {
  const doc: Json = { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares" }, spec: { version: "1.12.1", owner: { username: "alice" } } };
  edit(doc.spec);
  prune(SCHEMA, doc);
  applyDefaults(SCHEMA, doc);
  return doc;
}

/** Every rule with its schema path as test/api/cel-cases.ts keys it ([] list items, {} map values; those cases name their field). */
function rules(schema: Json, path = ""): Array<{ path: string; rule: Json }> {
  const out = (schema["x-kubernetes-validations"] ?? []).map((rule: Json) => ({ path, rule }));
  for (const [k, sub] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) out.push(...rules(sub, path ? `${path}.${k}` : k));
  if (schema.items) out.push(...rules(schema.items, `${path}[]`));
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") out.push(...rules(schema.additionalProperties, `${path}{}`));
  return out;
}

describe("simulator: structural schema of the OlaresInstallation CRD, every CEL case (on the simulator's own schema code)", () => {
  const sites = rules(SCHEMA);

  it("covers every rule of the CRD", () => {
    const keys = sites.map((s) => `${s.path} :: ${s.rule.message ?? s.rule.rule}`);
    expect(keys.filter((k) => !(k in CEL_CASES))).to.deep.equal([]);
  });

  for (const site of sites) {
    const key = `${site.path} :: ${site.rule.message ?? site.rule.rule}`;
    const c = CEL_CASES[key];
    if (!c) continue;
    const transition = /\boldSelf\b/.test(site.rule.rule);
    const field = c.field ?? `${site.path}${site.rule.fieldPath ?? ""}`;
    it(`${key}: passes, and fails on ${field}`, () => {
      const old = transition ? stored(c.old ?? (() => {})) : undefined;
      const ok = validate(SCHEMA, stored(c.pass), old);
      expect(ok, JSON.stringify(ok)).to.deep.equal([]);
      const bad = validate(SCHEMA, stored(c.fail), old);
      const hit = bad.find((e) => e.message?.endsWith(site.rule.message ?? site.rule.rule));
      expect(hit, JSON.stringify(bad)).to.not.equal(undefined);
      expect(hit!.field).to.equal(field);
      expect(hit!.reason).to.equal(site.rule.reason ?? "FieldValueInvalid");
      if (transition) expect(validate(SCHEMA, stored(c.fail), undefined), "not evaluated on create").to.deep.equal([]);
    });
  }

  it("rejects type, enum and required errors in the apiserver's words and skips CEL then", () => {
    const causes = validate(SCHEMA, stored((s) => { s.storage = { type: "NFS" }; delete s.owner.username; }), undefined);
    expect(causes).to.deep.include({ reason: "FieldValueRequired", field: "spec.owner.username", message: "Required value" });
    expect(causes.find((c) => c.field === "spec.storage.type")?.message).to.match(/^Unsupported value: "NFS": supported values: "LocalFS"/);
    expect(causes.at(-1)?.message).to.match(/^some validation rules were not checked/);
  });
});
