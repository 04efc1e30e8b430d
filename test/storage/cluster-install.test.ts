// A fresh install on JuiceFS through the CR, on the cluster simulator with the real engine: the node's
// storage config (kind juicefsRootfs) brings up redis-server and MinIO from the unit files the agent
// wrote, formats the volume, mounts it at <rootPath>/rootfs and orders K3s after it; the passwords only
// in root-owned 0600 files on the host and in Secrets in the cluster.
import { expect } from "chai";
import { promises as fs } from "node:fs";
import path from "node:path";
import { JUICEFS_UNIT, MINIO_UNIT, REDIS_UNIT, isJuiceFSMount } from "../../operator/src/agent/storage/index.js";
import { ANNOTATION_STORAGE_REPORT, STORAGE_GENERATED_SECRET, parseStorageNodeReport } from "../../operator/src/contract/index.js";
import { condition, explainNotReady, isReady } from "../e2e/cluster.js";
import { StorageCluster } from "./support/cluster.js";

describe("fresh install on JuiceFS through the CR, on the cluster simulator with the real engine (JuiceFS FUSE, MinIO, redis-server)", function () {
  this.timeout(10 * 60_000);
  let c: StorageCluster;
  before(async () => {
    c = await StorageCluster.start();
  });
  after(async () => {
    await c?.stop();
  });

  it("kubectl apply with storage.type JuiceFS (managed MinIO + Redis) → Ready, the rootfs a JuiceFS mount, K3s ordered after it", async () => {
    await c.apply({ type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { sizeMiB: 1024 } } });
    const cr = await c.waitFor(() => (isReady(c.cr()) ? c.cr() : undefined), 5 * 60_000, () => `Ready on JuiceFS: ${explainNotReady(c.cr())}; node ${c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT]}`);
    expect(cr.status.storage).to.deep.include({ activeType: "JuiceFS" });
    expect(condition(cr, "StorageReady")?.status).to.equal("True");
    expect(parseStorageNodeReport(c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT])).to.deep.include({ state: "Done", activeType: "JuiceFS" });
    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(true);
    for (const u of [REDIS_UNIT, MINIO_UNIT, JUICEFS_UNIT]) expect(await c.node.runner.isActive(u), u).to.equal(true);
    await c.node.runner.runDropInPre(c.node.paths.k3sDropIn);
    // Olares can write to it.
    await fs.writeFile(path.join(c.rootfs, "hello"), "olares\n");
    expect(await fs.readFile(path.join(c.rootfs, "hello"), "utf8")).to.equal("olares\n");

    const gen = c.sim.store.get("/secrets", "olares-system", STORAGE_GENERATED_SECRET)!;
    const secrets = Object.values(gen.data as Record<string, string>).map((v) => Buffer.from(v, "base64").toString("utf8"));
    const secretFiles = [path.join(c.node.root, "data/redis/etc/redis.conf"), c.node.paths.minioEnv, c.node.paths.juicefsEnv];
    for (const f of secretFiles) {
      const st = await fs.stat(f);
      expect(st.mode & 0o777, f).to.equal(0o600);
      expect(st.uid, f).to.equal(0);
    }
    const units = await Promise.all([REDIS_UNIT, MINIO_UNIT, JUICEFS_UNIT].map((u) => fs.readFile(path.join(c.node.paths.unitDir, u), "utf8")));
    const places = [...units, JSON.stringify(c.sim.store.list("/configmaps")), JSON.stringify(c.events()), JSON.stringify(cr.status), JSON.stringify(c.sim.store.get("/nodes", "", "sim-node-0")), c.operatorLog.lines.join("\n"), c.agentLog.lines.join("\n")];
    for (const p of places) for (const s of secrets) expect(p.includes(s), "a generated secret outside its Secret and 0600 files").to.equal(false);
  });
});
