// Extended attributes of a whole tree in one `getfattr` pass (Node has no xattr API). Covers every
// namespace getfattr can read (user, trusted, security, system.posix_acl_* — i.e. ACLs too).
import path from "node:path";
import type { Host } from "../host/types.js";
import type { FileAttrs } from "./file-attrs.js";
import { forEachLimit } from "./tree.js";
import { JUICEFS_INTERNAL_FILES, JUICEFS_INTERNAL_XATTRS } from "./layout.js";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** rel path → attribute name → hex value ("0x…"). Paths without attributes are absent. */
export type TreeXattrs = Map<string, Map<string, string>>;

/** getfattr escapes file names: "\\ooo" octal for newline, backslash and other specials. */
export function unescapeGetfattrName(s: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, "utf8");
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x5c && i + 3 < raw.length + 0 && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString("latin1"))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString("latin1"), 8));
      i += 3;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Parses `getfattr -R -P -h -d -m - -e hex --absolute-names <dir>` run with cwd-free absolute `dir`. */
export function parseGetfattrDump(dump: string, dir: string): TreeXattrs {
  const out: TreeXattrs = new Map();
  let current: Map<string, string> | undefined;
  const prefix = dir.endsWith("/") ? dir : dir + "/";
  for (const line of dump.split("\n")) {
    if (line.startsWith("# file: ")) {
      const name = unescapeGetfattrName(line.slice(8));
      const rel = name === dir || name === prefix ? "" : name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
      if (rel === undefined) throw new Error(`getfattr reported ${JSON.stringify(name)} outside ${dir}`);
      current = new Map();
      out.set(rel, current);
    } else if (line !== "" && current) {
      const eq = line.indexOf("=");
      if (eq > 0) current.set(line.slice(0, eq), line.slice(eq + 1));
      else current.set(line, "");
    }
  }
  return out;
}

/** Reads every xattr under `dir` (a host path). Exit 1 with only "Operation not supported" lines means none. */
export async function readTreeXattrs(host: Host, dir: string): Promise<TreeXattrs> {
  const r = await host.run(["getfattr", "-R", "-P", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", dir], { timeoutMs: 30 * 60_000 });
  if (r.exitCode === 127) throw new Error("getfattr is not installed on the host (Debian/Ubuntu package attr); the verifier needs it to compare xattrs");
  // JuiceFS's virtual files at the mount root answer "No such attribute"; vanished files are not errors.
  const virtual = new RegExp(`^getfattr: ${escapeRegExp(dir.replace(/\/$/, ""))}/(${JUICEFS_INTERNAL_FILES.map(escapeRegExp).join("|")})(/|:)`);
  const errors = r.stderr
    .split("\n")
    .filter((l) => l.trim() !== "" && !virtual.test(l) && !/Operation not supported|No such file or directory/.test(l));
  if (r.exitCode !== 0 && errors.length > 0) throw new Error(`getfattr ${dir} exited ${r.exitCode}: ${errors.slice(0, 3).join(" | ")}`);
  const tree = parseGetfattrDump(r.stdout, dir);
  for (const names of tree.values()) for (const x of JUICEFS_INTERNAL_XATTRS) names.delete(x);
  return tree;
}

/**
 * The same map as readTreeXattrs, for the given entries of `localRoot` (the agent's path), read many at
 * once by the helpers: one llistxattr (+ lgetxattr per name) per entry and no second stat, which
 * through FUSE is the difference between one and two round trips per entry, in parallel.
 */
export async function readXattrsOf(attrs: FileAttrs, localRoot: string, rels: Iterable<string>, concurrency = 64): Promise<TreeXattrs> {
  const out: TreeXattrs = new Map();
  await forEachLimit([...rels], concurrency, async (rel) => {
    const m = await attrs.listXattrs(rel ? path.join(localRoot, rel) : localRoot);
    if (!m) return;
    for (const x of JUICEFS_INTERNAL_XATTRS) m.delete(x);
    if (m.size > 0) out.set(rel, m);
  });
  return out;
}
