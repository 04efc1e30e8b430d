// Real helm installs the fixture Olares release into the cluster simulator, release by release in the
// installer's order, with our values; then: steady state (no helm run, no write over 10 resyncs), helm
// failing mid-walk (the walk stops there, earlier releases keep running, a fix resumes it), a missing chart.
import { expect } from "chai";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Simulator } from "../sim/server.js";
import { latestRecord, walkReleases, type Helm } from "../../operator/src/helm/index.js";
import { loadRelease } from "../../operator/src/helm/release-cache.js";
import { ANNOTATION_WIZARD_STATUS, ReleaseRenderError, activation, componentsReadiness, ownerUser, releasesOf, renderReleaseList, systemComponents, type BflFacts, type ReleaseListInput } from "../../operator/src/render/releases/index.js";
import { HELMS } from "../chart/tools.js";
import { aliceSpec, randoms, unpackFixture, type Unpacked } from "./helpers.js";
import { get, helmFor, simWithKubeSphere, storeObserved, storeRecords, writes } from "./sim-helpers.js";

const ORDER = ["hami", "account", "settings", "os-platform", "os-framework", "launcher-alice", "desktop", "files", "settings", "wizard"];

function bflFacts(sim: Simulator): BflFacts | undefined {
  const sts = get(sim, "apps/statefulsets", "user-space-alice", "bfl");
  const pod = sim.store.list("/pods", "user-space-alice").find((p) => (p as { metadata: { labels?: Record<string, string> } }).metadata.labels?.tier === "bfl") as { spec?: { nodeName?: string } } | undefined;
  if (!sts || !pod?.spec?.nodeName) return undefined;
  return { annotations: sts.metadata.annotations ?? {}, nodeName: pod.spec.nodeName, nodeAddress: "10.0.0.10" };
}

