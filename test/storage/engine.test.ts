// The storage engine's parts on their own, with real rsync, getfattr and a real data tree: both
// copiers (ours, parallel, and rsync) keep everything, the verifier finds every kind of difference and
// names it (in full and incrementally), the unit renderers keep secrets out of unit files, and the unit
// runner splits command lines as systemd does.
import { expect } from "chai";
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createExecaExecutor } from "../../operator/src/agent/host/exec.js";
import { createHost } from "../../operator/src/agent/host/host.js";
import {
  copyTree,
  parseProgressLine,
  parseRedisUrl,
  redactRedisUrl,
  renderJuiceFSEnv,
  renderJuiceFSUnit,
  renderK3sDropIn,
  renderMinioEnv,
  renderMinioUnit,
  renderRedisConf,
  renderRedisUnit,
  signS3Request,
  syncTree,
  verifyTrees,
  CopyError,
  type Mismatch,
  type SourceHashes,
} from "../../operator/src/agent/storage/index.js";
import { parseEnvironmentFile, splitCommandLine } from "../support/unit-runner.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { WriterWorkloads } from "./support/gate.js";
import { storageTools } from "./support/tools.js";

describe("storage engine parts (real rsync, getfattr/setfattr, data tree)", function () {
  this.timeout(5 * 60_000);
  const host = createHost({ root: "/", mode: "direct", exec: createExecaExecutor() });
  let base: string;
  before(async () => {
    storageTools();
    base = await fs.mkdtemp(path.join(os.tmpdir(), "olares-engine-"));
  });
  after(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  it("copies a 10k-entry tree with every odd case and verifies it identical, sparse files staying sparse", async () => {
    const src = path.join(base, "src");
    const dst = path.join(base, "dst");
    const made = await makeDataTree(src, { files: 10_000 });
    expect(made.entries).to.be.greaterThan(10_000);
    const seen: number[] = [];
    // With the metadata pass, as FinalSync runs it: rsync's generator can touch a directory's mtime up
    // while its receiver still renames files into it; the second pass (nothing to copy) sets it again.
    const r = await copyTree(host, src, dst, { delete: true, metadataPass: true, onProgress: (p) => seen.push(p.bytes) });
    expect(r.exitCode).to.equal(0);
    expect(r.filesTransferred).to.be.greaterThan(10_000);
    expect(seen.length).to.be.greaterThan(0);
    const v = await verifyTrees(host, { hostPath: src, localPath: src }, { hostPath: dst, localPath: dst }, { checkSparse: true });
    expect(v.mismatches).to.deep.equal([]);
    expect(v.entries).to.equal(made.entries + 1);
    // A second run copies nothing.
    const again = await copyTree(host, src, dst, { delete: true });
    expect(again.filesTransferred).to.equal(0);
  });

  // The cause of the old flake (symlinks and directories keeping their creation time when it fell in the
  // same second as the source's mtime): rsync compared whole seconds. Times here are set explicitly, so
  // this fails every time without --modify-window=-1, not only when the clock happens to line up.
  it("compares times to the nanosecond: a same-second rewrite of the same size and a same-second retimed symlink and directory are copied", async () => {
    const src = path.join(base, "ns-src");
    const dst = path.join(base, "ns-dst");
    await fs.mkdir(path.join(src, "dir"), { recursive: true });
    await fs.writeFile(path.join(src, "dir", "f"), "aaaa");
    await fs.symlink("dir/f", path.join(src, "link"));
    const stamp = (p: string, ns: bigint) =>
      execFileSync("touch", ["--no-dereference", "-m", "-d", `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`, p]);
    const first = 1_700_000_000_100_000_000n;
    const second = first + 700_000_000n; // same second, 0.7 s later
    for (const p of ["dir/f", "link", "dir"]) stamp(path.join(src, p), first);
    expect((await copyTree(host, src, dst, { delete: true })).exitCode).to.equal(0);
    await fs.writeFile(path.join(src, "dir", "f"), "bbbb");
    for (const p of ["dir/f", "link", "dir"]) stamp(path.join(src, p), second);
    const again = await copyTree(host, src, dst, { delete: true });
    expect(again.filesTransferred, "the rewritten file is sent").to.equal(1);
    expect(await fs.readFile(path.join(dst, "dir", "f"), "utf8")).to.equal("bbbb");
    for (const p of ["dir/f", "link", "dir"]) expect((await fs.lstat(path.join(dst, p), { bigint: true })).mtimeNs, p).to.equal(second);
    const v = await verifyTrees(host, { hostPath: src, localPath: src }, { hostPath: dst, localPath: dst });
    expect(v.mismatches).to.deep.equal([]);
  });

  it("reports each kind of difference by path and field", async () => {
    // Its own tree: it must not depend on another case having copied one.
    const src = path.join(base, "diff-src");
    const dst = path.join(base, "diff-dst");
    await makeDataTree(src, { files: 400 });
    const copied = await copyTree(host, src, dst, { delete: true, metadataPass: true });
    expect(copied.exitCode).to.equal(0);
    const d0 = "apps/a1/ns-0/d1";
    const plain = (await fs.readdir(path.join(dst, d0))).filter((n) => /^f\d+\.bin$/.test(n)).sort();
    const [fa, fb, fc, fd] = plain as [string, string, string, string];
    const xattrFile = (await fs.readdir(path.join(src, d0))).find((n) => /^f\d+\.bin$/.test(n) && Number(n.slice(1, -4)) % 23 === 0)!;
    await fs.chmod(path.join(dst, d0, fa), 0o640);
    // Same size, same mtime, different content: only hashing finds it.
    const f = path.join(dst, d0, fb);
    const st = await fs.stat(f);
    const buf = await fs.readFile(f);
    buf[0] = buf[0]! ^ 0xff;
    await fs.writeFile(f, buf);
    await fs.utimes(f, st.atime, st.mtime);
    execFileSync("setfattr", ["-n", "user.olares.i", "-v", "changed", path.join(dst, d0, xattrFile)]);
    await fs.rm(path.join(dst, "links/relative"));
    await fs.symlink("elsewhere", path.join(dst, "links/relative"));
    const hl = (await fs.readdir(path.join(dst, d0))).find((n) => n.startsWith("hl-0-"))!;
    const hlPath = path.join(dst, d0, hl);
    const data = await fs.readFile(hlPath);
    const hst = await fs.stat(hlPath);
    await fs.rm(hlPath);
    await fs.writeFile(hlPath, data);
    await fs.utimes(hlPath, hst.atime, hst.mtime);
    await fs.rm(path.join(dst, d0, fc));
    await fs.writeFile(path.join(dst, "extra-file"), "x");
    await fs.chown(path.join(dst, d0, fd), 4242, 4242);
    const v = await verifyTrees(host, { hostPath: src, localPath: src }, { hostPath: dst, localPath: dst }, { checkSparse: true });
    const has = (p: string, field: Mismatch["field"]) => v.mismatches.some((m) => m.path === p && m.field === field);
    expect(has(`${d0}/${fa}`, "mode"), JSON.stringify(v.mismatches)).to.equal(true);
    expect(has(`${d0}/${xattrFile}`, "xattr")).to.equal(true);
    expect(has(`${d0}/${fb}`, "content")).to.equal(true);
    expect(has("links/relative", "symlink")).to.equal(true);
    expect(has(`${d0}/${hl}`, "hardlink")).to.equal(true);
    expect(has(`${d0}/${fc}`, "missing")).to.equal(true);
    expect(has("extra-file", "extra")).to.equal(true);
    expect(has(`${d0}/${fd}`, "owner")).to.equal(true);
  });

  describe("the parallel copier (ours) and the incremental verify", () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const S = (p: string) => ({ hostPath: p, localPath: p });
    const stamp = (p: string, ns: bigint) => {
      const abs = ns < 0n ? -ns : ns;
      execFileSync("touch", ["--no-dereference", "-m", "-d", `@${ns < 0n ? "-" : ""}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, "0")}`, p]);
    };
    let src: string;
    before(async () => {
      src = path.join(base, "p-src");
      await makeDataTree(src, { files: 10_000, bigFiles: [24 << 20] });
      // The kinds the data tree lacks: a device file and a socket.
      execFileSync("mknod", [path.join(src, "private", "null-dev"), "c", "1", "3"]);
      execFileSync("perl", ["-MSocket", "-e", "socket(S, PF_UNIX, SOCK_STREAM, 0) or die; bind(S, sockaddr_un($ARGV[0])) or die", path.join(src, "private", "a-socket")]);
      stamp(path.join(src, "private", "a-socket"), -1_234_567_891n); // before 1970, with nanoseconds
      // A hash vouches for a file only once its ctime is older than the clock's step (SETTLE_NS).
      await new Promise((r) => setTimeout(r, 2100));
    });

    it("copies the 10k-entry tree with every kind of entry identically, hashing each file on the way; a second run copies nothing", async () => {
      const dst = path.join(base, "p-dst");
      const hashes: SourceHashes = new Map();
      const seen: number[] = [];
      const r = await syncTree(host, src, dst, { delete: true, hashes, onProgress: (p) => seen.push(p.files) });
      expect(r.exitCode).to.equal(0);
      expect(r.filesTransferred).to.be.greaterThan(10_000);
      expect(seen.length).to.be.greaterThan(0);
      const v = await verifyTrees(host, S(src), S(dst), { checkSparse: true, sourceHashes: hashes, destinationQuietAfter: true });
      expect(v.mismatches).to.deep.equal([]);
      // Every regular file's source hash came from the copy (hard-link members share their first path's).
      expect(v.reusedSourceHashes).to.be.greaterThan(10_000);
      expect(v.baseline?.size).to.equal(v.files);
      // A second oracle: content, link targets and types by checksum.
      expect(await treeChecksums(dst)).to.deep.equal(await treeChecksums(src));
      for (const name of ["hole-start", "hole-middle", "hole-end"]) {
        const st = await fs.stat(path.join(dst, "sparse", name));
        expect(st.blocks * 512, name).to.be.lessThan(st.size / 4);
      }
      const dev = await fs.lstat(path.join(dst, "private", "null-dev"), { bigint: true });
      expect(dev.isCharacterDevice() && dev.rdev === (await fs.lstat(path.join(src, "private", "null-dev"), { bigint: true })).rdev).to.equal(true);
      expect((await fs.lstat(path.join(dst, "private", "a-socket"), { bigint: true })).mtimeNs).to.equal(-1_234_567_891n);
      const again = await syncTree(host, src, dst, { delete: true });
      expect([again.filesTransferred, again.bytesTransferred, again.deleted]).to.deep.equal([0, 0, 0]);
      await fs.rm(dst, { recursive: true });
    });

    it("compares and sets times to the nanosecond: a same-second rewrite of the same size and a same-second retimed symlink and directory are carried", async () => {
      const a = path.join(base, "pns-src");
      const b = path.join(base, "pns-dst");
      await fs.mkdir(path.join(a, "dir"), { recursive: true });
      await fs.writeFile(path.join(a, "dir", "f"), "aaaa");
      await fs.symlink("dir/f", path.join(a, "link"));
      const first = 1_700_000_000_100_000_001n;
      const second = first + 700_000_000n; // same second, 0.7 s later (and not a whole microsecond)
      for (const p of ["dir/f", "link", "dir"]) stamp(path.join(a, p), first);
      await syncTree(host, a, b, { delete: true });
      for (const p of ["dir/f", "link", "dir"]) expect((await fs.lstat(path.join(b, p), { bigint: true })).mtimeNs, p).to.equal(first);
      await fs.writeFile(path.join(a, "dir", "f"), "bbbb");
      for (const p of ["dir/f", "link", "dir"]) stamp(path.join(a, p), second);
      const again = await syncTree(host, a, b, { delete: true });
      expect(again.filesTransferred, "the rewritten file is sent").to.equal(1);
      expect(await fs.readFile(path.join(b, "dir", "f"), "utf8")).to.equal("bbbb");
      for (const p of ["dir/f", "link", "dir"]) expect((await fs.lstat(path.join(b, p), { bigint: true })).mtimeNs, p).to.equal(second);
      expect((await verifyTrees(host, S(a), S(b))).mismatches).to.deep.equal([]);
    });

    it("carries every kind of change: types swapped, entries deleted, hard links broken and made, metadata only, no ACL inherited from the destination", async () => {
      const a = path.join(base, "pch-src");
      const b = path.join(base, "pch-dst");
      await makeDataTree(a, { files: 300 });
      await syncTree(host, a, b, { delete: true });
      const d0 = "apps/a0/ns-0/d0";
      const plain = (await fs.readdir(path.join(a, d0))).filter((n) => /^f\d+\.bin$/.test(n)).sort((x, y) => Number(x.slice(1, -4)) - Number(y.slice(1, -4)));
      const withXattr = plain.find((n) => Number(n.slice(1, -4)) % 23 === 0)!;
      const [f0, f7, f14, f21, f28] = plain as [string, string, string, string, string];
      // file → directory, directory → symlink, symlink → file
      await fs.rm(path.join(a, d0, f0));
      await fs.mkdir(path.join(a, d0, f0));
      await fs.writeFile(path.join(a, d0, f0, "inside"), "now a directory");
      await fs.rm(path.join(a, "empty-dir"), { recursive: true });
      await fs.symlink("links", path.join(a, "empty-dir"));
      await fs.rm(path.join(a, "links", "l3"));
      await fs.writeFile(path.join(a, "links", "l3"), "now a file");
      // deletions, inside and of a whole directory
      await fs.rm(path.join(a, d0, f7));
      await fs.rm(path.join(a, "apps/a1"), { recursive: true });
      // a hard link broken (one path rewritten as its own file) and a new group
      const hl = (await fs.readdir(path.join(a, d0))).find((n) => n.startsWith("hl-0-"))!;
      const hlData = await fs.readFile(path.join(a, d0, hl));
      await fs.rm(path.join(a, d0, hl));
      await fs.writeFile(path.join(a, d0, hl), hlData);
      await fs.link(path.join(a, d0, f14), path.join(a, "new-link"));
      // metadata only: mode, owner, xattr removed, mtime
      await fs.chmod(path.join(a, d0, f21), 0o444);
      await fs.lchown(path.join(a, "links", "l4"), 2001, 2002);
      execFileSync("setfattr", ["-x", "user.olares.i", path.join(a, d0, withXattr)]);
      stamp(path.join(a, d0, f28), 1_600_000_000_000_000_007n);
      // The source drops its default ACL; a new file there must not inherit the destination's.
      execFileSync("setfacl", ["-k", path.join(a, "tmp-sticky")]);
      await fs.writeFile(path.join(a, "tmp-sticky", "new-file"), "x");
      await fs.mkdir(path.join(a, "tmp-sticky", "new-dir"));
      const r = await syncTree(host, a, b, { delete: true });
      expect(r.deleted).to.be.greaterThan(0);
      const v = await verifyTrees(host, S(a), S(b), { checkSparse: true });
      expect(v.mismatches).to.deep.equal([]);
      expect(await treeChecksums(b)).to.deep.equal(await treeChecksums(a));
    });

    it("carries writes made while it copies: a pass after the writers stop leaves the trees identical, and the incremental verify re-reads only what changed", async () => {
      const a = path.join(base, "pw-src");
      const b = path.join(base, "pw-dst");
      await makeDataTree(a, { files: 2000, bigFiles: [16 << 20] });
      const writers = new WriterWorkloads(path.join(base, "pw-gate"), a, 3);
      await writers.start();
      try {
        const hashes: SourceHashes = new Map();
        await new Promise((r) => setTimeout(r, 2100)); // the tree settled (SETTLE_NS), as an Olares tree is
        await syncTree(host, a, b, { delete: true, hashes });
        const online = await verifyTrees(host, S(a), S(b), { sourceHashes: hashes, destinationQuietAfter: true });
        await writers.quiesce();
        await new Promise((r) => setTimeout(r, 2100)); // as the migration waits before FinalSync
        const journal = (await fs.readFile(path.join(a, "apps/writer-0/journal"), "utf8")).split("\n").length;
        expect(journal, "the writers wrote during the copy").to.be.greaterThan(3);
        await syncTree(host, a, b, { delete: true, hashes });
        const inc = await verifyTrees(host, S(a), S(b), { checkSparse: true, sourceHashes: hashes, baseline: online.baseline, destinationQuietAfter: true });
        expect(inc.mismatches).to.deep.equal([]);
        expect(inc.unchangedSinceBaseline).to.be.greaterThan(1900);
        expect(inc.hashed).to.be.lessThan(inc.files - 1900);
        const full = await verifyTrees(host, S(a), S(b), { checkSparse: true });
        expect(full.mismatches).to.deep.equal([]);
        expect(full.hashed).to.equal(full.files);

        // What the incremental verify must still catch with content not re-read for unchanged files:
        // a rewrite with the mtime put back (on either side), and any metadata change.
        await new Promise((r) => setTimeout(r, 2100)); // writes resume (and settle) after the verify, as they would
        const d1 = "apps/a1/ns-0/d1";
        const names = (await fs.readdir(path.join(b, d1))).filter((n) => /^f\d+\.bin$/.test(n)).sort();
        const flip = async (file: string) => {
          const st = await fs.stat(file, { bigint: true });
          const buf = await fs.readFile(file);
          buf[buf.length - 1] = buf[buf.length - 1]! ^ 0xff;
          await fs.writeFile(file, buf);
          stamp(file, st.mtimeNs);
          expect((await fs.stat(file, { bigint: true })).mtimeNs).to.equal(st.mtimeNs);
        };
        await flip(path.join(b, d1, names[0]!));
        await flip(path.join(a, d1, names[1]!));
        await fs.chmod(path.join(b, d1, names[2]!), 0o604);
        execFileSync("setfattr", ["-n", "user.added", "-v", "1", path.join(b, d1, names[3]!)]);
        const caught = await verifyTrees(host, S(a), S(b), { checkSparse: true, sourceHashes: hashes, baseline: inc.baseline });
        const has = (n: string, field: Mismatch["field"]) => caught.mismatches.some((m) => m.path === `${d1}/${n}` && m.field === field);
        expect(has(names[0]!, "content"), JSON.stringify(caught.mismatches)).to.equal(true);
        expect(has(names[1]!, "content")).to.equal(true);
        expect(has(names[2]!, "mode")).to.equal(true);
        expect(has(names[3]!, "xattr")).to.equal(true);
        // Read again: the two rewritten files, and the two whose metadata changed (that moves ctime too).
        expect(caught.hashed).to.equal(4);
      } finally {
        await writers.stop();
      }
    });

    it("finishes a copy killed in the middle: the next run leaves the trees identical", async () => {
      const a = path.join(base, "pk-src");
      const b = path.join(base, "pk-dst");
      await makeDataTree(a, { files: 3000, bigFiles: [96 << 20] });
      const child = execa(process.execPath, ["--import", "tsx", path.join(here, "support/copy-child.ts"), a, b], { reject: false, buffer: false });
      let killed = false;
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => {
        if (!killed && chunk.includes('"bytes"')) {
          killed = true;
          child.kill("SIGKILL");
        }
      });
      const r = await child;
      expect(r.signal, "killed mid-copy").to.equal("SIGKILL");
      const partial = await verifyTrees(host, S(a), S(b));
      expect(partial.mismatchCount, "the first run was cut short").to.be.greaterThan(0);
      await syncTree(host, a, b, { delete: true });
      const v = await verifyTrees(host, S(a), S(b), { checkSparse: true });
      expect(v.mismatches).to.deep.equal([]);
    });

    it("stops with 'No space left on device' when the target fills up", async () => {
      const a = path.join(base, "pf-src");
      const b = path.join(base, "pf-dst");
      await makeDataTree(a, { files: 200, bigFiles: [40 << 20] });
      await fs.mkdir(b);
      await execa("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", b]);
      try {
        const e = await syncTree(host, a, b, { delete: true }).then(() => undefined, (err: unknown) => err);
        expect(e).to.be.instanceOf(CopyError);
        expect((e as CopyError).stderr).to.match(/No space left on device/);
      } finally {
        await execa("umount", ["-l", b]);
      }
    });
  });

  it("parses rsync's progress2 lines", () => {
    expect(parseProgressLine("     1,234,567  45%   12.34MB/s    0:00:10 (xfr#123, to-chk=456/10000)")).to.deep.equal({
      bytes: 1234567,
      files: 123,
      percent: 45,
      toCheck: 456,
      total: 10000,
    });
    expect(parseProgressLine("          32768 100%   31.25MB/s    0:00:00")).to.include({ bytes: 32768, percent: 100 });
    expect(parseProgressLine("sending incremental file list")).to.equal(undefined);
  });

  it("keeps secrets out of unit files and on the command line, only in 0600 files", () => {
    const pw = "Sup3rSecretRedisPw";
    const mpw = "Sup3rSecretMinioPw";
    const root = "/olares";
    const conf = renderRedisConf(root, { bind: "10.0.0.5", port: 6379, password: pw });
    expect(conf.path).to.equal("/olares/data/redis/etc/redis.conf");
    expect(conf.mode).to.equal(0o600);
    expect(conf.content).to.match(/^bind 127\.0\.0\.1 10\.0\.0\.5$/m).and.match(/^port 6379$/m).and.match(/^appendonly yes$/m).and.include(`requirepass ${pw}`);
    const env = renderMinioEnv(root, { address: "10.0.0.5", port: 9000, consolePort: 9090, rootUser: "minioadmin", rootPassword: mpw });
    expect(env.mode).to.equal(0o600);
    expect(env.content).to.include('MINIO_VOLUMES="/olares/data/minio/vol1"').and.include("--console-address 10.0.0.5:9090 --address 10.0.0.5:9000 --anonymous");
    const jenv = renderJuiceFSEnv({ metaPassword: pw });
    expect(jenv.mode).to.equal(0o600);
    const units = [
      renderRedisUnit(root),
      renderMinioUnit(),
      renderJuiceFSUnit(root, { metaUrl: "redis://10.0.0.5:6379/1", cacheSizeMiB: 2048 }),
      renderK3sDropIn(root),
    ];
    for (const u of units) {
      expect(u.content).to.not.include(pw);
      expect(u.content).to.not.include(mpw);
      expect(u.mode).to.equal(0o644);
    }
    expect(units[2]!.content).to.include(
      "ExecStart=/usr/local/bin/juicefs mount -o writeback_cache --entry-cache 300 --attr-cache 300 --cache-dir /olares/jfscache --cache-size 2048 --enable-xattr --no-usage-report redis://10.0.0.5:6379/1 /olares/rootfs",
    );
    expect(units[3]!.content).to.include("After=juicefs.service").and.include("ExecStartPre=/usr/local/bin/juicefs summary /olares/rootfs");
    expect(() => renderJuiceFSUnit(root, { metaUrl: `redis://:${pw}@10.0.0.5:6379/1`, cacheSizeMiB: 1 })).to.throw(/must not carry a password/);
    expect(() => renderRedisConf(root, { bind: "10.0.0.5", port: 6379, password: "bad pw\nrequirepass x" })).to.throw(/redis.password/);
  });

  it("redacts metadata URLs and signs S3 requests deterministically", () => {
    expect(redactRedisUrl("redis://:s3cret@10.0.0.5:6379/1")).to.equal("redis://10.0.0.5:6379/1");
    expect(parseRedisUrl("redis://:p%40ss@h:6380/3")).to.include({ host: "h", port: 6380, db: 3, password: "p@ss" });
    const a = signS3Request({ endpoint: "http://127.0.0.1:9000", bucket: "b", credentials: { accessKeyId: "AK", secretAccessKey: "SK" } }, "GET", "k/x y", Buffer.alloc(0), new Date("2026-01-01T00:00:00Z"));
    expect(a.url).to.equal("http://127.0.0.1:9000/b/k/x%20y");
    expect(a.headers.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AK\/20260101\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
    expect(a.headers.authorization).to.not.include("SK");
  });

  it("splits unit command lines as systemd does", () => {
    const env = parseEnvironmentFile('MINIO_OPTS="--console-address 1.2.3.4:9090 --address 1.2.3.4:9000"\nMINIO_VOLUMES="/olares/data/minio/vol1"\n# c\n');
    expect(splitCommandLine("/usr/local/bin/minio server $MINIO_OPTS $MINIO_VOLUMES", env).argv).to.deep.equal([
      "/usr/local/bin/minio",
      "server",
      "--console-address",
      "1.2.3.4:9090",
      "--address",
      "1.2.3.4:9000",
      "/olares/data/minio/vol1",
    ]);
    expect(splitCommandLine(`-/bin/sh -c 'test -n "$X" || exit 1'`, {})).to.deep.equal({ argv: ["/bin/sh", "-c", 'test -n "$X" || exit 1'], ignoreFailure: true });
    expect(splitCommandLine('/bin/echo "${A} b" c', { A: "a x" }).argv).to.deep.equal(["/bin/echo", "a x b", "c"]);
  });
});
