// A data tree with everything a lossless copy must keep: ≥ 10k files in nested directories, symlinks
// (relative, absolute, dangling), hard links, sparse files, xattrs and ACLs, odd names (spaces,
// unicode, newlines, leading dashes, backslashes), empty files, special files, assorted owners, modes
// and nanosecond mtimes, and (optionally) files ≥ 100 MB.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";

export interface TreeSpec {
  files: number;
  /** Sizes of the big files in bytes (e.g. [110 * 2 ** 20]). */
  bigFiles?: number[];
  seed?: string;
}

export interface TreeSummary {
  entries: number;
  bytes: number;
}

const ODD_NAMES = [
  "with space.txt",
  "  leading and trailing  ",
  "-leading-dash",
  "--double-dash",
  "new\nline",
  "tab\there",
  "ünïcødé-文件-🎉.dat",
  "back\\slash",
  "quote'single\"double",
  "*glob?[x]",
  ".hidden",
  "$dollar`tick`",
];

/** Deterministic pseudo-random bytes (fast: sha256 counter mode over a seed). */
function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let off = 0;
  let i = 0;
  while (off < n) {
    const block = createHash("sha256").update(`${seed}:${i++}`).digest();
    off += block.copy(out, off);
  }
  return out;
}

export async function makeDataTree(root: string, spec: TreeSpec): Promise<TreeSummary> {
  const seed = spec.seed ?? "olares";
  await fs.mkdir(root, { recursive: true });
  const xattrDump: string[] = [];
  const dirs: string[] = [];
  // ~40 files per directory, three levels deep.
  const dirCount = Math.max(1, Math.ceil(spec.files / 40));
  for (let d = 0; d < dirCount; d++) {
    const rel = `apps/a${d % 7}/ns-${Math.floor(d / 7) % 13}/d${d}`;
    dirs.push(rel);
    await fs.mkdir(path.join(root, rel), { recursive: true });
  }
  let bytesTotal = 0;
  let made = 0;
  for (let i = 0; made < spec.files; i++) {
    const dir = dirs[i % dirs.length]!;
    const name = i % 97 === 0 ? `${ODD_NAMES[(i / 97) % ODD_NAMES.length]}-${i}` : `f${i}.bin`;
    const file = path.join(root, dir, name);
    const size = i % 50 === 0 ? 0 : i % 211 === 0 ? 300_000 + (i % 7) * 1000 : 64 + ((i * 7919) % 8192);
    await fs.writeFile(file, bytes(`${seed}:${i}`, size));
    bytesTotal += size;
    if (i % 13 === 0) await fs.chmod(file, 0o600);
    if (i % 17 === 0) await fs.chmod(file, 0o755);
    if (i % 19 === 0) await fs.chown(file, 1000 + (i % 3), 1000 + (i % 5));
    if (i % 23 === 0) xattrDump.push(`# file: ${escapeName(file)}`, `user.olares.i=0x${Buffer.from(String(i)).toString("hex")}`, `user.bin=0x00ff0a${(i % 256).toString(16).padStart(2, "0")}`, "");
    // Nanosecond mtimes (utimes takes fractional seconds; the kernel keeps what it can).
    const t = 1_700_000_000 + i + (i % 1000) / 1000 + 0.000123;
    await fs.utimes(file, t, t);
    made++;
  }
  // Hard links (groups of 2 and 3, across directories).
  for (let g = 0; g < 20; g++) {
    const a = path.join(root, dirs[g % dirs.length]!, `hl-${g}-a`);
    await fs.writeFile(a, bytes(`${seed}:hl:${g}`, 1000 + g));
    await fs.link(a, path.join(root, dirs[(g + 1) % dirs.length]!, `hl-${g}-b`));
    if (g % 2 === 0) await fs.link(a, path.join(root, dirs[(g + 2) % dirs.length]!, `hl-${g}-c`));
    bytesTotal += 1000 + g;
  }
  // Symlinks: relative, absolute (into the tree's own layout), dangling, to a directory, with odd names.
  await fs.mkdir(path.join(root, "links"), { recursive: true });
  await fs.symlink(`../${dirs[0]}/f0.bin`, path.join(root, "links", "relative"));
  await fs.symlink("/olares/rootfs/apps", path.join(root, "links", "absolute"));
  await fs.symlink("does/not/exist", path.join(root, "links", "dangling"));
  await fs.symlink(`../${dirs[1 % dirs.length]}`, path.join(root, "links", "to dir"));
  await fs.symlink("ünï\ncode target", path.join(root, "links", "-odd link\n"));
  for (let i = 0; i < 30; i++) await fs.symlink(`../${dirs[i % dirs.length]}/f${i}.bin`, path.join(root, "links", `l${i}`));
  await fs.lchown(path.join(root, "links", "relative"), 1001, 1002);
  // Sparse files: holes at the start, middle and end.
  await fs.mkdir(path.join(root, "sparse"), { recursive: true });
  for (const [name, size, at] of [
    ["hole-start", 64 << 20, (64 << 20) - 4096],
    ["hole-middle", 32 << 20, 0],
    ["hole-end", 16 << 20, 0],
  ] as const) {
    const fh = await fs.open(path.join(root, "sparse", name), "w");
    await fh.write(bytes(`${seed}:${name}`, 4096), 0, 4096, at);
    if (name === "hole-middle") await fh.write(bytes(`${seed}:${name}:2`, 4096), 0, 4096, size - 4096);
    await fh.truncate(size);
    await fh.close();
    bytesTotal += size;
  }
  // Big files.
  await fs.mkdir(path.join(root, "big"), { recursive: true });
  for (const [k, size] of (spec.bigFiles ?? []).entries()) {
    const fh = await fs.open(path.join(root, "big", `blob-${k}.bin`), "w");
    for (let off = 0; off < size; off += 8 << 20) await fh.write(randomBytes(Math.min(8 << 20, size - off)));
    await fh.close();
    bytesTotal += size;
  }
  // Modes on directories: sticky world-writable, private; a FIFO; empty directory.
  await fs.mkdir(path.join(root, "tmp-sticky"), { mode: 0o1777 });
  await fs.chmod(path.join(root, "tmp-sticky"), 0o1777);
  await fs.mkdir(path.join(root, "private"), { mode: 0o700 });
  await fs.mkdir(path.join(root, "empty-dir"));
  execFileSync("mkfifo", [path.join(root, "private", "a-fifo")]);
  await fs.writeFile(path.join(root, "private", "setuid-bin"), "#!/bin/sh\n");
  await fs.chmod(path.join(root, "private", "setuid-bin"), 0o4755);
  // xattrs in one setfattr pass; ACLs with setfacl.
  xattrDump.push(`# file: ${escapeName(path.join(root, "private"))}`, "user.dir=0x646972", "");
  const dumpFile = path.join(path.dirname(root), `.xattrs-${path.basename(root)}`);
  await fs.writeFile(dumpFile, xattrDump.join("\n") + "\n");
  execFileSync("setfattr", [`--restore=${dumpFile}`]);
  await fs.rm(dumpFile);
  execFileSync("setfacl", ["-m", "u:1000:rwx,g:1001:r-x", path.join(root, "private")]);
  execFileSync("setfacl", ["-m", "u:1002:r--", path.join(root, dirs[1 % dirs.length]!, "f1.bin")]);
  execFileSync("setfacl", ["-d", "-m", "u:1000:rwx", path.join(root, "tmp-sticky")]);

  let entries = 0;
  const count = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      entries++;
      if (e.isDirectory()) await count(path.join(d, e.name));
    }
  };
  await count(root);
  return { entries, bytes: bytesTotal };
}

/** getfattr/setfattr name escaping: octal for backslash, newline and other specials. */
function escapeName(p: string): string {
  return [...Buffer.from(p, "utf8")].map((b) => (b === 0x5c || b === 0x3d || b < 0x20 || b >= 0x7f ? `\\${b.toString(8).padStart(3, "0")}` : String.fromCharCode(b))).join("");
}

/** Checksums of a whole tree (rel → sha256 of content, or link target, or type), for before/after. */
export async function treeChecksums(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      if (rel === "" && [".accesslog", ".config", ".stats", ".trash", ".control"].includes(name)) continue;
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(root, r);
      const st = await fs.lstat(full);
      if (st.isDirectory()) {
        out.set(r, `dir ${st.mode & 0o7777}`);
        await walk(r);
      } else if (st.isSymbolicLink()) out.set(r, `link ${await fs.readlink(full)}`);
      else if (st.isFile()) out.set(r, `file ${createHash("sha256").update(await fs.readFile(full)).digest("hex")}`);
      else out.set(r, `special ${st.mode}`);
    }
  };
  await walk("");
  return out;
}
