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
