// Drift on the cluster simulator: a managed file changed behind the agent's back marks the node
// Degraded naming the file (driftPolicy Report, left as is); with driftPolicy Heal it is rewritten.
import { expect } from "chai";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { OLARES_RELEASE_FILE } from "../../operator/src/render/node-config/os-tasks.js";
import {
  applyInstallation,
  condition,
  describeNodes,
  installation,
  patchInstallation,
  startTestbed,
  waitFor,
  waitReady,
  type NodeTestbed,
  type NodeView,
} from "./harness.js";

const DRIFTED = "sim-node-1";
const TAMPERED = "OLARES_VERSION=0.0.0-tampered\n";

describe("drift of managed files on the cluster simulator", function () {
  this.timeout(60_000);
  let bed: NodeTestbed;
  let original: string;
  const releaseFile = () => join(bed.host(DRIFTED).root, OLARES_RELEASE_FILE);
  const view = (name: string): NodeView => bed.nodes().find((v) => v.name === name)!;

  before(async () => {
    // A short drift interval: the production default is minutes.
    bed = await startTestbed({ sim: { nodes: 2 }, agents: { tuning: { driftIntervalMs: 200, resyncMs: 200 } } });
    await applyInstallation(bed, { driftPolicy: "Report" });
    await waitReady(bed, "Ready before tampering");
    original = await readFile(releaseFile(), "utf8");
  });

  after(async () => {
    await bed?.stop();
  });

  it("driftPolicy Report: the node goes Degraded with a reason naming the file; the file is left as found", async () => {
    await writeFile(releaseFile(), TAMPERED);
    const cr = await waitFor(bed.sim, () => {
      const c = installation(bed.sim);
      return view(DRIFTED).state === "Degraded" && c?.status?.nodes?.degraded === 1 ? c : undefined;
    }, 10_000, () => `drift reported: ${describeNodes(bed)}`);
    const reason = view(DRIFTED).reason;
    expect(reason).to.match(/^Drift: /);
    expect(reason).to.contain(OLARES_RELEASE_FILE).and.to.contain("content changed");
    expect(cr.status.nodes.degradedNodes).to.deep.equal([{ name: DRIFTED, reason }]);
    expect(condition(cr, "Degraded")?.status).to.equal("True");
    expect(condition(cr, "Degraded")?.message).to.contain(DRIFTED).and.to.contain(OLARES_RELEASE_FILE);
    expect(view("sim-node-0").state, "the other node is unaffected").to.equal("Done");
    // Report never heals: a few more drift checks later the file is still the tampered one.
    await new Promise((r) => setTimeout(r, 800));
    expect(await readFile(releaseFile(), "utf8")).to.equal(TAMPERED);
    expect(view(DRIFTED).state).to.equal("Degraded");
  });

  it("switching to driftPolicy Heal rewrites the file and the node is Done again; later drift is healed at once", async () => {
    await patchInstallation(bed, { spec: { nodes: { driftPolicy: "Heal" } } });
    const cr = await waitReady(bed, "Ready after switching to Heal");
    expect(await readFile(releaseFile(), "utf8")).to.equal(original);
    expect(cr.status.nodes).to.deep.include({ total: 2, updated: 2, degraded: 0 });

    const sawDegraded: string[] = [];
    const unsubscribe = bed.sim.store.subscribe("/nodes", () => {
      if (view(DRIFTED).state === "Degraded") sawDegraded.push(view(DRIFTED).reason);
    });
    try {
      await writeFile(releaseFile(), TAMPERED);
      const deadline = Date.now() + 10_000;
      while ((await readFile(releaseFile(), "utf8")) !== original) {
        if (Date.now() > deadline) throw new Error(`${OLARES_RELEASE_FILE} on ${DRIFTED} was not healed within 10 s (${describeNodes(bed)})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      unsubscribe();
    }
    expect(sawDegraded, "healing does not pass through Degraded").to.deep.equal([]);
    expect(view(DRIFTED).state).to.equal("Done");
  });
});
