// The copier: rsync -aHAX --numeric-ids (what olares-cli's enable-juicefs runs), plus --sparse so
// holes stay holes, --modify-window=-1 so times compare to the nanosecond, streamed so progress
// (bytes, files) reaches the migration state as it goes.
import { execa, type ResultPromise } from "execa";
import { hostArgv } from "../host/host.js";
import { HOST_PATH } from "../host/exec.js";
import { createHash } from "node:crypto";
import { promises as fs, readFileSync, type BigIntStats } from "node:fs";
import path from "node:path";
import type { Host } from "../host/types.js";
import { FileAttrError, FileAttrs } from "./file-attrs.js";
import { JUICEFS_INTERNAL_FILES, JUICEFS_INTERNAL_XATTRS } from "./layout.js";
import { fingerprint, forEachLimit, scanTree, settledAt, walkTree } from "./tree.js";
import { readXattrsOf, type TreeXattrs } from "./xattrs.js";

export interface CopyProgress {
  /** Bytes rsync has transferred so far in this run. */
  bytes: number;
  /** Files rsync has transferred so far in this run (xfr#). */
  files: number;
  /** Entries still to check of the total (rsync's to-chk=M/T, with --no-inc-recursive the full count). */
  toCheck?: number;
  total?: number;
  percent?: number;
}

export interface CopyResult {
  exitCode: number;
  /** Files transferred and their bytes, from rsync's --stats. */
  filesTransferred: number;
  bytesTransferred: number;
  /** Entries deleted on the destination (--delete). */
  deleted: number;
  /** rsync exit 24: some source files vanished while copying (Olares still running during Sync). */
  vanished: boolean;
  /** Directory mtimes set afterwards (metadataPass only). */
  directoryTimesFixed?: number;
  durationMs: number;
}

export class CopyError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "CopyError";
  }
}

export interface CopyOptions {
  /** Delete destination entries missing from the source (final sync; also the first, so a resumed Sync converges). */
  delete?: boolean;
  onProgress?: (p: CopyProgress) => void;
  /** Called with the rsync pid once it runs (recorded so a resumed agent can stop an orphaned copy). */
  onStart?: (pid: number) => void;
  /** Kill rsync after this long (default: none). */
  timeoutMs?: number;
  /** Compare by content, not size+mtime (slower; the verifier already hashes everything). */
  checksum?: boolean;
  /**
   * Run a second pass after the copy: with nothing left to transfer it only re-applies metadata, so
   * directory mtimes a FUSE filesystem bumped late (renames of rsync's temp files) end up right.
   */
  metadataPass?: boolean;
}

/** rsync's argv for copying the contents of `source` into `destination` (both host paths). */
export function rsyncArgv(source: string, destination: string, opts: Pick<CopyOptions, "delete" | "checksum"> = {}): string[] {
  return [
    "rsync",
    "-aHAXS",
    "--numeric-ids",
    // Compare mtimes to the nanosecond. The default (0) compares whole seconds: a symlink or directory
    // created in the same second as its source is then "already right" and keeps its creation time, and
    // a file rewritten at the same size within a second is skipped by the quick check (a lost write).
    "--modify-window=-1",
    ...(opts.delete ? ["--delete"] : []),
    ...(opts.checksum ? ["--checksum"] : []),
    "--no-inc-recursive",
    "--info=progress2,stats2",
    "--no-human-readable",
    ...JUICEFS_INTERNAL_FILES.map((f) => `--exclude=/${f}`),
    // JuiceFS keeps its metadata-backup mark as an xattr without a namespace on the mount root; a local
    // filesystem refuses such a name (EOPNOTSUPP), and it is JuiceFS's own, not Olares's data.
    ...JUICEFS_INTERNAL_XATTRS.map((x) => `--filter=-x ${x}`),
    `${source.replace(/\/+$/, "")}/`,
    `${destination.replace(/\/+$/, "")}/`,
  ];
}

