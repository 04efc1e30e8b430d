// The CRD on the real kube-apiserver: crds/ installs (structural schema, every CEL rule compiles within
// the cost budget), the server's defaults equal the operator's, and every passing/failing case of every
// CEL rule in test/api gets the same verdict from the apiserver as from `validate`.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { CRD_NAME, loadSchema, PLURAL, GROUP, VERSION } from "../../operator/src/api/crd.js";
import { applyCrdDefaults } from "../../operator/src/api/defaults.js";
import { isTransitionRule, type JSONSchemaProps } from "../../operator/src/api/schema-validation.js";
import { formatProblem, validateInstallation } from "../../operator/src/api/validate.js";
import { CEL_CASES } from "../api/cel-cases.js";
import { base, collectRules, type Doc } from "../api/helpers.js";
import { until } from "./helpers.js";
import { ON_KUBE, ROOT, requireControlPlane, startControlPlane, type ApiResponse, type ControlPlane } from "../support/controlplane.js";

const CR_PATH = `/apis/${GROUP}/${VERSION}/${PLURAL}`;

interface Verdict {
  allowed: boolean;
  /** "field: message" per error. */
  errors: string[];
}

function serverVerdict(res: ApiResponse): Verdict {
  if (res.status >= 200 && res.status < 300) return { allowed: true, errors: [] };
  const causes = (res.json?.details?.causes ?? []) as Array<{ field?: string; message?: string }>;
  return { allowed: false, errors: causes.length ? causes.map((c) => `${c.field ?? ""}: ${c.message ?? ""}`) : [`${res.status}: ${res.json?.message ?? res.text}`] };
}

function validateVerdict(doc: Doc, old?: Doc): Verdict {
  const result = validateInstallation(doc, old ? { oldObject: old } : {});
  return { allowed: result.valid, errors: result.problems.map(formatProblem) };
}

let seq = 0;
const named = (doc: Doc): Doc => ({ ...doc, metadata: { ...doc.metadata, name: `cel-${++seq}` } });
function edited(edit: (spec: Doc) => void): Doc {
  const doc = base();
  edit(doc.spec);
  return JSON.parse(JSON.stringify(doc)) as Doc; // drops the cases' `undefined` fields, as a YAML file would
}

