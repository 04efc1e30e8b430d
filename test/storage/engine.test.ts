// The storage engine's parts on their own, with real rsync, getfattr and a real data tree: the copier
// keeps everything, the verifier finds every kind of difference and names it, the unit renderers keep
// secrets out of unit files, and the unit runner splits command lines as systemd does.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
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
  verifyTrees,
  type Mismatch,
} from "../../operator/src/agent/storage/index.js";
import { parseEnvironmentFile, splitCommandLine } from "../support/unit-runner.js";
import { makeDataTree } from "./support/data-tree.js";
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
    expect(conf.content).to.match(/^bind 10\.0\.0\.5$/m).and.match(/^port 6379$/m).and.match(/^appendonly yes$/m).and.include(`requirepass ${pw}`);
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
