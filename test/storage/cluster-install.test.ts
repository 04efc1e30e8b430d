// A fresh install on JuiceFS through the CR, on the cluster simulator with the real engine: the node's
// storage config (kind juicefsRootfs) brings up redis-server and MinIO from the unit files the agent
// wrote, formats the volume, mounts it at <rootPath>/rootfs and orders K3s after it; the passwords only
// in root-owned 0600 files on the host and in Secrets in the cluster. The binaries reach the node only
// through the release manifest: the operator serves the storage fixture release (juicefs, minio, redis
// components built from the real tools), the agent installs them MD5-checked before the services start.
import { expect } from "chai";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { JUICEFS_UNIT, MINIO_UNIT, REDIS_UNIT, isJuiceFSMount } from "../../operator/src/agent/storage/index.js";
import { ANNOTATION_STORAGE_CONFIG, ANNOTATION_STORAGE_REPORT, STORAGE_GENERATED_SECRET, decodeStorageNodeConfig, parseStorageNodeReport, type ReleaseComponentTask } from "../../operator/src/contract/index.js";
import { extractFromTar } from "../../operator/src/agent/tasks/tar.js";
import { condition, explainNotReady, isReady } from "../e2e/cluster.js";
import { STORAGE_PORTS, StorageCluster, nodeAddress } from "./support/cluster.js";

describe("fresh install on JuiceFS through the CR, on the cluster simulator with the real engine (JuiceFS FUSE, MinIO, redis-server)", function () {
  this.timeout(10 * 60_000);
  let c: StorageCluster;
  before(async () => {
    c = await StorageCluster.start({ manifestBinaries: true });
  });
  after(async () => {
    await c?.stop();
  });

  it("kubectl apply with storage.type JuiceFS (managed MinIO + Redis) → Ready, the rootfs a JuiceFS mount, K3s ordered after it; the binaries only from the manifest (a corrupted download → Degraded naming the URL and both MD5s first)", async () => {
    const mirror = c.mirror!;
    const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
    const item = (id: string) => mirror.release.manifest.find((i) => i.fileId === id)!;
    // Nothing of the storage tools on the node before the manifest brings them.
    const jfsObj = path.join(mirror.dir, item("juicefs").urlAmd64);
    const good = await fs.readFile(jfsObj);
    await fs.rm(jfsObj);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0xff;
    await fs.writeFile(jfsObj, bad);
    await c.apply({ type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { sizeMiB: 1024 } } });
    const url = `${mirror.filesUrl}/${item("juicefs").urlAmd64}`;
    const degraded = await c.waitFor(() => {
      const r = parseStorageNodeReport(c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT]);
      return r?.state === "Degraded" && r.message?.includes("MD5") ? r : undefined;
    }, 3 * 60_000, () => `Degraded for the corrupted juicefs download; node ${c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT]}`);
    expect(degraded.message).to.include(url).and.include(md5(bad)).and.include(item("juicefs").checksumAmd64);
    const root = c.agents.hosts.get("sim-node-0")!.root;
    for (const b of ["usr/local/bin/juicefs", "usr/local/bin/redis-server", "usr/local/bin/minio"]) expect(await fs.stat(path.join(root, b)).then(() => true, () => false), `${b} before a good download`).to.equal(false);
    // The storage config carries the components before its storage task, in the installer's order.
    const config = decodeStorageNodeConfig(c.nodeAnnotations()[ANNOTATION_STORAGE_CONFIG]!);
    expect((config.tasks as Array<{ id: string }>).map((t) => t.id)).to.deep.equal(["storage/bin/juicefs", "storage/bin/redis", "storage/bin/minio", "storage/juicefs"]);
    const redisTask = config.tasks[1] as ReleaseComponentTask;
    expect(redisTask.glibcFallback).to.deep.include({ glibcBelow: "2.32", component: "redis-231" });
    // The mirror fixed: the agent retries on its own (backoff), downloads, installs, goes on.
    await fs.rm(jfsObj);
    await fs.symlink(path.join(mirror.release.cdnDir, item("juicefs").urlAmd64), jfsObj);

    const cr = await c.waitFor(() => (isReady(c.cr()) ? c.cr() : undefined), 5 * 60_000, () => `Ready on JuiceFS: ${explainNotReady(c.cr())}; node ${c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT]}`);
    // What the units run is what the manifest's components held, at the installer's paths on the node.
    const cdn = (id: string) => fs.readFile(path.join(mirror.release.cdnDir, item(id).urlAmd64));
    const jfsArchive = await cdn("juicefs");
    expect(md5(jfsArchive)).to.equal(item("juicefs").checksumAmd64);
    for (const p of ["usr/local/bin/juicefs", "sbin/mount.juicefs"]) expect((await fs.readFile(path.join(root, p))).equals(extractFromTar(jfsArchive, "juicefs")!), p).to.equal(true);
    expect((await fs.readFile(path.join(root, "usr/local/bin/minio"))).equals(await cdn("minio")), "minio").to.equal(true);
    const redisArchive = await cdn("redis");
    for (const b of ["redis-server", "redis-cli"]) expect((await fs.readFile(path.join(root, "usr/local/bin", b))).equals(extractFromTar(redisArchive, b)!), b).to.equal(true);
    expect(((await fs.stat(path.join(root, "usr/local/bin/juicefs"))).mode & 0o777).toString(8)).to.equal("755");
    const units = await Promise.all([REDIS_UNIT, MINIO_UNIT, JUICEFS_UNIT].map((u) => fs.readFile(path.join(c.node.paths.unitDir, u), "utf8")));
    // This run's managed ports (OLARES_STORAGE_MANAGED_PORTS, else 6379/9000/9090), rendered by the operator.
    expect(await fs.readFile(path.join(c.node.root, "data/redis/etc/redis.conf"), "utf8")).to.match(new RegExp(`^port ${STORAGE_PORTS.redis}$`, "m"));
    expect(await fs.readFile(c.node.paths.minioEnv, "utf8")).to.include(`--console-address ${nodeAddress(0)}:${STORAGE_PORTS.console} --address ${nodeAddress(0)}:${STORAGE_PORTS.minio}`);
    expect(units[0]).to.include(`ExecStart=${root}/usr/local/bin/redis-server `);
    expect(units[1]).to.include(`ExecStart=${root}/usr/local/bin/minio server`);
    expect(units[2]).to.include(`ExecStart=${root}/usr/local/bin/juicefs mount`);
    // The host's glibc (getconf answers nothing on the simulated host) is not known: the main redis component, as olares-cli on an ldd error.
    expect(await fs.stat(path.join(root, "var/lib/olares-agent/release/pkg/components", item("redis").filename)).then(() => true, () => false)).to.equal(true);
    expect(await fs.stat(path.join(root, "var/lib/olares-agent/release/pkg/components", item("redis-231").filename)).then(() => true, () => false)).to.equal(false);
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
    const places = [...units, JSON.stringify(c.sim.store.list("/configmaps")), JSON.stringify(c.events()), JSON.stringify(cr.status), JSON.stringify(c.sim.store.get("/nodes", "", "sim-node-0")), c.operatorLog.lines.join("\n"), c.agentLog.lines.join("\n")];
    for (const p of places) for (const s of secrets) expect(p.includes(s), "a generated secret outside its Secret and 0600 files").to.equal(false);
  });
});