for (const h of HELMS) {
  describe(`release walk with real helm on the cluster simulator (${h.label})`, function () {
    this.timeout(300_000);
    let sim: Simulator;
    let rel: Unpacked;
    let helm: Helm;
    let input: ReleaseListInput;

    before(async () => {
      sim = await simWithKubeSphere({ nodes: 2, gpuNodes: 1 });
      rel = await unpackFixture();
      helm = helmFor(sim, h.bin);
      input = { spec: aliceSpec({ gpu: { enabled: "auto" } }), source: rel, ownerPassword: "s3cret-pass", randoms: randoms(), gpuNodes: 1 };
    });
    after(async () => {
      await sim?.stop();
      rel?.cleanup();
    });

    it("installs the system releases in order and stops before the apps until bfl runs", async () => {
      const list = renderReleaseList(input);
      expect(list.waiting?.key).to.equal("apps");
      const r = await walkReleases(releasesOf(list), helm, storeRecords(sim));
      expect(r.failed, r.failed?.error).to.equal(undefined);
      expect(r.outcomes.map((o) => `${o.name}:${o.result}`)).to.deep.equal(ORDER.slice(0, 6).map((n) => `${n}:installed`));
      expect(r.helmRuns).to.equal(6);
      await sim.settle();
      // Workloads named like the real components, where the installer expects them.
      for (const [typeKey, ns, name] of [
        ["apps/statefulsets", "os-platform", "citus"],
        ["apps/deployments", "os-platform", "lldap"],
        ["apps/statefulsets", "os-framework", "app-service"],
        ["apps/daemonsets", "os-framework", "files"],
        ["apps/statefulsets", "user-space-alice", "bfl"],
        ["apps/deployments", "user-system-alice", "system-server"],
        ["apps/daemonsets", "kube-system", "hami-device-plugin"],
        ["apps/daemonsets", "os-gpu", "gpu-scheduler"],
      ] as const) {
        expect(get(sim, typeKey, ns, name), `${ns}/${name}`).to.not.equal(undefined);
      }
      // The charts got the installer's values.
      const platform = get(sim, "/configmaps", "os-platform", "os-platform-values") as unknown as { data: Record<string, string> };
      expect(JSON.parse(platform.data.gpu!)).to.equal("nvidia");
      expect(JSON.parse(platform.data.rootPath!)).to.equal("/olares");
      expect(JSON.parse(platform.data.sharedlib!)).to.equal("/olares/share");
      const user = get(sim, "iam.kubesphere.io/users", "", "alice")!;
      expect(user.metadata.annotations?.["bytetrade.io/terminus-name"]).to.equal("alice@example.com");
      expect((user as unknown as { spec: { initialPassword: string } }).spec.initialPassword).to.equal("a531b46bc3c649823e8f01377cb471a3");
      const terminus = get(sim, "sys.bytetrade.io/terminus", "", "terminus") as unknown as { spec: { version: string } };
      expect(terminus.spec.version).to.equal("1.12.1");
      const bfl = get(sim, "apps/statefulsets", "user-space-alice", "bfl")!;
      expect(bfl.metadata.annotations?.userspace_rand16).to.equal(input.randoms["launcher.bfl.userspace_rand16"]);
    });

    it("installs the apps with bfl's facts; the releases before them are left alone", async () => {
      const bfl = bflFacts(sim);
      expect(bfl, "bfl StatefulSet and its pod").to.not.equal(undefined);
      input = { ...input, bfl, bflAnnotations: bfl!.annotations };
      const list = renderReleaseList(input);
      expect(list.waiting).to.equal(undefined);
      const r = await walkReleases(releasesOf(list), helm, storeRecords(sim));
      expect(r.failed, r.failed?.error).to.equal(undefined);
      expect(r.outcomes.map((o) => `${o.name}:${o.result}`)).to.deep.equal([
        ...ORDER.slice(0, 6).map((n) => `${n}:unchanged`),
        ...ORDER.slice(6).map((n) => `${n}:installed`),
      ]);
      expect(r.helmRuns).to.equal(4);
      const desktop = get(sim, "/configmaps", "user-space-alice", "desktop-values") as unknown as { data: Record<string, string> };
      expect(JSON.parse(desktop.data["pvc.userspace"]!)).to.equal(bfl!.annotations.userspace_pv);
      expect(JSON.parse(desktop.data["bfl.nodeName"]!)).to.equal(bfl!.nodeName);
      expect(get(sim, "/services", "user-space-alice", "wizard")).to.not.equal(undefined);
    });

    it("is ready by the installer's component list, then awaits activation until the wizard completes", async () => {
      await sim.settle();
      const observed = storeObserved(sim);
      const r = componentsReadiness("CoreServices", systemComponents("alice", { gpu: true }), observed);
      expect(r.blocking?.message).to.equal(undefined);
      expect(r.ready).to.equal(true);
      expect(r.components.map((c) => `${c.namespace}/${c.name}`)).to.include.members(["os-framework/app-service", "user-space-alice/bfl", "user-system-alice/system-server", "kube-system/hami-device-plugin"]);
      const input = { username: "alice", domain: "example.com", nodeAddress: "10.0.0.10", passwordLocation: "Secret olares-system/olares-owner-password, key password" };
      const before = activation(ownerUser(observed, "alice"), input);
      expect(before.state).to.equal("AwaitingActivation");
      expect(before.message).to.include("http://10.0.0.10:30180").and.include("olares-cli user activate alice@example.com").and.include("Secret olares-system/olares-owner-password");
      const user = structuredClone(get(sim, "iam.kubesphere.io/users", "", "alice")!);
      user.metadata.annotations = { ...user.metadata.annotations, [ANNOTATION_WIZARD_STATUS]: "completed" };
      sim.api.update(sim.api.resolve("iam.kubesphere.io/v1alpha2", "User"), undefined, "alice", user as never);
      expect(activation(ownerUser(storeObserved(sim), "alice"), input).state).to.equal("Activated");
    });

    it("steady state: 10 resyncs run helm 0 times and write nothing", async () => {
      await sim.settle();
      sim.requests.length = 0;
      const runsBefore = helm.runs;
      for (let i = 0; i < 10; i++) {
        const r = await walkReleases(releasesOf(renderReleaseList(input)), helm, storeRecords(sim));
        expect(r.outcomes.every((o) => o.result === "unchanged")).to.equal(true);
      }
      expect(helm.runs - runsBefore).to.equal(0);
      expect(writes(sim)).to.equal(0);
    });

    it("a values change upgrades only that release (spec.coreServices.<release>.values deep-merged)", async () => {
      const spec = { ...input.spec, coreServices: { "os-framework": { values: { backup: { bucket: "olares-backup" } } } } };
      const r = await walkReleases(releasesOf(renderReleaseList({ ...input, spec })), helm, storeRecords(sim));
      expect(r.outcomes.filter((o) => o.result !== "unchanged").map((o) => `${o.name}:${o.result}`)).to.deep.equal(["os-framework:upgraded"]);
      const cm = get(sim, "/configmaps", "os-framework", "os-framework-values") as unknown as { data: Record<string, string> };
      expect(JSON.parse(cm.data["backup.bucket"]!)).to.equal("olares-backup");
      expect(JSON.parse(cm.data["backup.key_prefix"]!)).to.equal("");
      const nats = get(sim, "/secrets", "os-framework", "app-service-nats-secret")!;
      expect(nats).to.not.equal(undefined);
    });
  });
}

