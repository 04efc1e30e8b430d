// The headline on the cluster simulator: an admin edits spec.storage.type on a running Olares and the
// operator moves the data. The real operator and node agent; the agent's storage engine runs for real on
// this machine (redis-server, MinIO and JuiceFS FUSE from the unit files it wrote, rsync). LocalFS →
// JuiceFS → LocalFS through `kubectl patch`, every step seen in status and Events, trees identical by
// checksum, exactly the rootfs workloads quiesced and back at their replicas, nothing else touched.
import { expect } from "chai";
import path from "node:path";
import { ANNOTATION_QUIESCED_BY, STORAGE_GENERATED_SECRET, STORAGE_MIGRATION_STEPS } from "../../operator/src/contract/index.js";
import { isJuiceFSMount, verifyTrees } from "../../operator/src/agent/storage/index.js";
import { isReady, kubectlOk, explainNotReady } from "../e2e/cluster.js";
import type { KObj } from "../sim/types.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { StorageCluster } from "./support/cluster.js";
import { applyWorkloads, workloadState, type WorkloadSet } from "./support/workloads.js";

const JUICEFS = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { sizeMiB: 1024 } } };

describe("storage switch through the CR, on the cluster simulator with the real engine (JuiceFS FUSE, MinIO, redis-server, rsync)", function () {
  this.timeout(15 * 60_000);
  let c: StorageCluster;
  let workloads: WorkloadSet;
  let original: Map<string, string>;
  const seen = { steps: new Set<string>(), phases: new Set<string>(), printed: "" };

  before(async () => {
    c = await StorageCluster.start();
  });
  after(async () => {
    await c?.stop();
  });

  /** Records every migration step and phase the status shows (every 20 ms), and what kubectl prints mid-way. */
  function recordSteps(): () => void {
    let printing = false;
    const tick = () => {
      const cr = c.cr();
      const m = cr?.status?.storage?.migration;
      if (m?.step && m.phase === "Running") seen.steps.add(`${m.from}>${m.to}:${m.step}`);
      if (cr?.status?.phase) seen.phases.add(cr.status.phase);
      if (m?.phase === "Running" && m.step === "Sync" && !printing && !seen.printed.includes("Migrating")) {
        printing = true;
        void kubectlOk(c.kubeconfig, ["get", "olares"]).then((out) => (seen.printed = out), () => undefined);
      }
    };
    const timer = setInterval(tick, 20);
    timer.unref();
    return () => clearInterval(timer);
  }

  async function walkUntilReady(activeType: string, what: string): Promise<KObj> {
    return c.waitFor(
      () => {
        const cr = c.cr();
        return storageSettled(cr, activeType) ? cr : undefined;
      },
      10 * 60_000,
      () => `${what}: ${explainNotReady(c.cr())}; migration ${JSON.stringify(c.cr()?.status?.storage?.migration)}; node ${c.nodeAnnotations()["olares.com/storage-report"]}`,
    );
  }

  it("installs on LocalFS: Ready, the rootfs a plain directory, no storage config on the node", async () => {
    await c.apply({ type: "LocalFS" });
    const cr = await c.waitFor(() => (isReady(c.cr()) ? c.cr() : undefined), 120_000, () => `Ready on LocalFS: ${explainNotReady(c.cr())}`);
    expect(cr.status.storage).to.deep.include({ activeType: "LocalFS" });
    expect(c.nodeAnnotations()["olares.com/storage-config"]).to.equal(undefined);
    const made = await makeDataTree(c.rootfs, { files: 2_000, bigFiles: [24 << 20] });
    expect(made.entries).to.be.greaterThan(2_000);
    original = await treeChecksums(c.rootfs);
    workloads = await applyWorkloads(c, c.rootfs);
  });

  it("kubectl patch storage.type=JuiceFS → every step in status and Events → Ready on JuiceFS, the tree identical", async () => {
    const before = workloadState(c, workloads);
    const stopRecording = recordSteps();
    await c.patchStorage(JUICEFS);
    // While the data is frozen (FinalSync, Verify, Swap), exactly the rootfs workloads are at 0.
    const frozen = await c.waitFor(() => {
      const step = c.cr()?.status?.storage?.migration?.step;
      return step === "FinalSync" || step === "Verify" || step === "Swap" ? workloadState(c, workloads) : undefined;
    }, 5 * 60_000, () => `the migration reaching FinalSync: ${JSON.stringify(c.cr()?.status?.storage?.migration)}`);
    for (const w of workloads.quiesced) expect(frozen.get(w)!.replicas, `${w} quiesced`).to.equal(0);
    for (const w of workloads.untouched) expect(frozen.get(w), `${w} untouched`).to.deep.equal(before.get(w));
    expect(c.sim.store.get("apps/deployments", workloads.ns, "uses-rootfs")!.metadata.annotations?.[ANNOTATION_QUIESCED_BY]).to.match(/^l2j-/);

    const cr = await walkUntilReady("JuiceFS", "Ready on JuiceFS").finally(stopRecording);
    // Status is written per reconcile, so a sub-second step may pass between two writes; the agent's
    // Events (one per step, on the Node) are the complete record.
    for (const step of ["Sync", "FinalSync", "Verify"]) expect([...seen.steps], `status showed ${step}`).to.include(`LocalFS>JuiceFS:${step}`);
    expect(seen.steps.size, `status showed most steps: ${[...seen.steps].join(", ")}`).to.be.greaterThan(5);
    expect([...seen.phases]).to.include("Migrating");
    expect(seen.printed, "kubectl get olares mid-migration").to.match(/olares\s+Migrating\s+\S+\s+LocalFS\s+\d+%/);
    const reasons = c.events().map((e) => e.reason as string);
    for (const step of [...STORAGE_MIGRATION_STEPS, "Succeeded"]) expect(reasons, `Event StorageMigration${step}`).to.include(`StorageMigration${step}`);
    expect(reasons).to.include.members(["StorageWorkloadsQuiesced", "StorageWorkloadsResumed"]);
    expect(cr.status.storage.previousData).to.deep.include({ type: "LocalFS", path: `${c.node.root}/rootfs.local.bak`, node: "sim-node-0" });
    expect(cr.status.storage.previousData.files).to.be.greaterThan(2_000);

    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(true);
    const bak = `${c.node.root}/rootfs.local.bak`;
    const report = await verifyTrees(c.node.host, { hostPath: bak, localPath: bak }, { hostPath: c.rootfs, localPath: c.rootfs });
    expect(report.mismatches, "LocalFS tree kept vs JuiceFS rootfs").to.deep.equal([]);
    const after = workloadState(c, workloads);
    for (const w of workloads.quiesced) expect(after.get(w)!.replicas, `${w} back`).to.equal(before.get(w)!.replicas);
    for (const w of workloads.untouched) expect(after.get(w), `${w} untouched`).to.deep.equal(before.get(w));
    expect(c.sim.store.get("apps/deployments", workloads.ns, "uses-rootfs")!.metadata.annotations?.[ANNOTATION_QUIESCED_BY]).to.equal(undefined);
    // Olares is told: its SystemEnv says jfs, and the charts that take fs_type are due for an upgrade.
    expect(rootfsTypeEnv(c)?.value, "SystemEnv OLARES_SYSTEM_ROOTFS_TYPE").to.equal("jfs");
    // The steady state afterwards: the node runs the JuiceFS rootfs config, reported Done.
    expect(JSON.parse(c.nodeAnnotations()["olares.com/storage-report"]!)).to.deep.include({ state: "Done", activeType: "JuiceFS" });
  });

  it("kubectl patch storage.type=LocalFS → the way back → Ready on LocalFS, every original file back byte for byte", async () => {
    const before = workloadState(c, workloads);
    seen.steps.clear();
    const stopRecording = recordSteps();
    await c.patchStorage({ type: "LocalFS" });
    const cr = await walkUntilReady("LocalFS", "Ready on LocalFS again").finally(stopRecording);
    // Verify on the way back is under a second here (the copy's hashes are reused): status, written per
    // reconcile, may pass it between two writes; the Events below are the complete record of every step.
    expect([...seen.steps], "status showed Sync").to.include("JuiceFS>LocalFS:Sync");
    const back = c.events().filter((e) => String(e.message).includes("JuiceFS → LocalFS")).map((e) => e.reason as string);
    for (const step of [...STORAGE_MIGRATION_STEPS, "Succeeded"]) expect(back, `Event StorageMigration${step} (JuiceFS → LocalFS)`).to.include(`StorageMigration${step}`);
    expect(cr.status.storage.previousData).to.deep.include({ type: "JuiceFS" });
    expect(rootfsTypeEnv(c)?.value, "SystemEnv OLARES_SYSTEM_ROOTFS_TYPE").to.equal("fs");
    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(false);
    const final = await treeChecksums(c.rootfs);
    let lost = 0;
    for (const [rel, sum] of original) if (final.get(rel) !== sum) lost++;
    expect(lost, "entries lost or changed in the round trip").to.equal(0);
    expect(final.size).to.equal(original.size);
    const after = workloadState(c, workloads);
    for (const w of [...workloads.quiesced, ...workloads.untouched]) expect(after.get(w)!.replicas, w).to.equal(before.get(w)!.replicas);
    for (const w of workloads.untouched) expect(after.get(w), `${w} untouched`).to.deep.equal(before.get(w));
  });

  it("the generated secrets appear in no ConfigMap, Event, status, Node annotation, log line or plan output", async () => {
    const gen = c.sim.store.get("/secrets", "olares-system", STORAGE_GENERATED_SECRET)!;
    const secrets = Object.values(gen.data as Record<string, string>).map((v) => Buffer.from(v, "base64").toString("utf8"));
    expect(secrets).to.have.length(2);
    for (const s of secrets) expect(s).to.have.length.greaterThan(12);
    const places: Array<[string, string]> = [
      ...c.sim.store.list("/configmaps").map((cm): [string, string] => [`ConfigMap ${cm.metadata.namespace}/${cm.metadata.name}`, JSON.stringify(cm)]),
      ...c.events().map((e): [string, string] => [`Event ${e.metadata.name}`, JSON.stringify(e)]),
      ["status", JSON.stringify(c.cr()!.status)],
      ["Node", JSON.stringify(c.sim.store.get("/nodes", "", "sim-node-0"))],
      ["operator log", c.operatorLog.lines.join("\n")],
      ["agent log", c.agentLog.lines.join("\n")],
      ["plan", await planOutput(c)],
    ];
    expect(places.filter(([, text]) => text.length > 0).length).to.be.greaterThan(10);
    for (const [where, text] of places) for (const s of secrets) expect(text.includes(s), `${where} holds a generated secret`).to.equal(false);
  });
});

