// The live storage switch on one node with the real tools: Redis (Debian), MinIO and JuiceFS (built
// from their Go modules), a real FUSE mount and rsync. Workloads are real writer processes.
import { expect } from "chai";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  JUICEFS_UNIT,
  MINIO_UNIT,
  REDIS_UNIT,
  StorageMigration,
  backupPath,
  isJuiceFSMount,
  verifyTrees,
} from "../../operator/src/agent/storage/index.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { StorageNode } from "./support/env.js";
import { WriterWorkloads } from "./support/gate.js";

describe("storage switch LocalFS ⇄ JuiceFS (real redis-server, MinIO, JuiceFS FUSE, rsync)", function () {
  this.timeout(15 * 60_000);
  let node: StorageNode;
  let writers: WriterWorkloads;
  const logs: string[] = [];

  before(async () => {
    node = await StorageNode.create();
  });
  after(async () => {
    await writers?.stop();
    await node?.cleanup();
  });

  it("moves a 10k-file tree to JuiceFS and back while writers keep writing during Sync, losing nothing", async () => {
    const rootfs = path.join(node.root, "rootfs");
    const made = await makeDataTree(rootfs, { files: 10_000, bigFiles: [110 << 20] });
    expect(made.entries).to.be.greaterThan(10_000);
    writers = new WriterWorkloads(path.join(node.base, "gate"), rootfs, 3);
    await writers.start();

    const there = new StorageMigration(node.host, node.plan("LocalFS", "JuiceFS"), node.runner, writers, { log: (m) => (logs.push(m), console.log(`      ${m}`)) });
    const s1 = await there.run();
    expect(s1.phase, s1.message).to.equal("Succeeded");
    expect(writers.running()).to.equal(3);
    expect(await isJuiceFSMount(node.host, rootfs)).to.equal(true);
    expect(await node.runner.isActive(JUICEFS_UNIT)).to.equal(true);
    expect(await node.runner.isActive(REDIS_UNIT)).to.equal(true);
    expect(await node.runner.isActive(MINIO_UNIT)).to.equal(true);
    // The K3s drop-in's check passes against the live mount.
    await node.runner.runDropInPre(node.paths.k3sDropIn);
    expect(s1.previous?.path).to.equal(backupPath(node.root, "LocalFS"));

    // The kept LocalFS tree is the source frozen at Quiesce: the JuiceFS tree must equal it exactly.
    await writers.quiesce();
    const bak = backupPath(node.root, "LocalFS");
    const journalLines = (await fs.readFile(path.join(bak, "apps/writer-0/journal"), "utf8")).split("\n").length;
    expect(journalLines, "writers wrote during Sync").to.be.greaterThan(5);
    const r1 = await verifyTrees(node.host, { hostPath: bak, localPath: bak }, { hostPath: rootfs, localPath: rootfs });
    // Writers resumed after the swap and kept writing into the new tree: only their own files may differ.
    expect(r1.mismatches.filter((m) => !m.path.startsWith("apps/writer-")), "LocalFS bak vs JuiceFS rootfs").to.deep.equal([]);
    expect(r1.entries).to.be.greaterThan(10_000);
    await writers.resume();

    const back = new StorageMigration(node.host, node.plan("JuiceFS", "LocalFS"), node.runner, writers, { log: (m) => (logs.push(m), console.log(`      ${m}`)) });
    const s2 = await back.run();
    expect(s2.phase, s2.message).to.equal("Succeeded");
    expect(writers.running()).to.equal(3);
    expect(await isJuiceFSMount(node.host, rootfs)).to.equal(false);
    expect(await node.runner.isActive(JUICEFS_UNIT)).to.equal(false);
    expect(await fs.access(node.paths.k3sDropIn).then(() => true, () => false)).to.equal(false);

    // Round trip: everything the original tree held is back, byte for byte (sparse files sparse again).
    await writers.quiesce();
    const before = await treeChecksums(bak);
    const after = await treeChecksums(rootfs);
    let lost = 0;
    for (const [rel, sum] of before) {
      if (rel.startsWith("apps/writer-")) continue; // writers kept writing after the first switch
      if (after.get(rel) !== sum) lost++;
    }
    expect(lost, "entries lost or changed in the round trip").to.equal(0);
    const sparse = await fs.stat(path.join(rootfs, "sparse/hole-start"));
    expect(sparse.blocks * 512).to.be.lessThan(sparse.size / 4);
    await writers.resume();
    logs.push(JSON.stringify(s1), JSON.stringify(s2));
  });

  it("keeps the generated secrets in root-owned 0600 files only: not in units, state, logs or the migration's record", async () => {
    const secrets = [node.redisPassword, node.minioPassword];
    const secretFiles = new Set([path.join(node.root, "data/redis/etc/redis.conf"), node.paths.minioEnv, node.paths.juicefsEnv]);
    for (const f of secretFiles) {
      const st = await fs.stat(f);
      expect(st.mode & 0o777, f).to.equal(0o600);
      expect(st.uid, f).to.equal(0);
    }
    // Everything the engine and the services wrote, except the data itself (Redis's AOF holds JuiceFS's
    // format record, MinIO's volume the blocks) and the three secret files.
    const scanned: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await fs.readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if ([path.join(node.root, "rootfs"), path.join(node.root, "data/redis"), path.join(node.root, "data/minio"), path.join(node.root, "rootfs.local.bak"), path.join(node.root, "jfscache"), path.join(node.base, "gate")].includes(p)) continue;
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && !secretFiles.has(p)) scanned.push(p);
      }
    };
    await walk(node.base);
    expect(scanned.some((p) => p.endsWith(".storage-migration.json"))).to.equal(true);
    expect(scanned.some((p) => p.endsWith("juicefs.service"))).to.equal(true);
    expect(scanned.some((p) => p.endsWith("minio.service.log"))).to.equal(true);
    for (const p of scanned) {
      const text = await fs.readFile(p, "latin1");
      for (const s of secrets) expect(text.includes(s), `${p} holds a secret`).to.equal(false);
    }
    for (const l of logs) for (const s of secrets) expect(l.includes(s), "log line holds a secret").to.equal(false);
  });
});

