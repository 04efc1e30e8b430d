// Multi-node JuiceFS through the CR, on the cluster simulator with the real operator and two real node
// agents. The primary (sim-node-0) runs redis-server and MinIO from the unit files its agent wrote, at
// its node address (127.0.2.1) as olares-cli binds them; the worker (sim-node-1) has its own tree at the
// same root path (its own mount namespace) and mounts the one shared JuiceFS volume with the primary's
// URLs. LocalFS → JuiceFS merges each node's tree into the volume — refused at Precheck, nothing
// changed, while a path collides between the nodes or a DaemonSet mounts the rootfs — and back gives
// every node the whole tree on its own disk. Trees compared by checksum after each walk.
import { expect } from "chai";
import { promises as fs } from "node:fs";
import path from "node:path";
import { ANNOTATION_STORAGE_REPORT, parseStorageNodeReport } from "../../operator/src/contract/index.js";
import { JUICEFS_UNIT, MINIO_UNIT, REDIS_UNIT, isJuiceFSMount } from "../../operator/src/agent/storage/index.js";
import { condition, explainNotReady, kubectlOk } from "../e2e/cluster.js";
import type { KObj } from "../sim/types.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { STORAGE_PORTS, StorageCluster, nodeAddress } from "./support/cluster.js";

const JUICEFS = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { sizeMiB: 1024 } } };
const WORKER = "sim-node-1";

function storageSettled(cr: KObj | undefined, activeType: string): boolean {
  const ready = condition(cr, "StorageReady") as { status: string; observedGeneration?: number } | undefined;
  return ready?.status === "True" && ready.observedGeneration === cr!.metadata.generation && cr!.status.storage?.activeType === activeType && (cr!.status.storage?.migration?.phase ?? "Succeeded") === "Succeeded";
}

/** Checksums of every entry under `dir`, keyed by the path relative to `base`. */
async function sums(base: string, dir: string): Promise<Map<string, string>> {
  const rel = path.relative(base, dir);
  return new Map([...(await treeChecksums(dir))].map(([k, v]) => [k === "." ? rel : `${rel}/${k}`, v]));
}

function lost(original: Map<string, string>, now: Map<string, string>): string[] {
  return [...original].filter(([k, v]) => now.get(k) !== v).map(([k]) => k);
}

