// Cordon-state preservation on the cluster simulator: GPU configs carry the NVIDIA driver task
// (disruption "reboot"), so their agents cordon and drain. A node the admin cordoned (`kubectl cordon`)
// before the rollout stays unschedulable afterwards; the nodes the agents cordoned are schedulable again;
// the non-GPU node (no drain-class change) is never cordoned. A driver change waits at RebootRequired
// until spec.nodes.rollout.allowReboot=true. A single-node cluster is never cordoned.
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ANNOTATION_WAS_UNSCHEDULABLE } from "../../operator/src/contract/index.js";
import { NVIDIA_PROC_VERSION } from "../../operator/src/agent/tasks/nvidia-driver.js";
import { emulateDriverChange } from "./driver-change.js";
import {
  applyInstallation,
  condition,
  describeNodes,
  installation,
  kubectlOk,
  patchInstallation,
  recordNodes,
  startTestbed,
  waitFor,
  waitReady,
  type NodeRecorder,
  type NodeTestbed,
} from "./harness.js";

const ADMIN_CORDONED = "sim-node-2";
const GPU_NODES = ["sim-node-1", "sim-node-2", "sim-node-3"];
const NEW_DRIVER = "575.51.03";

describe("cordon-state preservation on the cluster simulator: drain-class changes on GPU nodes", function () {
  this.timeout(60_000);
  let bed: NodeTestbed;
  let rec: NodeRecorder;

  before(async () => {
    bed = await startTestbed({
      sim: { nodes: 4, gpuNodes: 3 },
      beforeOperator: async (sim) => {
        await kubectlOk(sim.kubeconfigPath, ["cordon", ADMIN_CORDONED]);
      },
    });
    rec = recordNodes(bed.sim);
  });

  after(async () => {
    rec?.stop();
    await bed?.stop();
  });

  function expectCordonsRestored(): void {
    for (const v of bed.nodes()) {
      expect(v.unschedulable, `${v.name} unschedulable (${describeNodes(bed)})`).to.equal(v.name === ADMIN_CORDONED);
      const node = bed.sim.store.get("/nodes", "", v.name)!;
      expect(node.metadata.annotations?.[ANNOTATION_WAS_UNSCHEDULABLE], `${v.name}: cordon record dropped`).to.equal(undefined);
    }
  }

  it("first rollout: GPU nodes are drained (driver task), the admin's cordon survives, the others are uncordoned", async () => {
    await applyInstallation(bed, { rollout: { maxUnavailable: 1, allowReboot: false } });
    const cr = await waitReady(bed, "Ready after the first rollout");
    expect(cr.status.nodes).to.deep.include({ total: 4, updated: 4, degraded: 0 });
    expect(rec.maxInFlight, rec.worst).to.equal(1);
    for (const n of GPU_NODES) expect(rec.everCordoned.has(n), `${n} was cordoned for the drain`).to.equal(true);
    expect(rec.everCordoned.has("sim-node-0"), "the non-GPU node needs no drain").to.equal(false);
    expectCordonsRestored();
  });

  let emulated: Array<{ reboots: () => number }>;
  let cpuConfig: string | undefined;
  let evictionsBefore: number;

  it("NVIDIA driver change with allowReboot=false: the first GPU node stops at RebootRequired (still cordoned, no reboot), the rollout waits", async () => {
    emulated = await Promise.all(GPU_NODES.map((n) => emulateDriverChange(bed.host(n), NEW_DRIVER)));
    cpuConfig = bed.nodes().find((v) => v.name === "sim-node-0")!.current;
    rec.reset();
    evictionsBefore = bed.sim.requests.filter((r) => r.subresource === "eviction").length;
    await patchInstallation(bed, { spec: { gpu: { nvidia: { driver: { version: NEW_DRIVER } } } } });
    const cr = await waitFor(bed.sim, () => {
      const c = installation(bed.sim);
      return c?.status?.nodes?.degraded === 1 && c.status.observedGeneration === c.metadata.generation ? c : undefined;
    }, 15_000, () => `a node waiting for its reboot: ${describeNodes(bed)}`);
    await new Promise((r) => setTimeout(r, 1000));
    const first = bed.nodes().find((v) => v.name === "sim-node-1")!;
    expect(first.state).to.equal("Degraded");
    expect(first.reason).to.match(/^RebootRequired: .*nvidia\/driver.*allowReboot=true/);
    expect(first.unschedulable, "stays cordoned until the reboot is done").to.equal(true);
    expect(emulated.map((e) => e.reboots()), "no reboot without allowReboot").to.deep.equal([0, 0, 0]);
    expect(rec.handOuts.map((h) => h.node), "the rollout waits for the node").to.deep.equal(["sim-node-1"]);
    expect(cr.status.nodes.degradedNodes).to.deep.equal([{ name: "sim-node-1", reason: first.reason }]);
    expect(condition(installation(bed.sim), "NodeConfigReady")?.message).to.contain("reboot required on sim-node-1");
    expect(bed.nodes().find((v) => v.name === ADMIN_CORDONED)!.unschedulable).to.equal(true);
  });

  it("then allowReboot=true: drain, reboot, Done on every GPU node; the admin's cordon survives again", async () => {
    await patchInstallation(bed, { spec: { nodes: { rollout: { allowReboot: true } } } });
    const cr = await waitReady(bed, "Ready after the driver change");

    expect(rec.maxInFlight, rec.worst).to.equal(1);
    expect(emulated.map((e) => e.reboots()), "one reboot per GPU node").to.deep.equal([1, 1, 1]);
    for (const n of GPU_NODES) {
      expect(rec.everCordoned.has(n), `${n} was cordoned for the driver change`).to.equal(true);
      expect(await readFile(join(bed.host(n).root, NVIDIA_PROC_VERSION), "utf8")).to.contain(NEW_DRIVER);
      expect(bed.host(n).system.installed.has("nvidia-driver-575"), n).to.equal(true);
    }
    expect(rec.everCordoned.has("sim-node-0")).to.equal(false);
    expect(rec.desiredHistory.get("sim-node-0") ?? [], "the non-GPU config did not change").to.deep.equal([]);
    expect(bed.nodes().find((v) => v.name === "sim-node-0")!.current).to.equal(cpuConfig);
    expect(bed.sim.requests.filter((r) => r.subresource === "eviction").length, "pods were evicted by the drains").to.be.greaterThan(evictionsBefore);
    expect(cr.status.nodes).to.deep.include({ total: 4, updated: 4, degraded: 0 });
    expectCordonsRestored();
    expect(installation(bed.sim)!.status.phase).to.equal("Ready");
  });
});

describe("single-node cluster on the cluster simulator: a drain-class config never cordons the only node", function () {
  this.timeout(60_000);
  let bed: NodeTestbed;
  let rec: NodeRecorder;

  before(async () => {
    bed = await startTestbed({ sim: { nodes: 1, gpuNodes: 1 } });
    rec = recordNodes(bed.sim);
  });

  after(async () => {
    rec?.stop();
    await bed?.stop();
  });

  it("the GPU config (driver task, disruption reboot) is applied without cordon or eviction", async () => {
    await applyInstallation(bed, { rollout: { allowReboot: true } });
    const cr = await waitReady(bed, "Ready on one node");
    expect(cr.status.nodes).to.deep.include({ total: 1, updated: 1, degraded: 0 });
    expect(bed.sim.store.get("/nodes", "", "sim-node-0")!.metadata.labels?.["olares.com/gpu.nvidia"], "the node runs the NVIDIA config").to.equal("true");
    expect([...rec.everCordoned]).to.deep.equal([]);
    expect(bed.sim.requests.filter((r) => r.subresource === "eviction")).to.deep.equal([]);
  });
});
