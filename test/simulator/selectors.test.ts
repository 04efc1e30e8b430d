import { expect } from "chai";
import { configMap, raw, startBed, statusOf, type Bed } from "./helpers.js";

describe("simulator: list with selectors and pagination", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ controllers: false });
    bed.sim.seed(
      configMap("a", "default", {}, { tier: "web", env: "prod" }),
      configMap("b", "default", {}, { tier: "db", env: "prod" }),
      configMap("c", "default", {}, { tier: "web" }),
      configMap("d", "default", {}, { env: "dev" }),
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "other" } },
    );
    bed.sim.seed(configMap("e", "other", {}, { tier: "web" }));
  });
  after(() => bed.sim.stop());

  const names = async (labelSelector?: string, fieldSelector?: string, namespace = "default") =>
    (await bed.core.listNamespacedConfigMap({ namespace, labelSelector, fieldSelector })).items.map((i) => i.metadata!.name);

  it("supports =, ==, !=, in, notin, exists and !", async () => {
    expect(await names("tier=web")).to.deep.equal(["a", "c"]);
    expect(await names("tier==web,env=prod")).to.deep.equal(["a"]);
    expect(await names("tier!=web")).to.deep.equal(["b", "d"]);
    expect(await names("tier in (web,db)")).to.deep.equal(["a", "b", "c"]);
    expect(await names("env notin (prod)")).to.deep.equal(["c", "d"]);
    expect(await names("env")).to.deep.equal(["a", "b", "d"]);
    expect(await names("!env")).to.deep.equal(["c"]);
  });

  it("supports field selectors on metadata.name / metadata.namespace and rejects unknown fields", async () => {
    expect(await names(undefined, "metadata.name=b")).to.deep.equal(["b"]);
    expect(await names(undefined, "metadata.name!=b")).to.deep.equal(["a", "c", "d"]);
    const all = await bed.core.listConfigMapForAllNamespaces({ fieldSelector: "metadata.namespace=other" });
    expect(all.items.map((i) => i.metadata!.name)).to.deep.equal(["e"]);
    const bad = await statusOf(bed.core.listNamespacedConfigMap({ namespace: "default", fieldSelector: "data.x=1" }));
    expect(bad.code).to.equal(400);
    expect(bad.body.message).to.equal("field label not supported: data.x");
  });

  it("filters pods by spec.nodeName and status.phase", async () => {
    bed.sim.seed(
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p1", namespace: "default" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p2", namespace: "default" }, spec: { nodeName: "n2", containers: [{ name: "c", image: "i" }] } },
    );
    const r = await bed.core.listPodForAllNamespaces({ fieldSelector: "spec.nodeName=n2,status.phase=Pending" });
    expect(r.items.map((p) => p.metadata!.name)).to.deep.equal(["p2"]);
  });

  it("returns the global resourceVersion on lists and pages with limit/continue", async () => {
    const page1 = (await raw(bed.sim, "GET", "/api/v1/namespaces/default/configmaps?limit=2")).json;
    expect(page1.metadata.resourceVersion).to.equal(String(bed.sim.store.resourceVersion));
    expect(page1.items.map((i: any) => i.metadata.name)).to.deep.equal(["a", "b"]);
    expect(page1.metadata.remainingItemCount).to.equal(2);
    const page2 = (await raw(bed.sim, "GET", `/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(page1.metadata.continue)}`)).json;
    expect(page2.items.map((i: any) => i.metadata.name)).to.deep.equal(["c", "d"]);
    expect(page2.metadata.continue).to.equal(undefined);
  });

  it("kubectl get -l and --field-selector use the same selectors", async () => {
    const out = await bed.kubectlOk(["get", "configmaps", "-l", "tier in (web)", "-o", "name"]);
    expect(out.trim().split("\n")).to.deep.equal(["configmap/a", "configmap/c"]);
    const f = await bed.kubectlOk(["get", "configmaps", "--field-selector", "metadata.name=d", "-o", "name"]);
    expect(f.trim()).to.equal("configmap/d");
  });
});