describe("storage switch with the rsync copier (the fallback), both ways (real redis-server, MinIO, JuiceFS FUSE, rsync)", function () {
  this.timeout(15 * 60_000);
  let node: StorageNode;
  let writers: WriterWorkloads | undefined;
  after(async () => {
    await writers?.stop();
    await node?.cleanup();
  });

  it("moves a tree with every odd case to JuiceFS and back with rsync -aHAXS, writers writing during Sync, losing nothing", async () => {
    node = await StorageNode.create();
    const rootfs = path.join(node.root, "rootfs");
    await makeDataTree(rootfs, { files: 800, bigFiles: [20 << 20] });
    writers = new WriterWorkloads(path.join(node.base, "gate"), rootfs, 2);
    await writers.start();
    const there = new StorageMigration(node.host, { ...node.plan("LocalFS", "JuiceFS"), copier: "rsync" }, node.runner, writers);
    const s1 = await there.run();
    expect(s1.phase, s1.message).to.equal("Succeeded");
    expect(there.copiers).to.deep.equal({ Sync: "rsync", FinalSync: "rsync" });
    expect(there.lastVerify?.hashed, "without an online baseline every file is read").to.equal(there.lastVerify?.files);
    await writers.quiesce();
    const bak = backupPath(node.root, "LocalFS");
    const r1 = await verifyTrees(node.host, { hostPath: bak, localPath: bak }, { hostPath: rootfs, localPath: rootfs });
    expect(r1.mismatches.filter((m) => !m.path.startsWith("apps/writer-"))).to.deep.equal([]);
    const before = await treeChecksums(bak);
    await writers.resume();
    const back = new StorageMigration(node.host, { ...node.plan("JuiceFS", "LocalFS"), copier: "rsync" }, node.runner, writers);
    const s2 = await back.run();
    expect(s2.phase, s2.message).to.equal("Succeeded");
    expect(back.copiers).to.deep.equal({ Sync: "rsync", FinalSync: "rsync" });
    await writers.quiesce();
    const after = await treeChecksums(rootfs);
    const lost = [...before].filter(([rel, sum]) => !rel.startsWith("apps/writer-") && after.get(rel) !== sum);
    expect(lost).to.deep.equal([]);
    await writers.resume();
  });
});
