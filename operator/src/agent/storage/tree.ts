// Walks a directory tree without following symlinks or crossing into JuiceFS's virtual files.
import { promises as fs, type BigIntStats } from "node:fs";
import path from "node:path";
import { JUICEFS_INTERNAL_FILES } from "./layout.js";

export interface TreeEntry {
  /** Path relative to the tree root ("" for the root itself), "/"-separated, any bytes but "/" and NUL. */
  rel: string;
  stat: BigIntStats;
}

const SKIP_AT_ROOT = new Set<string>(JUICEFS_INTERNAL_FILES);

/** Depth-first, sorted by name, root first. */
export async function* walkTree(root: string): AsyncGenerator<TreeEntry> {
  const rootStat = await fs.lstat(root, { bigint: true });
  yield { rel: "", stat: rootStat };
  if (!rootStat.isDirectory()) return;
  const stack: string[] = [""];
  while (stack.length > 0) {
    const dirRel = stack.pop()!;
    const names = (await fs.readdir(path.join(root, dirRel))).sort();
    const subdirs: string[] = [];
    for (const name of names) {
      if (dirRel === "" && SKIP_AT_ROOT.has(name)) continue;
      const rel = dirRel === "" ? name : `${dirRel}/${name}`;
      let stat: BigIntStats;
      try {
        stat = await fs.lstat(path.join(root, rel), { bigint: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // removed while we walked
        throw e;
      }
      yield { rel, stat };
      if (stat.isDirectory()) subdirs.push(rel);
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}

export interface TreeTotals {
  files: number;
  bytes: number;
  /** Bytes allocated on disk (st_blocks * 512), what a copy needs at most. */
  allocatedBytes: number;
}

/** Counts every entry (files, directories, links) and the bytes of regular files. */
export async function treeTotals(root: string): Promise<TreeTotals> {
  let files = 0;
  let bytes = 0;
  let allocatedBytes = 0;
  for await (const e of walkTree(root)) {
    if (e.rel === "") continue;
    files++;
    if (e.stat.isFile()) {
      bytes += Number(e.stat.size);
      allocatedBytes += Number(e.stat.blocks) * 512;
    }
  }
  return { files, bytes, allocatedBytes };
}

/** A file name that is not valid UTF-8: Node's string paths cannot name it. */
export class UnsupportedNameError extends Error {
  constructor(readonly dir: string) {
    super(`${JSON.stringify(dir || ".")} holds a file name that is not valid UTF-8; the parallel copier and the verifier cannot address it`);
    this.name = "UnsupportedNameError";
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

export interface ScanOptions {
  /** readdir/lstat calls in flight (a FUSE mount answers each after a round trip to its metadata engine). */
  concurrency?: number;
}

/**
 * Every entry under `root` (root itself as ""), sorted by rel, lstat'ed in parallel. Entries that vanish
 * while scanning are left out; a name Node cannot address (not UTF-8) throws UnsupportedNameError.
 */
export async function scanTree(root: string, opts: ScanOptions = {}): Promise<Map<string, BigIntStats>> {
  const limit = opts.concurrency ?? 32;
  const out = new Map<string, BigIntStats>();
  const rootStat = await fs.lstat(root, { bigint: true });
  out.set("", rootStat);
  if (!rootStat.isDirectory()) return out;
  let level: string[] = [""];
  while (level.length > 0) {
    const listed: Array<{ dir: string; names: string[] }> = [];
    await forEachLimit(level, limit, async (dir) => {
      let names: string[];
      try {
        names = await fs.readdir(dir ? path.join(root, dir) : root);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return; // removed meanwhile
        throw e;
      }
      if (names.some((n) => n.includes("\uFFFD"))) {
        const raw = await fs.readdir(dir ? path.join(root, dir) : root, { encoding: "buffer" });
        if (raw.some((b) => !Buffer.from(b.toString("utf8"), "utf8").equals(b))) throw new UnsupportedNameError(dir);
      }
      listed.push({ dir, names: dir === "" ? names.filter((n) => !SKIP_AT_ROOT.has(n)) : names });
    });
    const rels = listed.flatMap(({ dir, names }) => names.map((n) => (dir ? `${dir}/${n}` : n)));
    const next: string[] = [];
    await forEachLimit(rels, limit, async (rel) => {
      try {
        const st = await fs.lstat(path.join(root, rel), { bigint: true });
        out.set(rel, st);
        if (st.isDirectory()) next.push(rel);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    });
    level = next;
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What identifies one version of a file's content: any write, truncate or replacement changes it (ctime cannot be set from user space). */
export function fingerprint(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/**
 * Whether a fingerprint taken at `atNs` (wall clock) can vouch for "unchanged since": its ctime must be
 * older than the clock's coarsest step, or a change in the same tick could leave ctime where it was.
 * Kernels stamp ctime from a clock that ticks in jiffies (≤ 10 ms); two seconds leaves room for that
 * and for a FUSE server's own clock.
 */
export const SETTLE_NS = 2_000_000_000n;
export function settledAt(st: BigIntStats, atNs: bigint): boolean {
  return st.ctimeNs <= atNs - SETTLE_NS;
}
