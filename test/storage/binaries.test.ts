// The storage binaries from the release manifest, through the real task machinery on a simulated host:
// what render hands a JuiceFS node (storage/bin/*), the installer's paths and modes, redis-231 on a host
// whose glibc is older than 2.32 (olares-cli's InstallRedis), nothing downloaded again once in place.
// The files come from the storage fixture release (juicefs, minio, redis built from the real tools),
// served over HTTP as a CDN mirror.
import { expect } from "chai";
import { promises as fs } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { buildFixtureRelease, type FixtureRelease } from "../../hack/fixture-release/build.js";
import { DEFAULT_FIXTURE_VERSION } from "../../hack/fixture-release/version.js";
import { extractFromTar } from "../../operator/src/agent/tasks/tar.js";
import type { ClusterFacts, HostTask, JuiceFSBackend, ReleaseComponentTask } from "../../operator/src/contract/index.js";
import { STORAGE_BINARY_PATHS, storageBinaryTasks } from "../../operator/src/render/stages/storage-plan.js";
import { FakeSystem } from "../agent-host/fake-system.js";
import { apply, configOf } from "../agent-host/helpers.js";
import { FACTS } from "../render/fixtures.js";
import { serveDir } from "../release/helpers.js";
import { storageTools } from "./support/tools.js";

const BACKEND: JuiceFSBackend = {
  name: "rootfs",
  storage: "minio",
  bucketUrl: "http://10.0.0.5:9000/olares",
  metaUrl: "redis://10.0.0.5:6379/1",
  cacheDir: "/olares/jfscache",
  cacheSizeMiB: 1024,
  managedRedis: { bind: "10.0.0.5", port: 6379 },
  managedMinio: { address: "10.0.0.5", port: 9000, consolePort: 9090, rootUser: "minioadmin", bucket: "olares" },
};

