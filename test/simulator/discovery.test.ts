import { expect } from "chai";
import { AGGREGATED_V2 } from "../sim/discovery.js";
import { installWidgetCrd, raw, startBed, type Bed } from "./helpers.js";

describe("simulator: discovery, auth, openapi", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ nodes: 1 });
  });
  after(() => bed.sim.stop());

  it("rejects requests without the bearer token with a 401 Status, but serves /version anonymously", async () => {
    const { request } = await import("node:https");
    const status = await new Promise<number>((resolve) => {
      const req = request(new URL("/api/v1/namespaces", bed.sim.url), { rejectUnauthorized: false }, (res) => resolve(res.statusCode ?? 0));
      req.end();
    });
    expect(status).to.equal(401);
    const v = await raw(bed.sim, "GET", "/version", undefined, { Authorization: "" });
    expect(v.json.gitVersion).to.match(/^v1\.33\./);
  });

  it("serves legacy discovery with verbs, shortNames, kinds and subresources", async () => {
    const core = (await raw(bed.sim, "GET", "/api/v1")).json;
    const pods = core.resources.find((r: any) => r.name === "pods");
    expect(pods).to.include({ kind: "Pod", namespaced: true, singularName: "pod" });
    expect(pods.shortNames).to.deep.equal(["po"]);
    expect(pods.verbs).to.include.members(["create", "watch", "patch"]);
    expect(core.resources.map((r: any) => r.name)).to.include.members(["pods/status", "pods/log", "pods/eviction", "namespaces/finalize"]);
    const groups = (await raw(bed.sim, "GET", "/apis")).json;
    expect(groups.groups.map((g: any) => g.name)).to.include.members(["apps", "batch", "rbac.authorization.k8s.io", "coordination.k8s.io", "storage.k8s.io", "events.k8s.io", "policy", "apiextensions.k8s.io"]);
    const apps = (await raw(bed.sim, "GET", "/apis/apps/v1")).json;
    expect(apps.resources.map((r: any) => r.name)).to.include.members(["deployments", "deployments/scale", "statefulsets/scale", "daemonsets/status"]);
  });

  it("answers aggregated discovery when asked for apidiscovery.k8s.io/v2", async () => {
    const r = await raw(bed.sim, "GET", "/apis", undefined, { Accept: `${AGGREGATED_V2},application/json` });
    expect(r.headers.get("content-type")).to.equal(AGGREGATED_V2);
    const apps = r.json.items.find((i: any) => i.metadata.name === "apps");
    const deploy = apps.versions[0].resources.find((x: any) => x.resource === "deployments");
    expect(deploy).to.include({ scope: "Namespaced", singularResource: "deployment" });
    expect(deploy.subresources.map((s: any) => s.subresource)).to.include.members(["status", "scale"]);
  });

  it("serves a new CRD in discovery and openapi v3, and kubectl api-resources / explain use it", async () => {
    await installWidgetCrd(bed);
    const gv = (await raw(bed.sim, "GET", "/apis/sim.example.com/v1")).json;
    expect(gv.resources.map((r: any) => r.name)).to.include.members(["widgets", "widgets/status", "widgets/scale"]);
    const index = (await raw(bed.sim, "GET", "/openapi/v3")).json;
    expect(index.paths["apis/sim.example.com/v1"].serverRelativeURL).to.match(/^\/openapi\/v3\/apis\/sim\.example\.com\/v1\?hash=/);
    const resources = await bed.kubectlOk(["api-resources", "--api-group=sim.example.com"]);
    expect(resources).to.match(/widgets\s+wd\s+sim\.example\.com\/v1\s+true\s+Widget/);
    const explain = await bed.kubectlOk(["explain", "widget.spec.owner"]);
    expect(explain).to.contain("Who owns the widget. Immutable.");
  });

  it("kubectl explain reads the real OlaresInstallation CRD", async () => {
    const { readFileSync } = await import("node:fs");
    const path = new URL("../../crds/olares.com_olaresinstallations.yaml", import.meta.url);
    await bed.kubectlOk(["apply", "-f", path.pathname]);
    await bed.sim.settle();
    const out = await bed.kubectlOk(["explain", "olaresinstallation.spec.storage"]);
    expect(out).to.contain("KIND:       OlaresInstallation");
    expect(out).to.match(/type\s+<string>/);
    void readFileSync;
  });

  it("kubectl get nodes works against the simulator", async () => {
    const out = await bed.kubectlOk(["get", "nodes"]);
    expect(out).to.match(/sim-node-0\s+Ready\s+control-plane/);
  });
});