describe("release walk failures with real helm on the cluster simulator (Helm 4.1)", function () {
  this.timeout(300_000);
  let sim: Simulator;
  let rel: Unpacked;
  let helm: Helm;

  before(async () => {
    sim = await simWithKubeSphere({ nodes: 1 });
    rel = await unpackFixture();
    helm = helmFor(sim, HELMS[0].bin);
  });
  after(async () => {
    await sim?.stop();
    rel?.cleanup();
  });

  const inputFor = async (extra: Partial<ReleaseListInput> = {}): Promise<ReleaseListInput> => ({
    spec: aliceSpec(), source: await loadRelease(rel.installerDir), ownerPassword: "pw-123456", randoms: FIXED_RANDOMS, gpuNodes: 0, ...extra,
  });
  const FIXED_RANDOMS = randoms();

  it("helm failing mid-walk stops at that release with helm's error; the earlier ones keep running", async () => {
    const broken = join(rel.installerDir, "wizard/config/os-framework/templates/broken.yaml");
    writeFileSync(broken, '{{ fail "os-framework: broken on purpose" }}\n');
    const r = await walkReleases(releasesOf(renderReleaseList(await inputFor())), helm, storeRecords(sim));
    expect(r.outcomes.map((o) => `${o.name}:${o.result}`)).to.deep.equal(["account:installed", "settings:installed", "os-platform:installed", "os-framework:failed"]);
    expect(r.failed).to.deep.include({ name: "os-framework", namespace: "os-framework" });
    expect(r.failed!.error).to.include("os-framework: broken on purpose");
    for (const [name, ns] of [["account", "default"], ["settings", "default"], ["os-platform", "os-platform"]] as const) {
      expect(latestRecord(await storeRecords(sim).helmSecrets(ns), name, ns)?.status, name).to.equal("deployed");
    }
    expect(get(sim, "apps/statefulsets", "os-platform", "citus")).to.not.equal(undefined);
    expect(latestRecord(await storeRecords(sim).helmSecrets("user-space-alice"), "launcher-alice", "user-space-alice")).to.equal(undefined);

    rmSync(broken);
    const again = await walkReleases(releasesOf(renderReleaseList(await inputFor())), helm, storeRecords(sim));
    expect(again.failed, again.failed?.error).to.equal(undefined);
    expect(again.outcomes.map((o) => `${o.name}:${o.result}`)).to.deep.equal(["account:unchanged", "settings:unchanged", "os-platform:unchanged", "os-framework:installed", "launcher-alice:installed"]);
  });

  it("a chart missing from the release: render names spec.version and the chart; the walker runs no helm for a vanished chart", async () => {
    const moved = join(rel.installerDir, "wizard/config/launcher.away");
    const { renameSync } = await import("node:fs");
    renameSync(join(rel.installerDir, "wizard/config/launcher"), moved);
    try {
      const input = await inputFor();
      expect(() => renderReleaseList(input)).to.throw(ReleaseRenderError, "spec.version: the Olares 1.12.1 release has no chart wizard/config/launcher");
      const releases = releasesOf(renderReleaseList({ ...input, source: { ...input.source, charts: { ...input.source.charts, "wizard/config/launcher": "sha256:gone" } } }));
      const runs = helm.runs;
      const r = await walkReleases(releases, helm, storeRecords(sim));
      expect(r.failed).to.deep.include({ name: "launcher-alice", error: `chart ${rel.installerDir}/wizard/config/launcher not found in the release` });
      expect(helm.runs - runs).to.equal(0);
    } finally {
      renameSync(moved, join(rel.installerDir, "wizard/config/launcher"));
    }
  });

  it("spec.coreServices: unknown release names and legacy fields are refused naming the field", async () => {
    const input = await inputFor();
    expect(() => renderReleaseList({ ...input, spec: { ...input.spec, coreServices: { citus: { values: {} } } } })).to.throw(ReleaseRenderError, "spec.coreServices.citus: not a release of Olares 1.12.1; known: account, settings, os-platform, os-framework, launcher, hami, velero, desktop, files, settings, wizard");
    expect(() => renderReleaseList({ ...input, spec: { ...input.spec, coreServices: { "os-framework": { image: "x" } } } })).to.throw(ReleaseRenderError, "spec.coreServices.os-framework.image: not supported");
    expect(() => renderReleaseList({ ...input, spec: { ...input.spec, coreServices: { account: { enabled: false } } } })).to.throw(ReleaseRenderError, "spec.coreServices.account.enabled: account is required");
    const withoutWizard = renderReleaseList({ ...input, bfl: { annotations: {}, nodeName: "n", nodeAddress: "1.2.3.4" }, spec: { ...input.spec, coreServices: { wizard: { enabled: false } } } });
    expect(withoutWizard.entries.map((e) => e.release.name)).to.not.include("wizard");
  });
});
