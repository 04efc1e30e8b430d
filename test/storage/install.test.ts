// Installing straight onto JuiceFS (no data to move) with the real tools: managed Redis + MinIO as host
// units, or an external S3-compatible endpoint (a second MinIO) whose keys come from a Secret; then a
// reboot brings the units back in order and K3s's drop-in check passes.
import { expect } from "chai";
import { promises as fs } from "node:fs";
import path from "node:path";
import net from "node:net";
import { JUICEFS_UNIT, MINIO_UNIT, REDIS_UNIT, StorageMigration, isJuiceFSMount, mountVolume, objectStoreFromBucketUrl, unmountVolume, volumeSetting } from "../../operator/src/agent/storage/index.js";
import { StorageNode } from "./support/env.js";

const noWorkloads = { quiesce: async () => {}, resume: async () => {} };

async function fileCount(dir: string): Promise<number> {
  let n = 0;
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name));
      else n++;
    }
  };
  await walk(dir);
  return n;
}

describe("install on JuiceFS (real redis-server, MinIO, JuiceFS FUSE)", function () {
  this.timeout(5 * 60_000);
  let node: StorageNode;
  afterEach(async () => {
    await node?.cleanup();
  });

  it("on managed Redis + MinIO: units written and started, rootfs mounted, back after a reboot", async () => {
    node = await StorageNode.create();
    const rootfs = path.join(node.root, "rootfs");
    await new StorageMigration(node.host, node.plan("LocalFS", "JuiceFS"), node.runner, noWorkloads).install();
    expect(await isJuiceFSMount(node.host, rootfs)).to.equal(true);
    for (const u of [REDIS_UNIT, MINIO_UNIT, JUICEFS_UNIT]) {
      expect(await node.runner.isActive(u), u).to.equal(true);
      expect(await node.runner.isEnabled(u), u).to.equal(true);
    }
    await fs.writeFile(path.join(rootfs, "hello.txt"), "kept across a reboot\n");
    await node.reboot();
    expect(await isJuiceFSMount(node.host, rootfs)).to.equal(true);
    expect(await fs.readFile(path.join(rootfs, "hello.txt"), "utf8")).to.equal("kept across a reboot\n");
    await node.runner.runDropInPre(node.paths.k3sDropIn);
    // Installing again changes nothing and keeps the data (the volume is never reformatted).
    await new StorageMigration(node.host, node.plan("LocalFS", "JuiceFS"), node.runner, noWorkloads).install();
    expect(await fs.readFile(path.join(rootfs, "hello.txt"), "utf8")).to.equal("kept across a reboot\n");

    // Workers join this single-node volume, formatted with its bucket at 127.0.0.1: the managed services
    // move to the node's address (a running service restarted for its new config) and the volume's bucket
    // is pointed there (juicefs config --bucket) before any worker mounts; once, then nothing to do.
    const ip = "127.0.3.1";
    const single = node.plan("LocalFS", "JuiceFS");
    const bucketUrl = `http://${ip}:${node.ports.minio}/olares`;
    const joined = {
      ...single,
      juicefs: { ...single.juicefs, bucketUrl },
      managed: { redis: { ...single.managed.redis!, bind: ip }, minio: { ...single.managed.minio!, address: ip } },
      objectStore: objectStoreFromBucketUrl(bucketUrl, { accessKeyId: single.juicefs.accessKey, secretAccessKey: single.juicefs.secretKey }),
    };
    expect((await volumeSetting(node.host, single.juicefs))?.bucket).to.equal(`http://127.0.0.1:${node.ports.minio}/olares`);
    const connects = (host: string) => new Promise<boolean>((resolve) => net.connect(node.ports.minio, host).once("connect", function (this: net.Socket) { this.destroy(); resolve(true); }).once("error", () => resolve(false)));
    expect(await connects(ip), "MinIO on the node's address before the join").to.equal(false);
    const logs: string[] = [];
    await new StorageMigration(node.host, joined, node.runner, noWorkloads, { log: (m) => logs.push(m) }).install();
    expect((await volumeSetting(node.host, single.juicefs))?.bucket).to.equal(bucketUrl);
    expect(logs.filter((l) => /bucket http:\/\/127\.0\.0\.1:\d+\/olares → /.test(l))).to.have.length(1);
    expect(logs.some((l) => l.startsWith(`${MINIO_UNIT}: its configuration changed; restarting it`))).to.equal(true);
    // MinIO listens on the node's address now (it listened on loopback only before the restart).
    expect(await connects(ip)).to.equal(true);
    // A worker's mount (the node's address, its own empty cache) reads the data through the new bucket URL.
    const workerView = path.join(node.base, "worker-rootfs");
    const worker = { ...joined.juicefs, metaUrl: `redis://${ip}:${node.ports.redis}/1`, cacheDir: path.join(node.base, "worker-cache") };
    // The primary's running mount keeps working across the rebind: a write there after it reaches the worker.
    const fd = await fs.open(path.join(rootfs, "after-rebind.bin"), "w");
    await fd.write(Buffer.alloc(5 << 20, 3));
    await fd.sync();
    await fd.close();
    await mountVolume(node.host, node.root, worker, workerView);
    try {
      expect(await fs.readFile(path.join(workerView, "hello.txt"), "utf8")).to.equal("kept across a reboot\n");
      expect((await fs.readFile(path.join(workerView, "after-rebind.bin"))).equals(Buffer.alloc(5 << 20, 3))).to.equal(true);
    } finally {
      await unmountVolume(node.host, worker, workerView);
    }
    // Idempotent: a second install changes nothing.
    logs.length = 0;
    await new StorageMigration(node.host, joined, node.runner, noWorkloads, { log: (m) => logs.push(m) }).install();
    expect(logs.filter((l) => / → |restarting/.test(l)), "nothing to rebind or restart").to.deep.equal([]);
    expect(await fs.readFile(path.join(rootfs, "hello.txt"), "utf8")).to.equal("kept across a reboot\n");
  });

  it("on an external S3-compatible endpoint with keys from a Secret: blocks land in that bucket", async () => {
    node = await StorageNode.create();
    const ext = await node.externalStore("olares-blocks");
    // What credentialsSecretRef points at (the controller hands the agent the decoded keys).
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "olares-s3", namespace: "olares-system" },
      data: { AWS_ACCESS_KEY_ID: Buffer.from(ext.accessKey).toString("base64"), AWS_SECRET_ACCESS_KEY: Buffer.from(ext.secretKey).toString("base64") },
    };
    const decode = (k: keyof typeof secret.data) => Buffer.from(secret.data[k], "base64").toString("utf8");
    const plan = node.plan("LocalFS", "JuiceFS", { external: { ...ext, accessKey: decode("AWS_ACCESS_KEY_ID"), secretKey: decode("AWS_SECRET_ACCESS_KEY") } });
    expect(plan.managed.minio).to.equal(undefined);
    await new StorageMigration(node.host, plan, node.runner, noWorkloads).install();
    const rootfs = path.join(node.root, "rootfs");
    expect(await isJuiceFSMount(node.host, rootfs)).to.equal(true);
    expect(await node.runner.isActive(MINIO_UNIT)).to.equal(false);
    await fs.writeFile(path.join(rootfs, "blob.bin"), Buffer.alloc(6 << 20, 7));
    await node.unmountAll();
    await node.runner.stop(JUICEFS_UNIT);
    // JuiceFS keeps its blocks under <bucket>/<volume>/chunks in the external store.
    const bucketDir = (await fs.readdir(node.base)).find((d) => d.startsWith("external-minio-"))!;
    expect(await fileCount(path.join(node.base, bucketDir, "olares-blocks"))).to.be.greaterThan(0);
    expect(await fs.access(path.join(node.root, "data/minio")).then(() => true, () => false)).to.equal(false);
  });

  it("refuses to install over a LocalFS rootfs that already holds data (that is a migration)", async () => {
    node = await StorageNode.create();
    await fs.writeFile(path.join(node.root, "rootfs", "data.txt"), "x");
    let err: Error | undefined;
    await new StorageMigration(node.host, node.plan("LocalFS", "JuiceFS"), node.runner, noWorkloads).install().catch((e: Error) => (err = e));
    expect(err?.message).to.match(/already holds data.*migration/);
    expect(await fs.readdir(node.paths.unitDir).then(() => true, () => false)).to.equal(false);
  });
});