const PROGRESS = /^\s*([\d,]+)\s+(\d+)%\s+\S+\s+\S+(?:\s+\(xfr#(\d+),\s*(?:to-chk|ir-chk)=(\d+)\/(\d+)\))?/;

/** One progress2 line: "  1,234,567  45%  12.34MB/s  0:00:10 (xfr#123, to-chk=456/10000)". */
export function parseProgressLine(line: string): CopyProgress | undefined {
  const m = PROGRESS.exec(line);
  if (!m) return undefined;
  const p: CopyProgress = { bytes: Number(m[1]!.replace(/,/g, "")), files: 0, percent: Number(m[2]) };
  if (m[3] !== undefined) {
    p.files = Number(m[3]);
    p.toCheck = Number(m[4]);
    p.total = Number(m[5]);
  }
  return p;
}

function statNumber(stats: string, label: RegExp): number {
  const m = label.exec(stats);
  return m ? Number(m[1]!.replace(/,/g, "")) : 0;
}

/** Copies `source`/ into `destination`/ on the host. Throws CopyError on failure (exit 24 is not one). */
export async function copyTree(host: Host, source: string, destination: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const started = Date.now();
  const [file, ...args] = hostArgv(host.mode, host.root, rsyncArgv(source, destination, opts));
  const child: ResultPromise = execa(file!, args, {
    reject: false,
    stdin: "ignore",
    env: { PATH: HOST_PATH, LC_ALL: "C" },
    extendEnv: false,
    timeout: opts.timeoutMs,
    buffer: { stdout: false, stderr: true },
    maxBuffer: 4 * 1024 * 1024,
  });
  if (child.pid !== undefined) opts.onStart?.(child.pid);
  let tail = "";
  let last: CopyProgress = { bytes: 0, files: 0 };
  const statsLines: string[] = [];
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    const parts = (tail + chunk).split(/[\r\n]/);
    tail = parts.pop() ?? "";
    for (const line of parts) {
      const p = parseProgressLine(line);
      if (p) {
        if (p.total === undefined && last.total !== undefined) Object.assign(p, { files: last.files, toCheck: last.toCheck, total: last.total });
        last = p;
        opts.onProgress?.(p);
      } else if (line.trim()) statsLines.push(line);
    }
  });
  const r = await child;
  if (tail.trim()) statsLines.push(tail);
  const stats = statsLines.join("\n");
  const exitCode = r.exitCode ?? 1;
  const result: CopyResult = {
    exitCode,
    filesTransferred: statNumber(stats, /Number of regular files transferred:\s*([\d,]+)/),
    bytesTransferred: statNumber(stats, /Total transferred file size:\s*([\d,]+)/),
    deleted: statNumber(stats, /Number of deleted files:\s*([\d,]+)/),
    vanished: exitCode === 24,
    durationMs: Date.now() - started,
  };
  if (exitCode !== 0 && exitCode !== 24) {
    const stderr = String(r.stderr ?? "");
    const why = r.timedOut ? "timed out" : r.isTerminated ? `killed by ${r.signal}` : `exited ${exitCode}`;
    const lines = stderr.trim().split("\n").filter(Boolean);
    throw new CopyError(`rsync ${source}/ → ${destination}/ ${why}${lines.length ? `: ${lines.slice(-3).join(" | ")}` : ""}`, exitCode, stderr);
  }
  if (opts.metadataPass) {
    const again = await copyTree(host, source, destination, { ...opts, metadataPass: false, onProgress: undefined });
    result.filesTransferred += again.filesTransferred;
    result.bytesTransferred += again.bytesTransferred;
    result.deleted += again.deleted;
    result.directoryTimesFixed = await fixDirectoryTimes(host, source, destination);
    result.durationMs = Date.now() - started;
  }
  return result;
}

/**
 * Sets every destination directory's mtime (ns) to its source's where they differ. rsync 3.5's
 * generator can touch a directory up while its receiver still renames files into it (seen here with
 * --no-inc-recursive), and a second rsync pass does not always notice; this makes it exact.
 */
export async function fixDirectoryTimes(host: Host, source: string, destination: string): Promise<number> {
  let fixed = 0;
  const dst = host.hostPath(destination);
  for await (const e of walkTree(host.hostPath(source))) {
    if (!e.stat.isDirectory()) continue;
    let d;
    try {
      d = await fs.lstat(e.rel ? path.join(dst, e.rel) : dst, { bigint: true });
    } catch {
      continue; // the verifier reports what is missing
    }
    if (!d.isDirectory() || d.mtimeNs === e.stat.mtimeNs) continue;
    const ns = e.stat.mtimeNs;
    const stamp = `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`;
    await host.runChecked(["touch", "--no-dereference", "-m", "-d", stamp, e.rel ? `${destination.replace(/\/+$/, "")}/${e.rel}` : destination]);
    fixed++;
  }
  return fixed;
}

