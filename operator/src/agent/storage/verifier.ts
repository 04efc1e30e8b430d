// The verifier: every entry of two trees compared — type, content hash, size, mode, owner, mtime (ns),
// symlink target, device numbers, hard-link groups, xattrs (incl. ACLs) and sparseness — with each
// mismatch reported by path and field.
import { createHash } from "node:crypto";
import type { BigIntStats } from "node:fs";
import path from "node:path";
import { promises as fs } from "node:fs";
import type { Host } from "../host/types.js";
import { JUICEFS_INTERNAL_FILES } from "./layout.js";
import type { SourceHashes } from "./copier.js";
import { fingerprint, forEachLimit, scanTree, settledAt } from "./tree.js";
import { FileAttrs } from "./file-attrs.js";
import { readTreeXattrs, readXattrsOf, type TreeXattrs } from "./xattrs.js";

export interface TreeRef {
  /** Host path (what host commands see). */
  hostPath: string;
  /** The same tree in the agent's filesystem (host.hostPath of it). */
  localPath: string;
}

export interface Mismatch {
  path: string;
  field: "missing" | "extra" | "type" | "size" | "content" | "mode" | "owner" | "mtime" | "symlink" | "rdev" | "hardlink" | "xattr" | "sparse";
  source?: string;
  destination?: string;
}

export interface VerifyReport {
  entries: number;
  files: number;
  bytes: number;
  mismatches: Mismatch[];
  /** Total mismatches found; `mismatches` keeps the first `maxReported`. */
  mismatchCount: number;
  durationMs: number;
  /** Files found equal, with both fingerprints: the baseline of a later incremental verify. */
  baseline?: VerifyBaseline;
  /** Files whose content was read (both sides, or the destination with a reused source hash). */
  hashed?: number;
  reusedSourceHashes?: number;
  /** Files not re-read: equal at the baseline and unchanged on both sides since. */
  unchangedSinceBaseline?: number;
}

export interface VerifyOptions {
  /** Whether the destination keeps holes (probe it with supportsHoles); sparseness is only checked then. */
  checkSparse?: boolean;
  maxReported?: number;
  /** Files hashed at once. */
  concurrency?: number;
  /** readdir/lstat calls in flight per tree. */
  scanConcurrency?: number;
  /** Hashes the copier took of source files; reused while a file's fingerprint is unchanged. */
  sourceHashes?: SourceHashes;
  /**
   * A previous verify's baseline: a file in it whose two fingerprints are unchanged is not read again
   * (every entry's metadata is still compared in full).
   */
  baseline?: VerifyBaseline;
  /** Helpers for reading xattrs (default: started and stopped by this call). */
  attrs?: FileAttrs;
  /**
   * The caller guarantees nothing changes the destination within SETTLE_NS after this verify ends (the
   * migration waits that long before FinalSync): a destination file's fingerprint then vouches for it
   * however recent its ctime. (The source is written by workloads meanwhile: its files must be settled.)
   */
  destinationQuietAfter?: boolean;
  onProgress?: (p: { files: number; bytes: number }) => void;
}

function kind(st: BigIntStats): string {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "char-device";
  if (st.isBlockDevice()) return "block-device";
  return "other";
}

const isSparse = (st: BigIntStats) => st.isFile() && st.size > 0n && st.blocks * 512n + 4096n <= st.size;
const internal = new Set<string>(JUICEFS_INTERNAL_FILES);
const isInternal = (rel: string) => internal.has(rel.split("/")[0]!);
const octal = (n: bigint) => (Number(n) & 0o7777).toString(8).padStart(4, "0");

/** Files whose content a verify found equal, with both sides' fingerprints then (see incremental verify). */
export type VerifyBaseline = Map<string, { source: string; destination: string }>;

