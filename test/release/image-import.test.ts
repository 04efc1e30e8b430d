// The node agent's manifest tasks against the real tools: a real containerd 2.2.3 and ctr (built from
// their Go module by hack/containerd-tools.sh, native snapshotter, temp root and socket, run as root),
// the fixture release's real OCI image archives and components served over loopback HTTP as its CDN,
// and the agent's engine on a host rooted in a temp dir. Images already present and downloads already
// cached with the manifest's MD5 are skipped; a wrong MD5 names the URL and both sums.
import { expect } from "chai";
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createExecaExecutor } from "../../operator/src/agent/host/exec.js";
import { createHost } from "../../operator/src/agent/host/host.js";
import type { Executor, Host } from "../../operator/src/agent/host/types.js";
import { applyNodeConfig } from "../../operator/src/agent/tasks/index.js";
import { normalizeRef } from "../../operator/src/agent/tasks/image-import.js";
import { nodeConfigId, type HostTask } from "../../operator/src/contract/index.js";
import { componentTask, imageImportTask } from "../../operator/src/render/releases/index.js";
import { startContainerd, type Containerd } from "./containerd.js";
import { fixture, serveDir } from "./helpers.js";

const messages: string[] = [];
const log = { info: (m: string) => void messages.push(m), warn: (m: string) => void messages.push(m) };

/** The host's ctr is the one we built (the real executor runs host commands with the host's PATH). */
function withCtr(ctr: string): Executor {
  const real = createExecaExecutor();
  return { run: (argv, opts) => real.run(argv[0] === "ctr" ? [ctr, ...argv.slice(1)] : argv, opts) };
}