// ---- The parallel copier -------------------------------------------------------------------------
// Through FUSE every file costs a few round trips to the metadata engine and the object store; rsync
// makes them one file at a time. This copier keeps many files in flight, and hashes each source file
// on the way (the verifier reuses the hash while the source is provably unchanged since).

/** sha256 of a source file's content, with the fingerprint it had before and after it was read. */
export interface SourceHash {
  fingerprint: string;
  sha256: string;
}

/** rel → the hash taken while copying (filled by syncTree; read by verifyTrees). */
export type SourceHashes = Map<string, SourceHash>;

export interface SyncOptions {
  /** Delete destination entries the source no longer has (else they stay; type changes are always replaced). */
  delete?: boolean;
  /** Files copied at once (default 16). */
  concurrency?: number;
  onProgress?: (p: CopyProgress) => void;
  /** Where to record each copied file's content hash. */
  hashes?: SourceHashes;
  /** Helper processes for times, xattrs and special files (default: started and stopped by this call). */
  attrs?: FileAttrs;
}

const CHUNK = 1 << 20;
/** This process's umask, from /proc (process.umask() without an argument is deprecated); all bits when unknown. */
const UMASK = (() => {
  try {
    const m = /^Umask:\s*([0-7]+)/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? parseInt(m[1]!, 8) : 0o777;
  } catch {
    return 0o777;
  }
})();
/** Blocks of this size that are all zero are skipped in a sparse file (holes stay holes). */
const HOLE_BLOCK = 64 << 10;
const internalXattrs = new Set<string>(JUICEFS_INTERNAL_XATTRS);

const isSparseFile = (st: BigIntStats) => st.size > 0n && st.blocks * 512n < st.size;
const kindOf = (st: BigIntStats) => (st.isFile() ? "f" : st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : "s");
const parentOf = (rel: string) => (rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "");
const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code;
const FULL = new Set(["ENOSPC", "EDQUOT"]);

function xattrsOf(tree: TreeXattrs, rel: string): Map<string, string> {
  const m = tree.get(rel);
  if (!m) return new Map();
  for (const x of internalXattrs) m.delete(x);
  return m;
}

/** getfattr's "0x…" (or quoted text) value → bytes. */
function xattrValue(v: string): Buffer {
  if (v.startsWith("0x")) return Buffer.from(v.slice(2), "hex");
  if (v.startsWith('"') && v.endsWith('"')) return Buffer.from(v.slice(1, -1), "utf8");
  return Buffer.from(v, "utf8");
}

/** Whether the content of a file at offset `off` of `buf` (length n) is all zero. */
const ZERO_BLOCK = Buffer.alloc(HOLE_BLOCK);
function allZero(buf: Buffer, off: number, n: number): boolean {
  return buf.subarray(off, off + n).equals(ZERO_BLOCK.subarray(0, n));
}

/**
 * Copies `source`/ into `destination`/ (host paths) with everything rsync -aHAXS --numeric-ids keeps:
 * content (holes kept as holes), mode, numeric owner, mtime and atime to the nanosecond, symlinks,
 * hard links, xattrs and ACLs, FIFOs, sockets and device files — and deletes what the source no longer
 * has. Unchanged entries (same type, size and mtime to the ns) are not rewritten; their metadata is
 * corrected where it differs. A partly written file never has the source's mtime (times are set last),
 * so a copy killed mid-way is finished by the next run. Throws CopyError (stderr "No space left on
 * device" when the target is full).
 */