/**
 * The storage walk is done for this generation: StorageReady, the type active. (The whole installation's
 * Ready then also needs the release walk to upgrade the charts that take fs_type.)
 */
function storageSettled(cr: KObj | undefined, activeType: string): boolean {
  const ready = (cr?.status?.conditions as Array<{ type: string; status: string; observedGeneration?: number }> | undefined)?.find((x) => x.type === "StorageReady");
  return ready?.status === "True" && ready.observedGeneration === cr!.metadata.generation && cr!.status.storage?.activeType === activeType && (cr!.status.storage?.migration?.phase ?? "Succeeded") === "Succeeded";
}

/** The SystemEnv the release created for OLARES_SYSTEM_ROOTFS_TYPE (absent before the release is in). */
function rootfsTypeEnv(c: StorageCluster): KObj | undefined {
  return c.sim.store.list("sys.bytetrade.io/systemenvs").find((e) => e.envName === "OLARES_SYSTEM_ROOTFS_TYPE");
}

async function planOutput(c: StorageCluster): Promise<string> {
  const { execa } = await import("execa");
  const file = path.join(c.node.base, "olares-juicefs.yaml");
  await (await import("node:fs/promises")).writeFile(file, c.installationYaml(JUICEFS));
  const r = await execa("npx", ["tsx", "operator/src/cli/main.ts", "plan", "-f", file, "-o", "yaml"], { reject: false, cwd: path.resolve(import.meta.dirname, "../..") });
  expect(r.exitCode, String(r.stderr)).to.equal(0);
  return String(r.stdout);
}
