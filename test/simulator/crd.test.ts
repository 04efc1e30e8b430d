import { expect } from "chai";
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { eventually, installWidgetCrd, raw, startBed, statusOf, widget, type Bed } from "./helpers.js";

const W = "/apis/sim.example.com/v1/namespaces/default/widgets";

describe("simulator: CustomResourceDefinitions", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ nodes: 1 });
  });
  after(() => bed.sim.stop());

  it("starts serving a created CRD and marks it Established with accepted names", async () => {
    await installWidgetCrd(bed);
    const crd = await eventually(async () => {
      const c = (await raw(bed.sim, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.sim.example.com")).json;
      return c.status?.conditions?.some((x: any) => x.type === "Established" && x.status === "True") ? c : undefined;
    });
    expect(crd.status.acceptedNames.kind).to.equal("Widget");
    expect(crd.status.storedVersions).to.deep.equal(["v1"]);
    expect(crd.metadata.finalizers).to.include("customresourcecleanup.apiextensions.k8s.io");
    expect((await raw(bed.sim, "GET", W)).json.kind).to.equal("WidgetList");
  });

  it("defaults and prunes per the structural schema", async () => {
    const created = await bed.objects.create({ ...widget("w1", { owner: "ann", junk: true }), extra: 1 } as never);
    expect((created as any).spec).to.deep.equal({ owner: "ann", size: "M", replicas: 1 });
    expect((created as any).extra).to.equal(undefined);
  });

  it("rejects schema violations with a 422 Invalid Status naming the field", async () => {
    const r = await statusOf(bed.objects.create(widget("bad", { owner: "x", size: "XL" }) as never));
    expect(r.code).to.equal(422);
    expect(r.body.reason).to.equal("Invalid");
    expect(r.body.message).to.match(/^Widget\.sim\.example\.com "bad" is invalid: \[?spec\.size: Unsupported value: "XL"/);
    expect(r.body.details).to.deep.include({ name: "bad", group: "sim.example.com", kind: "Widget" });
    expect(r.body.details.causes[0]).to.include({ reason: "FieldValueNotSupported", field: "spec.size" });
    const req = await statusOf(bed.objects.create(widget("bad2", {}) as never));
    expect(req.body.details.causes[0]).to.include({ reason: "FieldValueRequired", field: "spec.owner" });
  });

  it("enforces x-kubernetes-validations with self and transition rules with oldSelf", async () => {
    const big = await statusOf(bed.objects.create(widget("big", { owner: "x", size: "L", replicas: 5 }) as never));
    expect(big.code).to.equal(422);
    expect(big.body.details.causes[0]).to.include({ field: "spec.replicas", message: "Invalid value: \"object\": large widgets allow at most 3 replicas" });
    const cur = (await raw(bed.sim, "GET", `${W}/w1`)).json;
    const imm = await raw(bed.sim, "PUT", `${W}/w1`, { ...cur, spec: { ...cur.spec, owner: "bob" } });
    expect(imm.status).to.equal(422);
    expect(imm.json.details.causes[0]).to.include({ field: "spec.owner" });
    expect(imm.json.details.causes[0].message).to.contain("owner is immutable");
    const patched = await raw(bed.sim, "PATCH", `${W}/w1`, { spec: { owner: "bob" } }, { "Content-Type": "application/merge-patch+json" });
    expect(patched.status, "patches are validated too").to.equal(422);
  });

  it("needs metadata.resourceVersion on PUT of a custom resource and rejects unknown fields with fieldValidation=Strict", async () => {
    const cur = (await raw(bed.sim, "GET", `${W}/w1`)).json;
    const noRv = await raw(bed.sim, "PUT", `${W}/w1`, { ...cur, metadata: { name: "w1", namespace: "default" } });
    expect(noRv.status).to.equal(422);
    expect(noRv.json.details.causes[0].field).to.equal("metadata.resourceVersion");
    const strict = await raw(bed.sim, "PUT", `${W}/w1?fieldValidation=Strict`, { ...cur, spec: { ...cur.spec, bogus: 1 } });
    expect(strict.status).to.equal(400);
    expect(strict.json.message).to.contain('unknown field "spec.bogus"');
  });

  it("keeps status and spec apart through the status subresource", async () => {
    const cur = (await raw(bed.sim, "GET", `${W}/w1`)).json;
    const main = await raw(bed.sim, "PUT", `${W}/w1`, { ...cur, status: { phase: "Hacked" } });
    expect(main.json.status).to.equal(undefined);
    const st = await raw(bed.sim, "PUT", `${W}/w1/status`, { ...main.json, spec: { ...cur.spec, size: "S" }, status: { phase: "Ready", conditions: [{ type: "Ready", status: "True" }] } });
    expect(st.status).to.equal(200);
    expect(st.json.status.phase).to.equal("Ready");
    expect(st.json.spec.size).to.equal("M");
    expect(st.json.metadata.generation).to.equal(cur.metadata.generation);
  });

  it("answers Table requests with the additionalPrinterColumns (kubectl get)", async () => {
    const t = (await raw(bed.sim, "GET", W, undefined, { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" })).json;
    expect(t.kind).to.equal("Table");
    expect(t.columnDefinitions.map((c: any) => c.name)).to.deep.equal(["Name", "Size", "Ready", "Age"]);
    expect(t.rows[0].cells.slice(0, 3)).to.deep.equal(["w1", "M", "True"]);
    expect(t.rows[0].object.kind).to.equal("PartialObjectMetadata");
    const out = await bed.kubectlOk(["get", "widgets"]);
    expect(out).to.match(/NAME\s+SIZE\s+READY\s+AGE\n/);
    expect(out).to.match(/w1\s+M\s+True\s+\d+s/);
  });

  it("kubectl applies the OlaresInstallation CRD and a CR, shows its columns and waits for Ready", async () => {
    const crdFile = new URL("../../crds/olares.com_olaresinstallations.yaml", import.meta.url).pathname;
    await bed.kubectlOk(["apply", "-f", crdFile]);
    await bed.sim.settle();
    const cr = { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares" }, spec: { version: "1.12.1", owner: { username: "alice" }, storage: { type: "LocalFS" } } };
    await bed.kubectlOk(["apply", "-f", bed.writeFile("oi.yaml", YAML.stringify(cr))]);
    const wait = bed.kubectl(["wait", "--for=condition=Ready", "olaresinstallation/olares", "--timeout=10s"]);
    await eventually(() => bed.sim.watches.open > 0, 5000, "kubectl wait's watch");
    const cur = (await raw(bed.sim, "GET", "/apis/olares.com/v1alpha1/olaresinstallations/olares")).json;
    const st = await raw(bed.sim, "PUT", "/apis/olares.com/v1alpha1/olaresinstallations/olares/status", {
      ...cur,
      status: { phase: "Ready", version: "1.12.1", storage: { activeType: "LocalFS" }, conditions: [{ type: "Ready", status: "True", reason: "AllStagesReady", message: "ok", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, "Z"), observedGeneration: 1 }] },
    });
    expect(st.status, JSON.stringify(st.json)).to.equal(200);
    const w = await wait;
    expect(w.code, w.stderr).to.equal(0);
    expect(w.stdout).to.contain("olaresinstallation.olares.com/olares condition met");
    const table = await bed.kubectlOk(["get", "olaresinstallations"]);
    expect(table).to.match(/NAME\s+PHASE\s+VERSION\s+STORAGE\s+PROGRESS\s+READY\s+AGE/);
    expect(table).to.match(/olares\s+Ready\s+1\.12\.1\s+LocalFS\s+True\s+\d+s/);
    const bad = await bed.kubectl(["apply", "-f", bed.writeFile("oi-bad.yaml", YAML.stringify({ ...cr, spec: { ...cr.spec, owner: { username: "Bob" } } }))]);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.contain("spec.owner.username");
    void readFileSync;
  });

  it("deleting a CRD deletes its objects and stops serving it", async () => {
    await bed.kubectlOk(["delete", "crd", "widgets.sim.example.com"]);
    await bed.sim.settle();
    expect((await raw(bed.sim, "GET", W)).status).to.equal(404);
    expect(bed.sim.store.count("sim.example.com/widgets")).to.equal(0);
    const disc = await raw(bed.sim, "GET", "/apis/sim.example.com/v1");
    expect(disc.status).to.equal(404);
  });
});