export async function syncTree(host: Host, source: string, destination: string, opts: SyncOptions = {}): Promise<CopyResult> {
  const started = Date.now();
  const src = host.hostPath(source);
  const dst = host.hostPath(destination);
  const limit = opts.concurrency ?? 16;
  const attrs = opts.attrs ?? (await FileAttrs.start(8));
  const result: CopyResult = { exitCode: 0, filesTransferred: 0, bytesTransferred: 0, deleted: 0, vanished: false, durationMs: 0 };
  try {
    await fs.mkdir(dst, { recursive: true });
    const scannedAtNs = BigInt(Date.now()) * 1_000_000n;
    const [s, d] = await Promise.all([scanTree(src), scanTree(dst)]);
    const [sx, dx] = await Promise.all([readXattrsOf(attrs, src, s.keys()), readXattrsOf(attrs, dst, d.keys())]);
    const euid = process.geteuid?.() ?? -1;
    const egid = process.getegid?.() ?? -1;
    const setgidMemo = new Map<string, boolean>();
    // Whether a file created in the destination directory `rel` gets that directory's group (set-gid),
    // not ours: known for existing directories; a new one inherits the bit from its parent.
    const destSetgid = (rel: string): boolean => {
      const known = setgidMemo.get(rel);
      if (known !== undefined) return known;
      const ds = d.get(rel);
      const v = ds ? (ds.mode & 0o2000n) !== 0n : rel === "" ? false : destSetgid(parentOf(rel));
      setgidMemo.set(rel, v);
      return v;
    };
    const at = (root: string, rel: string) => (rel ? path.join(root, rel) : root);
    const touched = new Set<string>(); // directories whose entries changed (their mtime is set again)
    const progress: CopyProgress = { bytes: 0, files: 0, toCheck: s.size, total: s.size };
    let lastReport = 0;
    const report = (force = false) => {
      const now = Date.now();
      if (!force && now - lastReport < 200) return;
      lastReport = now;
      opts.onProgress?.({ ...progress });
    };
    const done = () => {
      progress.files++;
      progress.toCheck = Math.max(0, s.size - progress.files);
      report();
    };

    // 1. Deletions: whatever the source lacks (with delete), or holds as another type; outermost first.
    const removed: string[] = [];
    const removedSet = new Set<string>();
    const insideRemoved = (rel: string) => {
      for (let p = rel; p !== ""; p = parentOf(p)) if (removedSet.has(p)) return true;
      return false;
    };
    for (const [rel, ds] of d) {
      if (rel === "") continue;
      const ss = s.get(rel);
      const gone = !ss ? opts.delete : kindOf(ss) !== kindOf(ds);
      if (!gone || insideRemoved(rel)) continue;
      removed.push(rel);
      removedSet.add(rel);
    }
    await forEachLimit(removed, limit, async (rel) => {
      await fs.rm(at(dst, rel), { recursive: true, force: true });
      touched.add(parentOf(rel));
      result.deleted++;
    });
    if (removed.length > 0) for (const k of [...d.keys()]) if (insideRemoved(k)) d.delete(k);

    // 2. Directories the destination lacks, parents first (sorted order puts them first).
    const dirs = [...s].filter(([, st]) => st.isDirectory()).map(([rel]) => rel);
    const byDepth = new Map<number, string[]>();
    for (const rel of dirs) {
      if (d.has(rel)) continue;
      const depth = rel.split("/").length;
      byDepth.set(depth, [...(byDepth.get(depth) ?? []), rel]);
    }
    for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
      await forEachLimit(byDepth.get(depth)!, limit, async (rel) => {
        await fs.mkdir(at(dst, rel), { mode: 0o700 });
        touched.add(parentOf(rel));
      });
    }

    // Metadata of one entry, in the order that keeps each: owner (which clears set-id bits), mode,
    // xattrs (ACLs after the mode; inherited default ACLs removed), then times.
    const applyMeta = async (rel: string, ss: BigIntStats, ds: BigIntStats | undefined, fresh: boolean, createdWithMode = false) => {
      const file = at(dst, rel);
      const link = ss.isSymbolicLink();
      // A file we just created is ours (our uid, our gid or the set-gid parent's): chown only when that differs.
      const ownedRight = fresh && Number(ss.uid) === euid && Number(ss.gid) === egid && !destSetgid(parentOf(rel));
      const chowned = !ownedRight && (fresh || !ds || ds.uid !== ss.uid || ds.gid !== ss.gid);
      if (chowned) await fs.lchown(file, Number(ss.uid), Number(ss.gid));
      // chown clears set-id bits, so chmod follows it; a file created with its exact mode needs none.
      if (!link && (chowned || (fresh && !createdWithMode) || (!fresh && (!ds || (ds.mode & 0o7777n) !== (ss.mode & 0o7777n))))) await fs.chmod(file, Number(ss.mode & 0o7777n));
      const want = xattrsOf(sx, rel);
      // A new entry may have inherited ACLs from its destination parent's default ACL.
      let have = xattrsOf(dx, rel);
      if (fresh) {
        have = new Map();
        if (xattrsOf(dx, parentOf(rel)).has("system.posix_acl_default") && !link) {
          have.set("system.posix_acl_access", "");
          if (ss.isDirectory()) have.set("system.posix_acl_default", "");
        }
      }
      for (const [name, value] of want) if (fresh || have.get(name) !== value) await attrs.setXattr(file, name, xattrValue(value));
      for (const name of have.keys()) {
        if (want.has(name)) continue;
        await attrs.removeXattr(file, name).catch((e: unknown) => {
          if (!(e instanceof FileAttrError && e.errno === 61)) throw e; // ENODATA: nothing was inherited
        });
      }
      if (fresh || !ds || ds.mtimeNs !== ss.mtimeNs || touched.has(rel)) await attrs.setTimes(file, ss.atimeNs, ss.mtimeNs);
    };

    // 3. Regular files (hard-link groups: the first path copied, the others linked afterwards),
    //    symlinks and special files, many at once.
    const leaders = new Map<string, string>(); // dev:ino → first rel
    const members: Array<[string, string]> = [];
    const others: string[] = [];
    for (const [rel, st] of s) {
      if (st.isDirectory()) continue;
      if (st.isFile() && st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = leaders.get(key);
        if (first !== undefined) {
          members.push([rel, first]);
          continue;
        }
        leaders.set(key, rel);
      }
      others.push(rel);
    }
    const groupLeaders = new Set(leaders.values());
    /** An entry removed from the source while we copied (Olares still runs during Sync) is noted, not an error. */
    const unlessVanished = async (e: unknown, rel: string): Promise<void> => {
      if (codeOf(e) === "ENOENT" && !(await exists(at(src, rel)))) result.vanished = true;
      else throw e;
    };

    await forEachLimit(others, limit, async (rel) => {
      const ss = s.get(rel)!;
      const ds = d.get(rel);
      try {
        if (ss.isFile()) {
          const same = ds && ds.isFile() && ds.size === ss.size && ds.mtimeNs === ss.mtimeNs && (ds.nlink === 1n || groupLeaders.has(rel));
          if (same) await applyMeta(rel, ss, ds, false);
          else {
            if (ds) await fs.unlink(at(dst, rel)); // never write through another hard link
            touched.add(parentOf(rel));
            // Created with its final mode when nothing can change it on the way: no umask bits in it, no
            // set-id/sticky bits, no default ACL above it.
            const mode = Number(ss.mode & 0o7777n);
            const exact = (mode & 0o7000) === 0 && (mode & UMASK) === 0 && !xattrsOf(dx, parentOf(rel)).has("system.posix_acl_default");
            const copied = await copyFileContent(at(src, rel), at(dst, rel), ss, opts.hashes, rel, exact ? mode : 0o600, scannedAtNs);
            if (copied === undefined) {
              result.vanished = true;
              return;
            }
            result.filesTransferred++;
            result.bytesTransferred += copied;
            progress.bytes += copied;
            await applyMeta(rel, ss, undefined, true, exact);
          }
        } else if (ss.isSymbolicLink()) {
          const target = await fs.readlink(at(src, rel));
          const same = ds && ds.isSymbolicLink() && (await fs.readlink(at(dst, rel))) === target;
          if (same) await applyMeta(rel, ss, ds, false);
          else {
            if (ds) await fs.unlink(at(dst, rel));
            touched.add(parentOf(rel));
            await fs.symlink(target, at(dst, rel));
            await applyMeta(rel, ss, undefined, true);
          }
        } else {
          const same = ds && kindOf(ds) === "s" && (ds.mode & 0o170000n) === (ss.mode & 0o170000n) && ds.rdev === ss.rdev;
          if (same) await applyMeta(rel, ss, ds, false);
          else {
            if (ds) await fs.unlink(at(dst, rel));
            touched.add(parentOf(rel));
            await attrs.mknod(at(dst, rel), ss.mode & 0o170000n | 0o600n, ss.rdev);
            await applyMeta(rel, ss, undefined, true);
          }
        }
      } catch (e) {
        await unlessVanished(e, rel);
      } finally {
        done();
      }
    });

    // 4. The other paths of each hard-link group, linked to the copy of its first path.
    await forEachLimit(members, limit, async ([rel, first]) => {
      const ds = d.get(rel);
      try {
        const leader = await fs.lstat(at(dst, first), { bigint: true });
        if (ds && ds.ino === leader.ino && ds.dev === leader.dev) return;
        if (ds) await fs.unlink(at(dst, rel));
        await fs.link(at(dst, first), at(dst, rel));
        touched.add(parentOf(rel));
        result.filesTransferred++;
      } catch (e) {
        await unlessVanished(e, rel);
      } finally {
        done();
      }
    });

    // 5. Directories' own metadata last: every entry inside them is in place, so their mtimes stay.
    await forEachLimit(dirs, limit, async (rel) => {
      const ss = s.get(rel)!;
      const ds = d.get(rel);
      try {
        await applyMeta(rel, ss, ds, !ds);
      } catch (e) {
        await unlessVanished(e, rel);
      } finally {
        done();
      }
    });
    report(true);
  } catch (e) {
    const code = codeOf(e);
    if (code && FULL.has(code)) throw new CopyError(`copy ${source}/ → ${destination}/: ${errMessage(e)}`, 11, `No space left on device (${code}): ${errMessage(e)}`);
    if (e instanceof CopyError) throw e;
    throw new CopyError(`copy ${source}/ → ${destination}/: ${errMessage(e)}`, 1, errMessage(e));
  } finally {
    if (!opts.attrs) await attrs.close();
  }
  result.durationMs = Date.now() - started;
  return result;
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