describe("multi-node JuiceFS through the CR: one shared volume, the primary's managed Redis/MinIO at its node address (cluster simulator, two real agents, real JuiceFS FUSE, MinIO, redis-server, rsync)", function () {
  this.timeout(20 * 60_000);
  let c: StorageCluster;
  let original: Map<string, string>;
  const nodeReport = (name: string) => parseStorageNodeReport(c.nodeAnnotations(name)[ANNOTATION_STORAGE_REPORT]);
  const describeNow = () => `${explainNotReady(c.cr())}; migration ${JSON.stringify(c.cr()?.status?.storage?.migration)}; primary ${c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT]}; worker ${c.nodeAnnotations(WORKER)[ANNOTATION_STORAGE_REPORT]}`;

  before(async () => {
    c = await StorageCluster.start({ nodes: 2 });
  });
  after(async () => {
    await c?.stop();
  });

  it("installs on LocalFS with two nodes; each node's own tree under local-path/", async () => {
    await c.apply({ type: "LocalFS" });
    // The storage walk is what is tested here: StorageReady (the release walk has its own tiers).
    await c.waitFor(() => (storageSettled(c.cr(), "LocalFS") ? c.cr() : undefined), 180_000, () => `StorageReady on LocalFS: ${explainNotReady(c.cr())}`);
    const worker = c.workers[0]!;
    await makeDataTree(path.join(c.rootfs, "local-path/pvc-on-primary"), { files: 1_200, bigFiles: [8 << 20] });
    await fs.writeFile(path.join(c.rootfs, "primary-notes.txt"), "primary\n");
    await makeDataTree(path.join(worker.rootfs, "local-path/pvc-on-worker"), { files: 600 });
    // The worker's tree really is its own: the same root path shows different trees on the two nodes.
    expect(await fs.stat(path.join(c.rootfs, "local-path/pvc-on-worker")).catch(() => undefined)).to.equal(undefined);
    original = new Map([
      ...(await sums(c.rootfs, path.join(c.rootfs, "local-path/pvc-on-primary"))),
      ...(await sums(worker.rootfs, path.join(worker.rootfs, "local-path/pvc-on-worker"))),
    ]);
    expect(original.size).to.be.greaterThan(1_800);
  });

  it("LocalFS → JuiceFS is refused at Precheck while a path collides between the nodes and a DaemonSet mounts the rootfs; nothing changes", async () => {
    const worker = c.workers[0]!;
    await fs.mkdir(path.join(worker.rootfs, "local-path/pvc-on-primary"), { recursive: true });
    await fs.writeFile(path.join(worker.rootfs, "local-path/pvc-on-primary/stray"), "the worker's\n");
    await kubectlOk(c.kubeconfig, ["create", "namespace", "apps"]);
    const ds = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "log-shipper", namespace: "apps" },
      spec: {
        selector: { matchLabels: { app: "log-shipper" } },
        template: {
          metadata: { labels: { app: "log-shipper" } },
          spec: { containers: [{ name: "s", image: "busybox" }], volumes: [{ name: "data", hostPath: { path: `${c.rootfs}/local-path` } }] },
        },
      },
    };
    await kubectlOk(c.kubeconfig, ["apply", "-f", "-"], { input: JSON.stringify(ds) });
    await c.patchStorage(JUICEFS);
    const refused = await c.waitFor(() => {
      const m = condition(c.cr(), "StorageReady") as { message?: string } | undefined;
      return m?.message && /refused at Precheck|Precheck failed/.test(m.message) ? m.message : undefined;
    }, 3 * 60_000, () => `a refusal: ${describeNow()}`);
    expect(refused).to.include(`${c.rootfs}/local-path/pvc-on-primary exists on node sim-node-0 and on node ${WORKER}`);
    expect(refused).to.include("DaemonSet apps/log-shipper");
    expect(refused).to.include("nothing was changed");
    expect(c.events().some((e) => e.reason === "StorageMigrationFailed" && /refused at Precheck/.test(String(e.message)))).to.equal(true);
    // Nothing changed on either node: no mount, no unit, the trees where they were.
    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(false);
    expect(await isJuiceFSMount(worker.host, `${c.node.root}/rootfs`)).to.equal(false);
    for (const u of [REDIS_UNIT, MINIO_UNIT, JUICEFS_UNIT]) expect(await fs.stat(path.join(c.node.paths.unitDir, u)).catch(() => undefined), u).to.equal(undefined);
    expect(await fs.stat(path.join(worker.paths.unitDir, JUICEFS_UNIT)).catch(() => undefined)).to.equal(undefined);
    expect(c.cr()!.status.storage.activeType).to.equal("LocalFS");
  });

  it("a worker failing its merge after the primary's Swap calls everyone off: the worker keeps its untouched tree, the primary rolls back to its kept tree, nothing lost", async () => {
    const worker = c.workers[0]!;
    await fs.rm(path.join(worker.rootfs, "local-path/pvc-on-primary"), { recursive: true });
    await kubectlOk(c.kubeconfig, ["-n", "apps", "delete", "daemonset", "log-shipper"]);
    // Past the cluster-wide Precheck, an app on the primary creates the worker's path while Olares still
    // runs (Prepare/Sync): it lands in the volume, so the worker's own check at its merge (what the
    // volume holds now, after the primary's Swap) finds it taken and refuses to overwrite.
    const collision = path.join(c.rootfs, "local-path/pvc-on-worker");
    await c.waitFor(() => ["Prepare", "Sync"].includes(String(nodeReport("sim-node-0")?.migration?.step)), 3 * 60_000, () => `the primary past Precheck: ${describeNow()}`);
    await fs.mkdir(collision, { recursive: true });
    await fs.writeFile(path.join(collision, "made-on-primary-during-sync"), "primary's\n");
    await c.waitFor(
      () => nodeReport("sim-node-0")?.migration?.phase === "RolledBack" && nodeReport(WORKER)?.state === "Degraded" && c.cr()?.status?.storage?.activeType === "LocalFS",
      10 * 60_000,
      () => `the primary rolled back and the worker failed: ${describeNow()}`,
    );
    expect(nodeReport(WORKER)?.message).to.include("local-path/pvc-on-worker").and.include("already exists in the shared volume");
    // The primary had swapped (its record went through Swap) before rolling back to its kept tree.
    const primaryState = JSON.parse(await fs.readFile(path.join(c.node.root, ".storage-migration.json"), "utf8")) as { history: Array<{ step: string }>; phase: string };
    expect(primaryState.history.map((h) => h.step)).to.include("Swap");
    expect(c.events().some((e) => e.reason === "StorageMigrationRolledBack")).to.equal(true);
    // Both nodes on their own local trees again, nothing mounted, nothing lost.
    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(false);
    expect(await isJuiceFSMount(worker.host, `${c.node.root}/rootfs`)).to.equal(false);
    expect(await worker.juicefsMounts()).to.deep.equal([]);
    expect(await fs.stat(path.join(c.node.root, "rootfs.local.bak")).catch(() => undefined), "the primary's kept tree is back at rootfs").to.equal(undefined);
    expect(await fs.stat(worker.local(`${c.node.root}/rootfs.local.bak`)).catch(() => undefined), "the worker's tree never moved").to.equal(undefined);
    const now = new Map([
      ...(await sums(c.rootfs, path.join(c.rootfs, "local-path/pvc-on-primary"))),
      ...(await sums(worker.rootfs, path.join(worker.rootfs, "local-path/pvc-on-worker"))),
    ]);
    expect(lost(original, now), "entries lost or changed after the abort").to.deep.equal([]);
    expect(await fs.readFile(path.join(c.rootfs, "primary-notes.txt"), "utf8")).to.equal("primary\n");
    expect(await fs.readFile(path.join(collision, "made-on-primary-during-sync"), "utf8"), "written during Sync, kept on the primary").to.equal("primary's\n");
    // The admin moves the colliding data and changes the spec (a rolled-back walk runs again for a new config).
    await fs.rm(collision, { recursive: true });
    await c.patchStorage({ ...JUICEFS, juicefs: { ...JUICEFS.juicefs, cache: { sizeMiB: 1025 } } });
  });

  it("once the collision and the DaemonSet are gone the agents ask again: each node's tree merged into the one volume, every node mounting it", async () => {
    const worker = c.workers[0]!;
    await fs.rm(path.join(worker.rootfs, "local-path/pvc-on-primary"), { recursive: true, force: true });
    await kubectlOk(c.kubeconfig, ["-n", "apps", "delete", "daemonset", "log-shipper", "--ignore-not-found"]);
    const cr = await c.waitFor(() => (storageSettled(c.cr(), "JuiceFS") ? c.cr() : undefined), 12 * 60_000, () => `Ready on JuiceFS: ${describeNow()}`);
    const nodes = cr.status.storage.migration?.nodes as Array<{ name: string; phase: string }> | undefined;
    if (nodes) expect(nodes.map((n) => `${n.name}:${n.phase}`).sort()).to.deep.equal(["sim-node-0:Succeeded", `${WORKER}:Succeeded`]);
    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(true);
    expect(await isJuiceFSMount(worker.host, `${c.node.root}/rootfs`)).to.equal(true);
    // One volume: both nodes see both trees, byte for byte.
    for (const view of [c.rootfs, worker.rootfs]) {
      const now = new Map([
        ...(await sums(view, path.join(view, "local-path/pvc-on-primary"))),
        ...(await sums(view, path.join(view, "local-path/pvc-on-worker"))),
      ]);
      expect(lost(original, now), `entries lost or changed, seen from ${view}`).to.deep.equal([]);
    }
    // Each node kept its own local tree.
    expect(await fs.readFile(path.join(c.node.root, "rootfs.local.bak/primary-notes.txt"), "utf8")).to.equal("primary\n");
    expect(await fs.stat(worker.local(`${c.node.root}/rootfs.local.bak/local-path/pvc-on-worker`)).then((s) => s.isDirectory())).to.equal(true);
    // The managed services listen on the primary's address (workers reach them there) and on loopback for Redis.
    const conf = await fs.readFile(path.join(c.node.root, "data/redis/etc/redis.conf"), "utf8");
    expect(conf).to.match(new RegExp(`^bind 127\\.0\\.0\\.1 ${nodeAddress(0).replace(/\./g, "\\.")}$`, "m"));
    expect(await fs.readFile(c.node.paths.minioEnv, "utf8")).to.include(`--address ${nodeAddress(0)}:${STORAGE_PORTS.minio}`);
    const unit = await fs.readFile(path.join(worker.paths.unitDir, JUICEFS_UNIT), "utf8");
    expect(unit).to.include(`redis://${nodeAddress(0)}:${STORAGE_PORTS.redis}/1`);
    for (const u of [REDIS_UNIT, MINIO_UNIT]) expect(await fs.stat(path.join(worker.paths.unitDir, u)).catch(() => undefined), `${u} on the worker`).to.equal(undefined);
    const env = await fs.stat(worker.paths.juicefsEnv);
    expect(env.mode & 0o777).to.equal(0o600);
    // A write on one node is there on the other.
    await fs.writeFile(path.join(worker.rootfs, "local-path/pvc-on-worker/written-on-worker"), "shared\n");
    for (let i = 0; (await fs.readFile(path.join(c.rootfs, "local-path/pvc-on-worker/written-on-worker"), "utf8").catch(() => "")) !== "shared\n"; i++) {
      if (i > 100) throw new Error("the worker's write is not seen on the primary");
      await new Promise((r) => setTimeout(r, 300));
    }
    original.set("local-path/pvc-on-worker/written-on-worker", (await sums(c.rootfs, path.join(c.rootfs, "local-path/pvc-on-worker"))).get("local-path/pvc-on-worker/written-on-worker")!);
    // The steady state after the walk: both nodes report their JuiceFS rootfs config Done.
    await c.waitFor(() => nodeReport(WORKER)?.state === "Done" && nodeReport("sim-node-0")?.state === "Done" && storageSettled(c.cr(), "JuiceFS"), 3 * 60_000, () => `steady state: ${describeNow()}`);
    expect(nodeReport(WORKER)).to.deep.include({ activeType: "JuiceFS" });
  });

  it("JuiceFS → LocalFS: every node gets the whole shared tree on its own disk, nothing lost", async () => {
    const worker = c.workers[0]!;
    await c.patchStorage({ type: "LocalFS" });
    await c.waitFor(() => (storageSettled(c.cr(), "LocalFS") ? c.cr() : undefined), 12 * 60_000, () => `Ready on LocalFS: ${describeNow()}`);
    for (const [view, host] of [[c.rootfs, c.node.host], [worker.rootfs, worker.host]] as const) {
      expect(await isJuiceFSMount(host, `${c.node.root}/rootfs`), view).to.equal(false);
      const now = new Map([
        ...(await sums(view, path.join(view, "local-path/pvc-on-primary"))),
        ...(await sums(view, path.join(view, "local-path/pvc-on-worker"))),
      ]);
      expect(lost(original, now), `entries lost or changed on ${view}`).to.deep.equal([]);
    }
    expect(await fs.stat(path.join(worker.paths.unitDir, "multi-user.target.wants", JUICEFS_UNIT)).catch(() => undefined), "juicefs.service disabled on the worker").to.equal(undefined);
  });
});