describe(`CRD on ${ON_KUBE}: install, defaults and every CEL rule against validate`, function () {
  let cp: ControlPlane;

  before(async function () {
    requireControlPlane(this);
    cp = await startControlPlane({ nodes: 0 });
    await cp.kubectlOk(["apply", "--server-side", "-f", join(ROOT, "crds")]);
    // kubectl wait fails at once ("accessor error") while the CRD has no conditions yet: poll first.
    for (let i = 0; i < 100; i++) {
      const crd = (await cp.api("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`)).json as { status?: { conditions?: unknown[] } };
      if (crd?.status?.conditions?.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await cp.kubectlOk(["wait", "--for=condition=Established", `crd/${CRD_NAME}`, "--timeout=60s"]);
  });

  after(async () => {
    await cp?.stop();
  });

  it("crds/ installs: structural, names accepted, every CEL rule compiled within the cost budget", async () => {
    const crd = (await cp.api("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`)).json;
    const conditions = Object.fromEntries((crd.status.conditions as Array<{ type: string; status: string; message: string }>).map((c) => [c.type, c]));
    expect(conditions["Established"]?.status).to.equal("True");
    expect(conditions["NamesAccepted"]?.status).to.equal("True");
    expect(conditions["NonStructuralSchema"], "NonStructuralSchema condition").to.equal(undefined);
    // A rule over the cost budget or not compiling makes the create fail with 422, so the CRD being
    // stored proves the budget; the stored schema keeps every rule.
    const file = parse(readFileSync(join(ROOT, "crds/olares.com_olaresinstallations.yaml"), "utf8"));
    const stored = crd.spec.versions[0].schema.openAPIV3Schema;
    // (The server returns properties in key order; compare as sets.)
    const rules = (schema: JSONSchemaProps) => collectRules(schema).map((s) => `${s.path} :: ${s.rule.rule}`).sort();
    expect(rules(stored)).to.deep.equal(rules(file.spec.versions[0].schema.openAPIV3Schema));
  });

  it("kubectl explain reads the published schema", async () => {
    // The apiserver publishes a new CRD's OpenAPI asynchronously: retry until it is served.
    const out = await until(async () => {
      const r = await cp.kubectl(["explain", "olaresinstallation.spec.storage"]);
      return r.code === 0 ? r.stdout : undefined;
    }, 60_000, "the CRD's schema in the published OpenAPI (kubectl explain)");
    expect(out).to.match(/FIELDS:/);
    expect(out).to.match(/juicefs/);
  });

  it("examples/olares.yaml is admitted and the server's defaults equal the operator's applyCrdDefaults", async () => {
    const example = parse(readFileSync(join(ROOT, "examples/olares.yaml"), "utf8")) as Doc;
    const res = await cp.api("POST", CR_PATH, example);
    expect(res.status, res.text).to.equal(201);
    const expected = applyCrdDefaults(example) as Doc;
    expect(res.json.spec).to.deep.equal(expected.spec);
    expect(validateVerdict(example).allowed).to.equal(true);
    expect((await cp.api("DELETE", `${CR_PATH}/${example.metadata.name}`)).status).to.be.oneOf([200, 202]);
  });

  it("the minimal installation gets the same defaults from the server as from applyCrdDefaults", async () => {
    const doc = named(base());
    const res = await cp.api("POST", CR_PATH, doc);
    expect(res.status, res.text).to.equal(201);
    expect(res.json.spec).to.deep.equal((applyCrdDefaults(doc) as Doc).spec);
  });

  const schema = loadSchema();
  const sites = collectRules(schema);
  describe(`every CEL rule's cases: kube-apiserver's verdict equals validate's`, () => {
    it("every rule in the CRD has a case (test/api/cel-cases.ts)", () => {
      const keys = sites.map((s) => `${s.path} :: ${s.rule.message ?? s.rule.rule}`);
      expect(keys.filter((k) => !(k in CEL_CASES))).to.deep.equal([]);
    });

    for (const site of sites) {
      const key = `${site.path} :: ${site.rule.message ?? site.rule.rule}`;
      const testCase = CEL_CASES[key];
      if (!testCase) continue;
      const transition = isTransitionRule(site.rule);
      const message = site.rule.message ?? site.rule.rule;
      const expectedField = testCase.field ?? `${site.path}${site.rule.fieldPath ?? ""}`;

      // Create the case (or, for a transition rule, create the old object and update it to the case).
      const admit = async (edit: (spec: Doc) => void): Promise<{ server: Verdict; validate: Verdict }> => {
        const doc = named(edited(edit));
        if (!transition) return { server: serverVerdict(await cp.api("POST", CR_PATH, doc)), validate: validateVerdict(doc) };
        const old = { ...edited(testCase.old ?? (() => {})), metadata: doc.metadata };
        const created = await cp.api("POST", CR_PATH, old);
        expect(created.status, `creating the old object: ${created.text}`).to.equal(201);
        const update = { ...doc, metadata: { ...doc.metadata, resourceVersion: created.json.metadata.resourceVersion } };
        return { server: serverVerdict(await cp.api("PUT", `${CR_PATH}/${doc.metadata.name}`, update)), validate: validateVerdict(doc, old) };
      };

      describe(key, () => {
        it("pass case: admitted by kube-apiserver and by validate", async () => {
          const { server, validate } = await admit(testCase.pass);
          expect(server, "kube-apiserver").to.deep.equal({ allowed: true, errors: [] });
          expect(validate, "validate").to.deep.equal({ allowed: true, errors: [] });
        });

        it(`fail case: both refuse it on ${expectedField} with the rule's message`, async () => {
          const { server, validate } = await admit(testCase.fail);
          expect(server.allowed, "kube-apiserver admitted the failing case").to.equal(false);
          expect(validate.allowed, "validate admitted the failing case").to.equal(false);
          // The server names the rule's field and message; validate names the same field (or an entry
          // in it, e.g. spec.os.sysctl["foo.bar"]) in its own words when a semantic check is the CEL rule's twin.
          const serverHit = server.errors.find((e) => e.startsWith(`${expectedField}: `) && e.includes(message));
          expect(serverHit, `kube-apiserver errors: ${JSON.stringify(server.errors)}`).to.not.equal(undefined);
          const validateHit = validate.errors.find((e) => e.startsWith(expectedField) && /^[\[."]|^: /.test(e.slice(expectedField.length)));
          expect(validateHit, `validate names ${expectedField}: ${JSON.stringify(validate.errors)}`).to.not.equal(undefined);
        });
      });
    }
  });
});