export async function verifyTrees(host: Host, source: TreeRef, destination: TreeRef, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const started = Date.now();
  const maxReported = opts.maxReported ?? 200;
  const mismatches: Mismatch[] = [];
  let mismatchCount = 0;
  const report = (m: Mismatch) => {
    mismatchCount++;
    if (mismatches.length < maxReported) mismatches.push(m);
  };

  // Both trees' metadata at once: every entry's lstat, then every entry's xattrs (by the helpers, many
  // at once; one getfattr pass per tree where they cannot run), both trees in parallel.
  // When the scan starts: what "settled" is measured against (a ctime older than this by SETTLE_NS).
  const scannedAtNs = BigInt(Date.now()) * 1_000_000n;
  const [srcTree, dst] = await Promise.all([
    scanTree(source.localPath, { concurrency: opts.scanConcurrency }),
    scanTree(destination.localPath, { concurrency: opts.scanConcurrency }),
  ]);
  for (const rel of dst.keys()) if (isInternal(rel)) dst.delete(rel);
  let attrs = opts.attrs;
  let ownAttrs: FileAttrs | undefined;
  if (!attrs && FileAttrs.supported()) attrs = ownAttrs = await FileAttrs.start(8).catch(() => undefined);
  let srcX: TreeXattrs;
  let dstX: TreeXattrs;
  try {
    [srcX, dstX] = attrs
      ? await Promise.all([readXattrsOf(attrs, source.localPath, srcTree.keys()), readXattrsOf(attrs, destination.localPath, dst.keys())])
      : await Promise.all([readTreeXattrs(host, source.hostPath), readTreeXattrs(host, destination.hostPath)]);
  } finally {
    await ownAttrs?.close();
  }

  // Hard-link groups: source inode → first path; the destination must map them to one inode too.
  const srcLinkGroups = new Map<bigint, { first: string; dstIno?: bigint }>();
  const hashJobs: Array<{ rel: string; size: bigint; s: BigIntStats; d: BigIntStats }> = [];
  const baseline: VerifyBaseline = new Map();
  let entries = 0;
  let files = 0;
  let bytes = 0;
  let reused = 0;
  let skipped = 0;
  const links: Array<{ rel: string; shown: string }> = [];

  for (const [rel, s] of srcTree) {
    if (isInternal(rel)) continue;
    entries++;
    const d = dst.get(rel);
    const shown = rel === "" ? "." : rel;
    if (!d) {
      report({ path: shown, field: "missing", source: kind(s) });
      continue;
    }
    dst.delete(rel);
    if (kind(s) !== kind(d)) {
      report({ path: shown, field: "type", source: kind(s), destination: kind(d) });
      continue;
    }
    if ((s.mode & 0o7777n) !== (d.mode & 0o7777n)) report({ path: shown, field: "mode", source: octal(s.mode), destination: octal(d.mode) });
    if (s.uid !== d.uid || s.gid !== d.gid) report({ path: shown, field: "owner", source: `${s.uid}:${s.gid}`, destination: `${d.uid}:${d.gid}` });
    if (s.mtimeNs !== d.mtimeNs) report({ path: shown, field: "mtime", source: String(s.mtimeNs), destination: String(d.mtimeNs) });
    compareXattrs(rel, shown, srcX, dstX, report);
    if (s.isSymbolicLink()) {
      links.push({ rel, shown });
    } else if (s.isCharacterDevice() || s.isBlockDevice()) {
      if (s.rdev !== d.rdev) report({ path: shown, field: "rdev", source: String(s.rdev), destination: String(d.rdev) });
    } else if (s.isFile()) {
      files++;
      bytes += Number(s.size);
      if (s.nlink > 1n) {
        const g = srcLinkGroups.get(s.ino);
        if (!g) srcLinkGroups.set(s.ino, { first: rel, dstIno: d.ino });
        else if (g.dstIno !== d.ino) report({ path: shown, field: "hardlink", source: `linked to ${g.first}`, destination: "a separate file" });
      }
      if (s.nlink !== d.nlink) report({ path: shown, field: "hardlink", source: `${s.nlink} links`, destination: `${d.nlink} links` });
      if (s.size !== d.size) {
        report({ path: shown, field: "size", source: String(s.size), destination: String(d.size) });
        continue;
      }
      if (opts.checkSparse && isSparse(s) && !isSparse(d)) {
        report({ path: shown, field: "sparse", source: `${s.blocks * 512n} of ${s.size} bytes allocated`, destination: `${d.blocks * 512n} allocated` });
      }
      // Incremental: content found equal before, and neither side changed since (same dev, inode, size,
      // mtime and ctime — any write, truncate or replacement moves ctime, which user space cannot set back).
      const before = opts.baseline?.get(rel);
      const fs_ = fingerprint(s);
      const fd = fingerprint(d);
      if (before && before.source === fs_ && before.destination === fd) {
        skipped++;
        baseline.set(rel, before);
        continue;
      }
      hashJobs.push({ rel, size: s.size, s, d });
    }
  }
  for (const [rel, d] of dst) report({ path: rel === "" ? "." : rel, field: "extra", destination: kind(d) });
  const limit = opts.concurrency ?? 16;
  await forEachLimit(links, limit, async ({ rel, shown }) => {
    const [a, b] = await Promise.all([fs.readlink(path.join(source.localPath, rel)), fs.readlink(path.join(destination.localPath, rel))]);
    if (a !== b) report({ path: shown, field: "symlink", source: a, destination: b });
  });

  // Content: both sides hashed (the source's hash reused while its fingerprint is the one it had when
  // the copier hashed it), many files at once.
  let hashedFiles = 0;
  let hashedBytes = 0;
  await forEachLimit(hashJobs, limit, async (job) => {
    const known = opts.sourceHashes?.get(job.rel);
    const useKnown = known !== undefined && known.fingerprint === fingerprint(job.s);
    if (useKnown) reused++;
    const [a, b] = await Promise.all([
      useKnown ? Promise.resolve({ sha256: known.sha256, stable: true, fp: known.fingerprint }) : hashFile(path.join(source.localPath, job.rel), job.s, scannedAtNs, true),
      hashFile(path.join(destination.localPath, job.rel), job.d, opts.destinationQuietAfter ? undefined : scannedAtNs, false),
    ]);
    if (a.sha256 !== b.sha256) report({ path: job.rel, field: "content", source: `sha256:${a.sha256}`, destination: `sha256:${b.sha256}` });
    else if (a.stable && b.stable) baseline.set(job.rel, { source: a.fp, destination: b.fp });
    hashedFiles++;
    hashedBytes += Number(job.size);
    opts.onProgress?.({ files: hashedFiles, bytes: hashedBytes });
  });

  return { entries, files, bytes, mismatches, mismatchCount, durationMs: Date.now() - started, baseline, hashed: hashJobs.length, reusedSourceHashes: reused, unchangedSinceBaseline: skipped };
}

