// The per-version upgraders of olares-cli's 1.12 line (cli/pkg/upgrade/1_12_x.go), picked by target
// version as getUpgraderByVersion does, and the path rule of upgrade.Check (a base below the last breaking
// release under the target is refused): pure, and through the CoreServices stage.
import { expect } from "chai";
import { stageHook, type ReleaseFacts } from "../../operator/src/contract/index.js";
import { render } from "../../operator/src/render/index.js";
import { UPGRADERS_1_12, minimumUpgradableVersion, upgradePathProblem, upgraderFor, upgraderPostSteps, upgraderPreSteps } from "../../operator/src/render/releases/index.js";
import { FACTS, spec } from "../render/fixtures.js";
import { randoms, unpackFixture, type Unpacked } from "./helpers.js";
import type { KubeObject, Readiness } from "../../operator/src/contract/index.js";
import { carriesPatch, runReleaseSteps } from "../../operator/src/controller/release-steps.js";
import type { HookContext } from "../../operator/src/controller/stage-hooks.js";
import { Helm } from "../../operator/src/helm/helm-cli.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import { startSimulator, type Simulator } from "../sim/server.js";

describe("per-version upgraders of the 1.12 line, picked by from → to", function () {
  this.timeout(600_000);
  it("the target's upgrader, or none (the generic walk): 1.12.2 has none on the main line, 1.12.3 to 1.12.7 each have one", () => {
    expect(upgraderFor("1.12.2")).to.equal(undefined);
    expect(UPGRADERS_1_12.map((u) => u.version)).to.deep.equal(["1.12.3", "1.12.4", "1.12.5", "1.12.6", "1.12.7"]);
    // 1.12.7 has no cluster step the operator runs: the generic walk, but it is breaking (1.12.8 starts from it)
    expect([...upgraderPreSteps("1.12.7"), ...upgraderPostSteps("1.12.7")]).to.deep.equal([]);
    expect(minimumUpgradableVersion("1.12.8")).to.equal("1.12.7");
    for (const v of ["1.12.3", "1.12.4", "1.12.5", "1.12.6", "1.12.7"]) expect(upgraderFor(v)?.version).to.equal(v);
    expect(upgraderFor("v1.12.5")?.l4BflProxyTag).to.equal("v0.3.12");
  });

  it("upgrade.Check: the base must be at least the last breaking release below the target", () => {
    expect(minimumUpgradableVersion("1.12.2")).to.equal("1.12.0");
    expect(minimumUpgradableVersion("1.12.3")).to.equal("1.12.0");
    expect(minimumUpgradableVersion("1.12.4")).to.equal("1.12.3");
    expect(minimumUpgradableVersion("1.12.6")).to.equal("1.12.5");
    expect(upgradePathProblem("1.12.1", "1.12.2")).to.equal(undefined);
    expect(upgradePathProblem("1.12.1", "1.12.3")).to.equal(undefined);
    expect(upgradePathProblem("1.12.3", "1.12.4")).to.equal(undefined);
    expect(upgradePathProblem("1.12.1", "1.12.4")).to.equal("Olares 1.12.4 upgrades from 1.12.3 or later (olares-cli's upgrade check: 1.12.3 added breaking changes); upgrade 1.12.1 to 1.12.3 first");
    expect(upgradePathProblem("1.12.2", "1.12.2")).to.equal("1.12.2 is not newer than 1.12.2");
  });

  it("steps before the system charts: UpgradeL4BFLProxy's set image for 1.12.3/1.12.4 (v0.3.9) and 1.12.5 (v0.3.12), skipped when absent; nothing for 1.12.2", () => {
    expect(upgraderPreSteps("1.12.2")).to.deep.equal([]);
    const step = upgraderPreSteps("1.12.3").find((x) => x.kind === "setImage");
    expect(step).to.deep.include({ kind: "setImage", container: "proxy", image: "beclab/l4-bfl-proxy:v0.3.9", ifPresent: true });
    expect((step as { target: unknown }).target).to.deep.equal({ apiVersion: "apps/v1", kind: "Deployment", namespace: "os-network", name: "l4-bfl-proxy" });
    expect((upgraderPreSteps("1.12.5")[0] as { image: string }).image).to.equal("beclab/l4-bfl-proxy:v0.3.12");
    // Every upgrader says what the operator leaves out, and why.
    for (const u of UPGRADERS_1_12) expect(u.notHere.length, u.version).to.be.greaterThan(0);
  });

  it("1.12.3 and 1.12.4 delete the knowledge app's argoproj.io CRDs first (DeleteArgoProjV1alpha1CRDs, PrepareForUpgrade), then set the L4 proxy's image; 1.12.5 does not", () => {
    for (const v of ["1.12.3", "1.12.4"]) {
      const steps = upgraderPreSteps(v);
      expect(steps.map((x) => x.kind), v).to.deep.equal(["deleteCRDs", "setImage"]);
      expect(steps[0]).to.deep.include({ group: "argoproj.io", annotations: { "meta.helm.sh/release-name": "knowledge" } });
    }
    expect(upgraderPreSteps("1.12.5").map((x) => x.kind)).to.deep.equal(["setImage"]);
  });

  describe("DeleteArgoProjV1alpha1CRDs on the cluster simulator, as the installer identity", () => {
    let sim: Simulator;
    before(async () => {
      sim = await startSimulator({ nodes: 1 });
    });
    after(async () => sim?.stop());
    const crd = (group: string, plural: string, release?: string): KubeObject =>
      ({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${plural}.${group}`, ...(release ? { annotations: { "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": "user-space-alice" } } : {}) },
        spec: { group, scope: "Namespaced", names: { plural, singular: plural.replace(/s$/, ""), kind: plural[0]!.toUpperCase() + plural.slice(1, -1) }, versions: [{ name: "v1alpha1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }] },
      }) as KubeObject;

    it("deletes every argoproj.io CRD Helm release knowledge brought, keeps the others, and is a logged no-op the next time", async () => {
      const client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "olares-operator" });
      for (const c of [crd("argoproj.io", "workflows", "knowledge"), crd("argoproj.io", "cronworkflows", "knowledge"), crd("argoproj.io", "applications", "argocd"), crd("argoproj.io", "appprojects"), crd("example.com", "widgets", "knowledge")]) await client.create(c);
      const logs: string[] = [];
      const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: () => {} };
      const ctx = { client, observed: { get: () => undefined, list: () => [] }, log, paused: false, release: { installer: new Helm({ bin: "helm" }), records: { helmSecrets: async () => [] }, client } } as unknown as HookContext;
      const steps = upgraderPreSteps("1.12.3").filter((x) => x.kind === "deleteCRDs");
      const ready: Readiness = { ready: true, reason: "Ready", message: "" };
      expect(await runReleaseSteps(ctx, steps, ready)).to.deep.equal(ready);
      const live = async () => (await client.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")).filter((c) => !c.metadata.deletionTimestamp).map((c) => c.metadata.name).sort();
      expect(await live()).to.deep.equal(["applications.argoproj.io", "appprojects.argoproj.io", "widgets.example.com"]);
      expect(logs.filter((m) => m.endsWith("CustomResourceDefinition deleted"))).to.have.length(2);

      logs.length = 0;
      expect(await runReleaseSteps(ctx, steps, ready)).to.deep.equal(ready);
      expect(logs).to.deep.equal([`${steps[0]!.kind === "deleteCRDs" ? steps[0]!.name : ""}: no argoproj.io CustomResourceDefinition with meta.helm.sh/release-name=knowledge, nothing to delete`]);
      expect(await live()).to.have.length(3);
    });
  });

  it("1.12.6: UpdateL4DeploymentSpec before the system charts, PatchL4BFLProxyProbePort after them; no other target patches the proxy", () => {
    expect(upgraderPreSteps("1.12.6").map((x) => (x.kind === "strategicPatch" ? x.name.split(" ")[0] : x.kind))).to.deep.equal(["UpdateL4DeploymentSpec"]);
    expect(upgraderPostSteps("1.12.6").map((x) => (x.kind === "strategicPatch" ? x.name.split(" ")[0] : x.kind))).to.deep.equal(["PatchL4BFLProxyProbePort"]);
    for (const v of ["1.12.2", "1.12.3", "1.12.4", "1.12.5"]) expect(upgraderPostSteps(v), v).to.deep.equal([]);
    // what "already carries the patch" means: named lists by name, null = absent, other lists whole
    const live = { spec: { template: { spec: { containers: [{ name: "other" }, { name: "proxy", command: ["/a", "b"], livenessProbe: { httpGet: { port: 18081, path: "/healthz" } } }] } } } };
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "proxy", livenessProbe: { tcpSocket: null, httpGet: { port: 18081 } } }] } } } })).to.equal(true);
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "proxy", livenessProbe: { httpGet: { port: 8081 } } }] } } } })).to.equal(false);
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "proxy", command: ["/a"] }] } } } })).to.equal(false);
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "missing" }] } } } })).to.equal(false);
    expect(carriesPatch({ a: { tcpSocket: { port: 1 } } }, { a: { tcpSocket: null } })).to.equal(false);
  });

  describe("1.12.6's l4-bfl-proxy patches on the cluster simulator", () => {
    let sim: Simulator;
    before(async () => {
      sim = await startSimulator({ nodes: 1 });
    });
    after(async () => sim?.stop());

    it("patches the live Deployment as olares-cli (probes on 8081 with the new flags, then 18081), writes nothing once it carries them, skips a missing proxy with a log line", async () => {
      const client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "olares-operator" });
      const logs: string[] = [];
      const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: () => {} };
      const ctx = { client, observed: { get: () => undefined, list: () => [] }, log, paused: false, release: { installer: new Helm({ bin: "helm" }), records: { helmSecrets: async () => [] }, client } } as unknown as HookContext;
      const ready: Readiness = { ready: true, reason: "Ready", message: "" };
      const pre = upgraderPreSteps("1.12.6");
      const post = upgraderPostSteps("1.12.6");
      expect(await runReleaseSteps(ctx, [...pre, ...post], ready)).to.deep.equal(ready);
      expect(logs.filter((m) => m.endsWith("not present, skipped"))).to.have.length(2);

      await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "os-network" } } as KubeObject);
      const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: "os-network", name: "l4-bfl-proxy" };
      await client.create({
        ...ref,
        metadata: { name: ref.name, namespace: ref.namespace },
        spec: { selector: { matchLabels: { app: "l4-bfl-proxy" } }, template: { metadata: { labels: { app: "l4-bfl-proxy" } }, spec: { containers: [{ name: "proxy", image: "beclab/l4-bfl-proxy:v0.3.12", command: ["/l4-bfl-proxy", "-v", "2"], livenessProbe: { tcpSocket: { port: 443 }, periodSeconds: 10 }, readinessProbe: { tcpSocket: { port: 443 } } }] } } },
      } as unknown as KubeObject);
      const proxy = async () => ((await client.get(ref)) as unknown as { metadata: { generation: number }; spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ command: string[]; livenessProbe: Record<string, any>; readinessProbe: Record<string, any> }> } } } });

      expect(await runReleaseSteps(ctx, pre, ready)).to.deep.equal(ready);
      let d = await proxy();
      expect(d.spec.template.metadata.labels).to.deep.equal({ app: "l4-bfl-proxy", tier: "bfl" });
      const c = d.spec.template.spec.containers[0]!;
      expect(c.command).to.deep.equal(["/l4-bfl-proxy", "-v", "4", "-xds-tcp-idle-timeout", "1h", "-xds-http-stream-idle-timeout", "1h", "-xds-connect-timeout", "5s"]);
      expect(c.livenessProbe.tcpSocket, "the TCP probe is replaced by the HTTP one").to.equal(undefined);
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: 8081, scheme: "HTTP" });
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/readyz", port: 8081, scheme: "HTTP" });

      expect(await runReleaseSteps(ctx, post, ready)).to.deep.equal(ready);
      d = await proxy();
      expect(d.spec.template.spec.containers[0]!.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: 18081, scheme: "HTTP" });
      expect(d.spec.template.spec.containers[0]!.readinessProbe.httpGet.port).to.equal(18081);
      const generation = d.metadata.generation;
      logs.length = 0;
      expect(await runReleaseSteps(ctx, [...post], ready)).to.deep.equal(ready);
      expect((await proxy()).metadata.generation, "carries the patch: no write").to.equal(generation);
      expect(logs.filter((m) => m.endsWith(": patched"))).to.deep.equal([]);
    });
  });

  describe("in the CoreServices stage", () => {
    let rel: Unpacked;
    before(async () => {
      rel = await unpackFixture();
    });
    after(() => rel?.cleanup());
    const facts = (installedVersion: string): ReleaseFacts => ({
      cdn: "https://cdn.olares.com",
      source: { installerDir: rel.installerDir, charts: rel.charts },
      manifest: rel.manifest,
      passwordLocation: "Secret olares-system/olares-owner-password, key password",
      ownerPassword: "pw-123456",
      randoms: randoms(),
      nodeAddress: "10.0.0.10",
      installedVersion,
    });
    const stage = (version: string, installed: string) => render(spec({ version }), { ...FACTS, release: facts(installed) }).stages.find((x) => x.name === "CoreServices")!;

    it("every other user's launcher and apps follow the owner's, as upgradeUserComponents: launcher-<u> re-fed its own bfl's names, <app>-<u> with --reuse-values and no values, the wizard only while that user has not completed it", () => {
      const bfl = { annotations: { userspace_pv: "pv-alice", userspace_rand16: "a".repeat(16) }, nodeName: "n1", nodeAddress: "10.0.0.10" };
      const withUsers = render(spec({ version: "1.12.2" }), {
        ...FACTS,
        release: {
          ...facts("1.12.1"),
          bfl,
          otherUsers: [
            { name: "carol", bflAnnotations: { userspace_rand16: "c".repeat(16), userspace_pv: "pv-carol" }, wizardCompleted: false },
            { name: "bob", bflAnnotations: { userspace_rand16: "b".repeat(16), userspace_pv: "pv-bob" }, wizardCompleted: true },
          ],
        },
      }).stages.find((x) => x.name === "CoreServices")!;
      const charts = (stageHook(withUsers, "OlaresRelease")?.steps ?? []).flatMap((x) => (x.kind === "chart" ? [x.release] : []));
      const names = charts.map((r) => `${r.namespace}/${r.name}`);
      const apps = rel.charts ? Object.keys(rel.charts).filter((d) => d.startsWith("wizard/config/apps/")).map((d) => d.split("/").pop()!).sort() : [];
      expect(apps).to.include.members(["desktop", "wizard"]);
      const at = (n: string) => names.indexOf(n);
      expect(at("user-space-bob/launcher-bob")).to.be.greaterThan(at("user-space-alice/launcher-alice"));
      expect(at("user-space-carol/launcher-carol")).to.be.greaterThan(at("user-space-bob/launcher-bob"));
      expect(names.at(-1)).to.equal("default/settings");
      for (const app of apps) {
        expect(names.includes(`user-space-carol/${app}-carol`), `carol ${app}`).to.equal(true);
        expect(names.includes(`user-space-bob/${app}-bob`), `bob ${app}`).to.equal(app !== "wizard");
      }
      const bobLauncher = charts.find((r) => r.name === "launcher-bob")!;
      expect(bobLauncher.reuseValues).to.equal(true);
      expect((bobLauncher.values.bfl as Record<string, string>).userspace_rand16).to.equal("b".repeat(16));
      expect((bobLauncher.values.bfl as Record<string, string>).userspace_pv).to.equal("pv-bob");
      expect(charts.find((r) => r.name === "desktop-carol")).to.deep.include({ values: {}, reuseValues: true });
    });

    it("an unsupported path is Degraded naming the version to go through, and applies nothing", () => {
      const st = stage("1.12.4", "1.12.1");
      expect(st.hooks ?? []).to.deep.equal([]);
      const r = st.ready({ get: () => undefined, list: () => [] });
      expect(r).to.include({ ready: false, degraded: true, reason: "UpgradePathUnsupported" });
      expect(r.message).to.equal("upgrading Olares 1.12.1 to 1.12.4: Olares 1.12.4 upgrades from 1.12.3 or later (olares-cli's upgrade check: 1.12.3 added breaking changes); upgrade 1.12.1 to 1.12.3 first; nothing is applied");
    });

    it("the target's upgrader runs first in the upgrade walk (1.12.3: set image of l4-bfl-proxy, then hami/settings…); 1.12.2 has no extra step", () => {
      const kinds = (version: string, installed: string) => (stageHook(stage(version, installed), "OlaresRelease")?.steps ?? []).map((s) => (s.kind === "chart" ? s.release.name : s.kind));
      expect(kinds("1.12.3", "1.12.2").slice(0, 3)).to.deep.equal(["deleteCRDs", "setImage", "settings"]);
      expect(kinds("1.12.2", "1.12.1")[0]).to.equal("settings");
      // 1.12.6 (from 1.12.5): UpdateL4DeploymentSpec first; PatchL4BFLProxyProbePort right after os-framework (and the user-env when the release has one)
      const k6 = kinds("1.12.6", "1.12.5");
      expect(k6[0]).to.equal("strategicPatch");
      const fw = k6.indexOf("os-framework");
      expect(k6.slice(fw, fw + 2)).to.deep.equal(["os-framework", "strategicPatch"]);
    });
  });
});