/**
 * Copies one regular file's content (all-zero blocks of a sparse file skipped, then sized with
 * ftruncate), hashing it as it reads. The source is fdatasync'ed first so a later write through a
 * shared mapping faults and moves its mtime/ctime (see docs/storage.md, "Verify"). Returns the bytes
 * copied, or undefined when the source vanished.
 */
async function copyFileContent(from: string, to: string, st: BigIntStats, hashes: SourceHashes | undefined, rel: string, mode: number, scannedAtNs: bigint): Promise<number | undefined> {
  let input: fs.FileHandle;
  try {
    input = await fs.open(from, "r");
  } catch (e) {
    if (codeOf(e) === "ENOENT") return undefined;
    throw e;
  }
  try {
    await input.datasync().catch(() => {}); // best effort (some filesystems refuse it on a read-only fd)
    const before = await input.stat({ bigint: true });
    const out = await fs.open(to, "wx", mode);
    const hash = createHash("sha256");
    let total = 0;
    try {
      // Zero blocks become holes in every file larger than a chunk, as rsync -S does: a source on JuiceFS
      // reports whole blocks allocated for a sparse file, so st_blocks cannot be the only hint.
      const sparse = isSparseFile(st) || before.size > BigInt(CHUNK);
      let skippedTail = false;
      if (!sparse && before.size <= BigInt(CHUNK)) {
        const buf = await input.readFile();
        hash.update(buf);
        if (buf.length > 0) await out.write(buf, 0, buf.length, 0);
        total = buf.length;
      } else {
        const buf = Buffer.allocUnsafe(CHUNK);
        for (;;) {
          const { bytesRead } = await input.read(buf, 0, CHUNK, total);
          if (bytesRead === 0) break;
          hash.update(buf.subarray(0, bytesRead));
          if (!sparse) await out.write(buf, 0, bytesRead, total);
          else {
            for (let off = 0; off < bytesRead; off += HOLE_BLOCK) {
              const n = Math.min(HOLE_BLOCK, bytesRead - off);
              skippedTail = allZero(buf, off, n);
              if (!skippedTail) await out.write(buf, off, n, total + off);
            }
          }
          total += bytesRead;
        }
        if (sparse && skippedTail) await out.truncate(total);
      }
    } finally {
      await out.close();
    }
    const after = await input.stat({ bigint: true });
    const fp = fingerprint(before);
    if (hashes && fp === fingerprint(after) && BigInt(total) === after.size && settledAt(before, scannedAtNs)) hashes.set(rel, { fingerprint: fp, sha256: hash.digest("hex") });
    else hashes?.delete(rel);
    return total;
  } finally {
    await input.close();
  }
}
