// The copier: rsync -aHAX --numeric-ids (what olares-cli's enable-juicefs runs), plus --sparse so
// holes stay holes, --modify-window=-1 so times compare to the nanosecond, streamed so progress
// (bytes, files) reaches the migration state as it goes.
import { execa, type ResultPromise } from "execa";
import { hostArgv } from "../host/host.js";
import { HOST_PATH } from "../host/exec.js";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { Host } from "../host/types.js";
import { JUICEFS_INTERNAL_FILES, JUICEFS_INTERNAL_XATTRS } from "./layout.js";
import { walkTree } from "./tree.js";

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
