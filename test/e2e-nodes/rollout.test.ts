// Node rollout on the cluster simulator: maxUnavailable=1 holds at every Node write, and
// spec.nodes.rollout.paused (patched with the real kubectl) stops and resumes the hand-out.
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TIMESYNCD_DROPIN } from "../../operator/src/agent/tasks/timesync.js";
import { CR_TYPE_KEY } from "../e2e/cluster.js";
import {
  applyInstallation,
  allDoneOn,
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
} from "./harness.js";

describe("node rollout on the cluster simulator: 3 nodes, maxUnavailable=1, pause and resume", function () {
  this.timeout(60_000);
  let bed: NodeTestbed;
  let rec: NodeRecorder;

  before(async () => {
    bed = await startTestbed({ sim: { nodes: 3 } });
    rec = recordNodes(bed.sim);
  });

  after(async () => {
    rec?.stop();
    await bed?.stop();
  });

  it("rolls the config out one node at a time; all end Done on the same config and the CR is Ready", async () => {
    // status.nodes as written at every CR write during the rollout.
    const counts: Array<{ total: number; updated: number; working: number; degraded: number }> = [];
    const unsubscribe = bed.sim.store.subscribe(CR_TYPE_KEY, (ev) => {
      if (ev.obj?.status?.nodes) counts.push(ev.obj.status.nodes);
    });
    await applyInstallation(bed, { rollout: { maxUnavailable: 1 } });
    const cr = await waitReady(bed, "Ready after the first rollout").finally(unsubscribe);
    expect(counts.length, "status.nodes written during the rollout").to.be.greaterThan(1);
    for (const c of counts) {
      expect(c.total, JSON.stringify(c)).to.equal(3);
      expect(c.working, JSON.stringify(c)).to.be.at.most(1);
      expect(c.updated + c.working + c.degraded, JSON.stringify(c)).to.be.at.most(3);
    }
    expect(counts.map((c) => c.updated), "updated only grows").to.deep.equal(counts.map((c) => c.updated).sort((a, b) => a - b));
    expect(counts.some((c) => c.updated > 0 && c.updated < 3), "an intermediate count was reported").to.equal(true);
    const config = desiredConfigOf(cr);
    expect(config, "status.nodes.desiredConfig").to.be.a("string");
    expect(allDoneOn(bed.nodes(), config), describeNodes(bed)).to.equal(true);
    expect(rec.maxInFlight, `never more than one node in flight (worst: ${rec.worst})`).to.equal(1);
    expect(cr.status.nodes).to.deep.include({ total: 3, updated: 3, working: 0, degraded: 0, desiredConfig: config });
    expect(cr.status.nodes.degradedNodes ?? []).to.deep.equal([]);
    expect(condition(cr, "NodeConfigReady")?.status).to.equal("True");
    expect(cr.status.phase).to.equal("Ready");
    for (const n of bed.nodeNames) expect(rec.desiredHistory.get(n), n).to.deep.equal([config]);
  });

  it("a spec change rolls a new config out one node at a time again", async () => {
    const before = desiredConfigOf(installation(bed.sim));
    rec.reset();
    await patchInstallation(bed, { spec: { os: { ntp: { servers: ["time1.example.org"] } } } });
    const cr = await waitReady(bed, "Ready after the NTP change");
    const after = desiredConfigOf(cr);
    expect(after).to.not.equal(before);
    expect(rec.maxInFlight, `never more than one node in flight (worst: ${rec.worst})`).to.equal(1);
    expect(allDoneOn(bed.nodes(), after), describeNodes(bed)).to.equal(true);
    for (const n of bed.nodeNames) {
      const dropin = await readFile(join(bed.host(n).root, TIMESYNCD_DROPIN), "utf8");
      expect(dropin, `${n}: ${TIMESYNCD_DROPIN}`).to.contain("NTP=time1.example.org");
    }
  });

  it("kubectl patch spec.nodes.rollout.paused=true hands out no new desired-config; paused=false resumes", async () => {
    await patchInstallation(bed, { spec: { nodes: { rollout: { paused: true } } } });
    await waitFor(bed.sim, () => installation(bed.sim)?.status?.observedGeneration === installation(bed.sim)?.metadata.generation, 10_000, "the pause observed");
    const pausedOn = desiredConfigOf(installation(bed.sim));
    rec.reset();

    await patchInstallation(bed, { spec: { os: { ntp: { servers: ["time2.example.org"] } } } });
    const generation = installation(bed.sim)!.metadata.generation!;
    const waiting = await waitFor(bed.sim, () => {
      const cr = installation(bed.sim);
      return cr?.status?.observedGeneration === generation && desiredConfigOf(cr) !== pausedOn ? cr : undefined;
    }, 10_000, "the new config rendered while paused");
    const target = desiredConfigOf(waiting)!;
    // Give the operator and agents time to act on it if they wrongly would.
    await new Promise((r) => setTimeout(r, 1500));
    expect([...rec.desiredHistory.values()].flat(), "no desired-config handed out while paused").to.deep.equal([]);
    expect(bed.nodes().map((v) => v.current)).to.deep.equal(bed.nodeNames.map(() => pausedOn));
    const paused = installation(bed.sim)!;
    expect(paused.status.phase).to.not.equal("Ready");
    expect(condition(paused, "NodeConfigReady")?.message).to.match(/paused/);
    expect(paused.status.nodes).to.deep.include({ total: 3, updated: 0, desiredConfig: target });

    await patchInstallation(bed, { spec: { nodes: { rollout: { paused: false } } } });
    const cr = await waitReady(bed, "Ready after resuming");
    expect(desiredConfigOf(cr)).to.equal(target);
    expect(allDoneOn(bed.nodes(), target), describeNodes(bed)).to.equal(true);
    expect(rec.maxInFlight, `one node at a time after resuming (worst: ${rec.worst})`).to.equal(1);
    for (const n of bed.nodeNames) expect(rec.desiredHistory.get(n), n).to.deep.equal([target]);
  });
});
