// Every CEL rule in the CRD has a passing and a failing case, evaluated by the real validator against the
// CRD's own rules. A rule without a case fails the suite, so the CRD and the tests cannot drift.
import { expect } from "chai";
import { loadSchema } from "../../operator/src/api/crd.js";
import { isTransitionRule, validateAgainstSchema } from "../../operator/src/api/schema-validation.js";
import { CEL_CASES as CASES } from "./cel-cases.js";
import { collectRules, defaulted } from "./helpers.js";

function fieldOf(path: string, fieldPath?: string): string {
  return `${path}${fieldPath ?? ""}`;
}

describe("CRD CEL rules (x-kubernetes-validations)", () => {
  const schema = loadSchema();
  const sites = collectRules(schema);
  const keyOf = (site: (typeof sites)[number]) => `${site.path} :: ${site.rule.message ?? site.rule.rule}`;

  it("every rule has a message and a test case, and every case names an existing rule", () => {
    const keys = sites.map(keyOf);
    expect(new Set(keys).size, "rule keys are unique").to.equal(keys.length);
    for (const site of sites) expect(site.rule.message, `${site.path}: ${site.rule.rule}`).to.be.a("string").and.not.empty;
    expect(keys.filter((k) => !(k in CASES)), "rules without a case").to.deep.equal([]);
    expect(Object.keys(CASES).filter((k) => !keys.includes(k)), "cases without a rule").to.deep.equal([]);
  });

  for (const site of sites) {
    const key = keyOf(site);
    const testCase = CASES[key];
    if (!testCase) continue;
    const transition = isTransitionRule(site.rule);
    const expectedField = testCase.field ?? fieldOf(site.path, site.rule.fieldPath);

    describe(key, () => {
      const oldObject = transition ? defaulted(testCase.old ?? (() => {})) : undefined;

      it("passes on a valid object", () => {
        const errors = validateAgainstSchema(schema, defaulted(testCase.pass), oldObject);
        expect(errors, JSON.stringify(errors)).to.deep.equal([]);
      });

      it(`fails with its message on ${expectedField}`, () => {
        const errors = validateAgainstSchema(schema, defaulted(testCase.fail), oldObject);
        const hit = errors.find((e) => e.message.endsWith(site.rule.message ?? site.rule.rule));
        expect(hit, JSON.stringify(errors)).to.not.equal(undefined);
        expect(hit!.field).to.equal(expectedField);
        const expectedType = site.rule.reason ?? "FieldValueInvalid";
        expect(hit!.type).to.equal(expectedType);
      });

      if (transition) {
        it("is not evaluated on create (no old object)", () => {
          expect(validateAgainstSchema(schema, defaulted(testCase.fail))).to.deep.equal([]);
        });
      }
    });
  }
});
