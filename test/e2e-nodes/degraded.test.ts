// A node whose config fails on the cluster simulator: it stays Degraded with the failing task in its
// reason, the rollout stops (no further node is handed the config), the CR names the node; fixing the
// host or the spec lets it recover and the rollout finish.
import { expect } from "chai";
import {
  allDoneOn,
  applyInstallation,
  condition,
  describeNodes,
  desiredConfigOf,
  installation,
  patchInstallation,
  recordNodes,
  startTestbed,
  waitFor,
  waitReady,
  type NodeRecorder,
  type NodeTestbed,
  type NodeView,
} from "./harness.js";

const BROKEN = "sim-node-1";

describe("a node that fails its config, on the cluster simulator", function () {
  this.timeout(60_000);
  let bed: NodeTestbed;
  let rec: NodeRecorder;

  before(async () => {
    bed = await startTestbed({ sim: { nodes: 3 } });
    rec = recordNodes(bed.sim);
    await applyInstallation(bed, { rollout: { maxUnavailable: 1 } });
    await waitReady(bed, "Ready before the failing change");
  });

  after(async () => {
    rec?.stop();
    await bed?.stop();
  });

  const view = (name: string): NodeView => bed.nodes().find((v) => v.name === name)!;

  /** Waits until `name` is Degraded on the CR's current target and the CR reports it. */
  async function degradedOnTarget(name: string, what: string) {
    return waitFor(bed.sim, () => {
      const cr = installation(bed.sim);
      const v = view(name);
      return cr?.status?.observedGeneration === cr?.metadata.generation && v.state === "Degraded" && v.desired === desiredConfigOf(cr) && cr?.status?.nodes?.degraded === 1 ? cr : undefined;
    }, 15_000, () => `${what}: ${describeNodes(bed)}`);
  }

  it("apt-get install failing on one host → that node Degraded naming the task, rollout stopped, CR names it", async () => {
    const before = desiredConfigOf(installation(bed.sim));
    rec.reset();
    bed.host(BROKEN).system.failInstall.add("htop");
    await patchInstallation(bed, { spec: { os: { packages: ["htop"] } } });
    await degradedOnTarget(BROKEN, `${BROKEN} Degraded`);
    // Enough time for the operator to wrongly move on, several agent retries included.
    await new Promise((r) => setTimeout(r, 1500));

    const cr = installation(bed.sim)!;
    const target = desiredConfigOf(cr)!;
    expect(target).to.not.equal(before);
    const broken = view(BROKEN);
    expect(broken.state).to.equal("Degraded");
    expect(broken.reason).to.match(/^Task packages\/base failed: .*htop/);
    expect(broken.current, "the failing node still reports its old config").to.equal(before);

    // sim-node-0 was first and finished; sim-node-2 was never handed the failing config.
    expect(view("sim-node-0")).to.include({ state: "Done", current: target });
    expect(rec.desiredHistory.get("sim-node-2") ?? [], "no config handed out after the failure").to.deep.equal([]);
    expect(view("sim-node-2")).to.include({ state: "Done", current: before, desired: before });
    expect(rec.maxInFlight, rec.worst).to.equal(1);

    expect(cr.status.nodes).to.deep.include({ total: 3, updated: 1, degraded: 1, desiredConfig: target });
    expect(cr.status.nodes.degradedNodes).to.deep.equal([{ name: BROKEN, reason: broken.reason }]);
    expect(cr.status.phase).to.equal("Degraded");
    const degraded = condition(cr, "Degraded");
    expect(degraded).to.include({ status: "True", reason: "NodesDegraded" });
    expect(degraded!.message).to.contain(BROKEN).and.to.contain("packages/base");
    const stage = condition(cr, "NodeConfigReady");
    expect(stage).to.include({ status: "False", reason: "NodesDegraded" });
    expect(stage!.message).to.match(/rollout stopped: node sim-node-1 degraded/);
  });

  it("fixing the host (the package becomes installable) → the agent's retry succeeds and the rollout finishes", async () => {
    const target = desiredConfigOf(installation(bed.sim));
    bed.host(BROKEN).system.failInstall.delete("htop");
    const cr = await waitReady(bed, "Ready after the host was fixed");
    expect(allDoneOn(bed.nodes(), target), describeNodes(bed)).to.equal(true);
    expect(cr.status.nodes).to.deep.include({ total: 3, updated: 3, degraded: 0 });
    expect(cr.status.nodes.degradedNodes ?? []).to.deep.equal([]);
    expect(condition(cr, "Degraded")?.status).to.equal("False");
    expect(rec.maxInFlight, rec.worst).to.equal(1);
    for (const n of bed.nodeNames) expect(bed.host(n).system.installed.has("htop"), n).to.equal(true);
  });

  it("fixing the spec (replacing the package that cannot install) → the degraded node is handed the fixed config first and recovers", async () => {
    rec.reset();
    bed.host(BROKEN).system.failInstall.add("no-such-tool");
    await patchInstallation(bed, { spec: { os: { packages: ["htop", "no-such-tool"] } } });
    await degradedOnTarget(BROKEN, `${BROKEN} Degraded on no-such-tool`);
    expect(view(BROKEN).reason).to.match(/^Task packages\/base failed: .*no-such-tool/);
    expect(rec.desiredHistory.get("sim-node-2") ?? []).to.deep.equal([]);

    // A forward fix: a config neither node has run (a revert is the next test).
    rec.reset();
    await patchInstallation(bed, { spec: { os: { packages: ["htop", "jq"] } } });
    const cr = await waitReady(bed, "Ready after the spec was fixed");
    const fixed = desiredConfigOf(cr)!;
    expect(allDoneOn(bed.nodes(), fixed), describeNodes(bed)).to.equal(true);
    // The degraded node is retargeted first, then the node that had taken the bad config, then the rest.
    expect(rec.handOuts).to.deep.equal([
      { node: BROKEN, config: fixed },
      { node: "sim-node-0", config: fixed },
      { node: "sim-node-2", config: fixed },
    ]);
    expect(rec.maxInFlight, rec.worst).to.equal(1);
    for (const n of bed.nodeNames) expect(bed.host(n).system.installed.has("jq"), n).to.equal(true);
  });

  it("reverting the spec to the config the degraded node still runs → it re-verifies and reports Done, the rollout moves the others back", async () => {
    const good = desiredConfigOf(installation(bed.sim))!;
    bed.host(BROKEN).system.failInstall.add("no-such-tool");
    rec.reset();
    await patchInstallation(bed, { spec: { os: { packages: ["htop", "jq", "no-such-tool"] } } });
    await degradedOnTarget(BROKEN, `${BROKEN} Degraded on no-such-tool`);
    const bad = desiredConfigOf(installation(bed.sim))!;
    expect(view(BROKEN)).to.include({ state: "Degraded", current: good });
    expect(view("sim-node-0")).to.include({ current: bad });

    rec.reset();
    await patchInstallation(bed, { spec: { os: { packages: ["htop", "jq"] } } });
    const cr = await waitReady(bed, "Ready after the spec was reverted");
    expect(desiredConfigOf(cr)).to.equal(good);
    expect(allDoneOn(bed.nodes(), good), describeNodes(bed)).to.equal(true);
    expect(cr.status.nodes).to.deep.include({ total: 3, updated: 3, degraded: 0 });
    expect(cr.status.nodes.degradedNodes ?? []).to.deep.equal([]);
    expect(condition(cr, "Degraded")?.status).to.equal("False");
    expect(view(BROKEN).reason).to.equal("");
    expect(rec.handOuts.map((h) => h.config)).to.not.include(bad);
    expect(rec.maxInFlight, rec.worst).to.equal(1);
  });
});