describe("manifest images and components with the real containerd 2.2.3 + ctr (native snapshotter, as root) and the fixture release over loopback HTTP", function () {
  this.timeout(600_000);
  let containerd: Containerd;
  let cdn: Awaited<ReturnType<typeof serveDir>>;
  let hostRoot: string;
  let host: Host;
  let rel: ReturnType<typeof fixture>; // in before(): describe bodies run while mocha loads every file

  const images = () => {
    const t = imageImportTask(rel.manifest, cdn.base, "release/images")!;
    return { ...t, address: containerd.address, snapshotter: "native", images: t.images.slice(0, 4) };
  };
  const apply = (tasks: HostTask[]) => applyNodeConfig(host, { id: nodeConfigId(tasks), group: "default", tasks }, { allowReboot: false, log });
  const present = () => new Set(containerd.ctrRun(["images", "ls", "-q"]).split("\n").filter(Boolean));
  const imageHits = () => [...cdn.hits.entries()].filter(([p]) => p.endsWith(".tar.gz") && !p.startsWith("/arm64/")).reduce((n, [, c]) => n + c, 0);

  before(async () => {
    rel = fixture();
    containerd = await startContainerd();
    cdn = await serveDir(rel.cdnDir);
    hostRoot = mkdtempSync(join(tmpdir(), "olares-host-"));
    host = createHost({ root: hostRoot, exec: withCtr(containerd.ctr), mode: "direct" });
  });
  after(async () => {
    await cdn?.close();
    await containerd?.stop();
    if (hostRoot) rmSync(hostRoot, { recursive: true, force: true });
  });

  it("imports every listed image under its reference (pinned), then a second apply imports and downloads nothing", async () => {
    const task = images();
    expect(task.images.length).to.equal(4);
    const first = await apply([task]);
    expect(first.error, first.error?.message).to.equal(undefined);
    expect(first.changed).to.deep.equal(["release/images"]);
    const now = present();
    for (const img of task.images) expect(now.has(normalizeRef(img.ref)), img.ref).to.equal(true);
    const listing = containerd.ctrRun(["images", "ls"]);
    expect(listing.split("\n").filter((l) => l.includes("io.cri-containerd.pinned=pinned")).length).to.be.at.least(4);
    const hits = imageHits();
    expect(hits).to.equal(4);
    const second = await apply([task]);
    expect(second.error).to.equal(undefined);
    expect(second.changed).to.deep.equal([]);
    expect(imageHits(), "no download at steady state").to.equal(hits);
  });

  it("an image containerd already has is skipped; one removed from containerd is imported again from the cache, without a download", async () => {
    const task = images();
    const gone = task.images[1]!;
    containerd.ctrRun(["images", "rm", normalizeRef(gone.ref)]);
    const hits = imageHits();
    messages.length = 0;
    const r = await apply([task]);
    expect(messages.filter((m) => m.includes("imported image")), "only the missing one is imported").to.deep.equal([`(1/1) imported image ${gone.ref}`]);
    expect(r.error, r.error?.message).to.equal(undefined);
    expect(r.changed).to.deep.equal(["release/images"]);
    expect(present().has(normalizeRef(gone.ref))).to.equal(true);
    expect(imageHits(), "the cached archive's MD5 matches the manifest: no download").to.equal(hits);
  });

  it("the archives are the real format: gzipped OCI layouts whose index names the image (what ctr imported)", () => {
    const img = images().images[0]!;
    const tar = gunzipSync(readFileSync(join(hostRoot, "var/lib/olares-agent/release/images", img.file.filename)));
    expect(tar.includes(Buffer.from("oci-layout"))).to.equal(true);
    expect(tar.includes(Buffer.from(`"io.containerd.image.name":"${img.ref}"`))).to.equal(true);
  });

  it("a download whose MD5 is not the manifest's fails naming the URL and both sums; nothing is imported", async () => {
    const bad = mkdtempSync(join(tmpdir(), "olares-cdn-bad-"));
    try {
      cpSync(rel.cdnDir, bad, { recursive: true });
      const task = images();
      const victim = task.images[2]!;
      containerd.ctrRun(["images", "rm", normalizeRef(victim.ref)]);
      rmSync(join(hostRoot, "var/lib/olares-agent/release/images", victim.file.filename));
      const file = join(bad, victim.file.filename);
      writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from("tampered")]));
      const badCdn = await serveDir(bad);
      try {
        const url = `${badCdn.base}/${victim.file.filename}`;
        const tampered = { ...task, images: task.images.map((i) => (i === victim ? { ...i, file: { ...i.file, amd64: { url, md5: i.file.amd64!.md5 } } } : i)) };
        const r = await apply([tampered]);
        expect(r.error?.message).to.match(new RegExp(`download ${url.replace(/[.]/g, "\\.")}: MD5 [0-9a-f]{32} does not match the manifest's ${victim.file.amd64!.md5}`));
        expect(present().has(normalizeRef(victim.ref))).to.equal(false);
      } finally {
        await badCdn.close();
      }
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it("olaresd from the manifest: downloaded once with its MD5, installed to /usr/local/bin/olaresd, left alone when present", async () => {
    const task = componentTask(rel.manifest, cdn.base, { id: "olaresd/binary", component: "olaresd", install: [{ member: "olaresd", path: "/usr/local/bin/olaresd", mode: 0o755 }] })!;
    expect(task.file.filename).to.equal(`olaresd-v${rel.version}-linux-amd64.tar.gz`);
    const first = await apply([task]);
    expect(first.error, first.error?.message).to.equal(undefined);
    expect(readFileSync(join(hostRoot, "usr/local/bin/olaresd"), "utf8")).to.include(`olaresd ${rel.version}`);
    const hits = [...cdn.hits.values()].reduce((a, b) => a + b, 0);
    const again = await apply([task]);
    expect(again.changed).to.deep.equal([]);
    expect([...cdn.hits.values()].reduce((a, b) => a + b, 0)).to.equal(hits);
    // A binary changed on the host is put back from the cached archive, without a download.
    copyFileSync("/bin/true", join(hostRoot, "usr/local/bin/olaresd"));
    const healed = await apply([task]);
    expect(healed.changed).to.deep.equal(["olaresd/binary"]);
    expect(readFileSync(join(hostRoot, "usr/local/bin/olaresd"), "utf8")).to.include(`olaresd ${rel.version}`);
    expect([...cdn.hits.values()].reduce((a, b) => a + b, 0)).to.equal(hits);
  });
});