describe("storage binaries from installation.manifest (render → releaseComponent tasks on a simulated host, the storage fixture release over HTTP)", function () {
  this.timeout(5 * 60_000);
  let rel: FixtureRelease;
  let cdn: Awaited<ReturnType<typeof serveDir>>;
  let tasks: ReleaseComponentTask[];
  const systems: FakeSystem[] = [];
  const item = (id: string) => rel.manifest.find((i) => i.fileId === id)!;
  const cdnFile = (id: string) => fs.readFile(path.join(rel.cdnDir, item(id).urlAmd64));
  const hostWithGlibc = async (version: string | undefined) => {
    const sys = await FakeSystem.create({ live: true, manager: "apt" });
    systems.push(sys);
    if (version) sys.exec.use((argv) => (argv[0] === "getconf" && argv[1] === "GNU_LIBC_VERSION" ? { exitCode: 0, stdout: `glibc ${version}\n` } : undefined));
    return sys;
  };

  before(async () => {
    // The storage tier (hack/test-order.cjs): the fixture's storage components are built from these tools.
    storageTools();
    rel = buildFixtureRelease(DEFAULT_FIXTURE_VERSION, process.env.OLARES_FIXTURE_DIR ?? path.join(homedir(), ".cache/olares-operator/fixture-release"), { storage: true });
    cdn = await serveDir(rel.cdnDir);
    const facts = { ...FACTS, release: { manifest: rel.manifest, filesBase: cdn.base } } as unknown as ClusterFacts;
    tasks = storageBinaryTasks(facts, BACKEND);
  });
  after(async () => {
    await cdn?.close();
    for (const s of systems) await s.cleanup();
  });

  it("renders one component per binary (the installer's ids, MD5s and paths), managed services only where they run, none without a manifest", () => {
    expect(tasks.map((t) => [t.id, t.component, t.file.filename])).to.deep.equal([
      ["storage/bin/juicefs", "juicefs", item("juicefs").filename],
      ["storage/bin/redis", "redis", item("redis").filename],
      ["storage/bin/minio", "minio", item("minio").filename],
    ]);
    expect(tasks[0]!.file.amd64).to.deep.equal({ url: `${cdn.base}/${item("juicefs").urlAmd64}`, md5: item("juicefs").checksumAmd64 });
    expect(tasks[0]!.install.map((m) => m.path)).to.deep.equal([STORAGE_BINARY_PATHS.juicefs, STORAGE_BINARY_PATHS.mountJuicefs]);
    expect(tasks[1]!.glibcFallback).to.deep.include({ glibcBelow: "2.32", component: "redis-231" });
    expect(tasks[1]!.glibcFallback!.file.filename).to.equal(item("redis-231").filename);
    const facts = { ...FACTS, release: { manifest: rel.manifest, filesBase: cdn.base } } as unknown as ClusterFacts;
    const { managedRedis: _r, managedMinio: _m, ...worker } = BACKEND;
    expect(storageBinaryTasks(facts, worker).map((t) => t.id), "a worker: juicefs only").to.deep.equal(["storage/bin/juicefs"]);
    expect(storageBinaryTasks(FACTS, BACKEND), "offline: no manifest").to.deep.equal([]);
  });

  it("installs them where olares-cli does (0755), MD5-checked; a second apply downloads nothing and changes nothing", async () => {
    const sys = await hostWithGlibc("2.36");
    const first = await apply(sys, configOf(tasks as HostTask[]));
    expect(first.error, first.error?.message).to.equal(undefined);
    const jfs = extractFromTar(await cdnFile("juicefs"), "juicefs")!;
    for (const p of [STORAGE_BINARY_PATHS.juicefs, STORAGE_BINARY_PATHS.mountJuicefs]) {
      const st = await fs.stat(path.join(sys.root, p));
      expect((st.mode & 0o777).toString(8), p).to.equal("755");
      expect((await fs.readFile(path.join(sys.root, p))).equals(jfs), p).to.equal(true);
    }
    expect((await fs.readFile(path.join(sys.root, STORAGE_BINARY_PATHS.minio))).equals(await cdnFile("minio")), "minio: the download is the binary").to.equal(true);
    const redis = await cdnFile("redis");
    for (const [p, member] of [[STORAGE_BINARY_PATHS.redisServer, "redis-server"], [STORAGE_BINARY_PATHS.redisCli, "redis-cli"]] as const) {
      expect((await fs.readFile(path.join(sys.root, p))).equals(extractFromTar(redis, member)!), p).to.equal(true);
    }
    const cache = path.join(sys.root, "var/lib/olares-agent/release/pkg/components");
    expect((await fs.readdir(cache)).sort()).to.deep.equal([item("juicefs").filename, item("minio").filename, item("redis").filename].sort());
    const hits = [...cdn.hits.values()].reduce((a, b) => a + b, 0);
    const again = await apply(sys, configOf(tasks as HostTask[]));
    expect(again.error).to.equal(undefined);
    expect(again.changed).to.deep.equal([]);
    expect([...cdn.hits.values()].reduce((a, b) => a + b, 0), "no download when in place").to.equal(hits);
  });

  it("takes redis-231 on a host with glibc 2.31 (olares-cli's fallback below 2.32), the main redis when glibc is unknown", async () => {
    const old = await hostWithGlibc("2.31");
    const redisTask = tasks.find((t) => t.id === "storage/bin/redis")!;
    expect((await apply(old, configOf([redisTask]))).error).to.equal(undefined);
    const cache = (sys: FakeSystem) => fs.readdir(path.join(sys.root, "var/lib/olares-agent/release/pkg/components"));
    expect(await cache(old)).to.deep.equal([item("redis-231").filename]);
    const installed = await fs.readFile(path.join(old.root, STORAGE_BINARY_PATHS.redisServer));
    expect(installed.equals(extractFromTar(await cdnFile("redis-231"), "redis-server")!)).to.equal(true);
    const unknown = await hostWithGlibc(undefined);
    expect((await apply(unknown, configOf([redisTask]))).error).to.equal(undefined);
    expect(await cache(unknown)).to.deep.equal([item("redis").filename]);
  });
});