/**
 * sha256 of a file, and whether it held still while read: the fingerprint from the scan, from fstat
 * before reading and after must all agree (a file written meanwhile is hashed but not trusted later).
 */
async function hashFile(file: string, scanned: BigIntStats, scannedAtNs: bigint | undefined, syncFirst: boolean): Promise<{ sha256: string; stable: boolean; fp: string }> {
  const fh = await fs.open(file, "r");
  try {
    // Dirty pages of a shared mapping written back first: a later write through it faults and moves ctime.
    if (syncFirst) await fh.datasync().catch(() => {});
    const h = createHash("sha256");
    if (scanned.size <= 4n << 20n) h.update(await fh.readFile());
    else {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0; ; ) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
    }
    // Unchanged from the scan to the end of the read: the same fingerprint, with a ctime old enough at the
    // scan that any later change must have moved it (see settledAt).
    const fp = fingerprint(scanned);
    // A quiet side (nothing writes it: the caller's guarantee) needs no second look; through FUSE that is a round trip per file.
    if (scannedAtNs === undefined) return { sha256: h.digest("hex"), stable: true, fp };
    const after = await fh.stat({ bigint: true });
    return { sha256: h.digest("hex"), stable: fp === fingerprint(after) && settledAt(scanned, scannedAtNs), fp };
  } finally {
    await fh.close();
  }
}

function compareXattrs(rel: string, shown: string, srcX: TreeXattrs, dstX: TreeXattrs, report: (m: Mismatch) => void): void {
  const a = srcX.get(rel) ?? new Map<string, string>();
  const b = dstX.get(rel) ?? new Map<string, string>();
  for (const [name, value] of a) {
    const other = b.get(name);
    if (other === undefined) report({ path: shown, field: "xattr", source: `${name}=${value}`, destination: `${name} missing` });
    else if (other !== value) report({ path: shown, field: "xattr", source: `${name}=${value}`, destination: `${name}=${other}` });
  }
  for (const [name, value] of b) if (!a.has(name)) report({ path: shown, field: "xattr", source: `${name} missing`, destination: `${name}=${value}` });
}

/** One line per mismatch, for logs, Events and the Degraded message. */
export function describeMismatches(r: VerifyReport, limit = 5): string {
  const shown = r.mismatches.slice(0, limit).map((m) => `${JSON.stringify(m.path)}: ${m.field}${m.source || m.destination ? ` (source ${m.source ?? "-"}, destination ${m.destination ?? "-"})` : ""}`);
  const more = r.mismatchCount - shown.length;
  return `${r.mismatchCount} mismatch(es) over ${r.entries} entries: ${shown.join("; ")}${more > 0 ? `; and ${more} more` : ""}`;
}

/** Whether a directory's filesystem keeps holes: writes a 1 MiB sparse probe and looks at its blocks. */
export async function supportsHoles(localDir: string): Promise<boolean> {
  const probe = path.join(localDir, `.olares-sparse-probe-${process.pid}`);
  const fh = await fs.open(probe, "w", 0o600);
  try {
    await fh.write(Buffer.from("x"), 0, 1, 1024 * 1024 - 1);
    await fh.sync();
    const st = await fh.stat({ bigint: true });
    return st.blocks * 512n < 1024n * 1024n;
  } finally {
    await fh.close();
    await fs.rm(probe, { force: true });
  }
}
