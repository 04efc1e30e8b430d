// The agent killed at every step boundary through the CR path: the real operator on the cluster
// simulator drives LocalFS → JuiceFS; the node's storage half of the agent (NodeStorage, as NodeAgent
// runs it, against the simulator's API server) runs in its own process and is SIGKILLed as each step
// starts — Prepare, Sync, Quiesce, FinalSync, Verify, Swap, Resume — and in the middle of Sync's copy and
// Verify's reads, and started again each time. The
// migration resumes from the recorded step (never from Precheck), the gates already answered pass at
// once, and it ends Ready on JuiceFS with the tree identical and the workloads back at their replicas.
import { expect } from "chai";
import { execa, type ResultPromise } from "execa";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { isJuiceFSMount, readMigrationState, storageLayout, verifyTrees } from "../../operator/src/agent/storage/index.js";
import { condition, explainNotReady } from "../e2e/cluster.js";
import type { KObj } from "../sim/types.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { NODE, StorageCluster } from "./support/cluster.js";
import { applyWorkloads, workloadState, type WorkloadSet } from "./support/workloads.js";

const CHILD = path.join(import.meta.dirname, "support/node-storage-child.ts");
const JUICEFS = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { sizeMiB: 1024 } } };
/** Each step as it starts; Sync and Verify also in the middle of their copy / verify (after the resumed attempt's progress shows). */
const KILLED_AT = ["Prepare", "Sync", "Sync:mid", "Quiesce", "FinalSync", "Verify", "Verify:mid", "Swap", "Resume"];
const stepOf = (k: string) => k.split(":")[0]!;

function storageSettled(cr: KObj | undefined, activeType: string): boolean {
  const ready = condition(cr, "StorageReady") as { status: string; observedGeneration?: number } | undefined;
  return ready?.status === "True" && ready.observedGeneration === cr!.metadata.generation && cr!.status.storage?.activeType === activeType && (cr!.status.storage?.migration?.phase ?? "Succeeded") === "Succeeded";
}

describe("the node agent killed at every step boundary and mid-copy through the CR path (cluster simulator, real operator, the agent's storage half in a child process, real JuiceFS FUSE, MinIO, redis-server, rsync)", function () {
  this.timeout(20 * 60_000);
  let c: StorageCluster;
  let child: ReturnType<typeof execa> | undefined;
  let workloads: WorkloadSet;

  before(async () => {
    c = await StorageCluster.start();
  });
  after(async () => {
    child?.kill("SIGKILL");
    await child?.catch(() => undefined);
    await c?.stop();
  });

  function startChild(killAt?: string): ResultPromise<{ reject: false; stderr: "pipe"; stdout: "pipe" }> {
    const file = path.join(c.node.base, `child-${killAt ?? "final"}.json`);
    writeFileSync(file, JSON.stringify({ kubeconfig: c.kubeconfig, nodeName: NODE, base: c.node.base, root: c.node.root, binaries: c.node.bins, ...(killAt ? { killAt } : {}) }));
    // One process (node with tsx's loader), so the SIGKILL it sends itself is what the test sees.
    const p = execa(process.execPath, ["--import", "tsx", CHILD, file], { reject: false, cwd: path.resolve(import.meta.dirname, "../.."), stderr: "pipe", stdout: "pipe" });
    return p;
  }

  it("installs on LocalFS with data and rootfs workloads, then the in-process agent hands the node's storage to a child process", async () => {
    await c.apply({ type: "LocalFS" });
    // The storage walk is what is tested here: StorageReady (the release walk has its own tiers).
    await c.waitFor(() => (storageSettled(c.cr(), "LocalFS") ? c.cr() : undefined), 180_000, () => `StorageReady on LocalFS: ${explainNotReady(c.cr())}`);
    await makeDataTree(c.rootfs, { files: 1_500, bigFiles: [16 << 20] });
    workloads = await applyWorkloads(c, c.rootfs);
    await c.agents.stopAgent(NODE);
  });

  it("kubectl patch to JuiceFS; the agent SIGKILLed as each step starts, mid-copy and mid-verify, and started again → Ready on JuiceFS, resumed at every recorded step", async () => {
    const original = await treeChecksums(c.rootfs);
    const before = workloadState(c, workloads);
    await c.patchStorage(JUICEFS);
    for (const step of KILLED_AT) {
      const p = startChild(step);
      const r = await Promise.race([p.then((x) => x), new Promise<"timeout">((res) => setTimeout(() => res("timeout"), 5 * 60_000))]);
      if (r === "timeout") {
        p.kill("SIGKILL");
        throw new Error(`the agent never reached ${step}: ${JSON.stringify(c.cr()?.status?.storage?.migration)}`);
      }
      expect(String(r.stdout), `${String(r.stderr).slice(-2000)}`).to.include(`killed at ${step}`);
      expect(r.signal).to.equal("SIGKILL");
    }
    child = startChild() as unknown as ReturnType<typeof execa>;
    await c.waitFor(() => (storageSettled(c.cr(), "JuiceFS") ? c.cr() : undefined), 8 * 60_000, () => `Ready on JuiceFS: ${explainNotReady(c.cr())}; ${JSON.stringify(c.cr()?.status?.storage?.migration)}`);

    const record = (await readMigrationState(c.node.host, storageLayout(c.node.root).stateFile))!;
    expect(record.phase).to.equal("Succeeded");
    const attempts = (step: string) => record.history.filter((h) => h.step === step).reduce((n, h) => n + h.attempts, 0);
    expect(attempts("Precheck"), "Precheck ran once: every restart resumed from the recorded step").to.equal(1);
    for (const k of KILLED_AT) expect(attempts(stepOf(k)), `${k} resumed after the kill`).to.be.at.least(k.endsWith(":mid") ? 3 : 2);
    expect(record.history.some((h) => h.step === "Rollback")).to.equal(false);

    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(true);
    const bak = `${c.node.root}/rootfs.local.bak`;
    const report = await verifyTrees(c.node.host, { hostPath: bak, localPath: bak }, { hostPath: c.rootfs, localPath: c.rootfs });
    expect(report.mismatches).to.deep.equal([]);
    const now = await treeChecksums(c.rootfs);
    expect([...original].filter(([k, v]) => now.get(k) !== v)).to.deep.equal([]);
    const after = workloadState(c, workloads);
    for (const w of workloads.quiesced) expect(after.get(w)!.replicas, `${w} back`).to.equal(before.get(w)!.replicas);
    for (const w of workloads.untouched) expect(after.get(w), `${w} untouched`).to.deep.equal(before.get(w));
  });
});
