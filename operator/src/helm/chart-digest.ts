// Digest of a chart directory (or .tgz): sha256 over every file's relative path and bytes, sorted, so the
// same chart always hashes the same wherever it is unpacked.
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

export class ChartNotFoundError extends Error {
  override readonly name = "ChartNotFoundError";
  constructor(readonly path: string) {
    super(`chart ${path} not found (no Chart.yaml): the release does not contain it`);
  }
}

export async function chartDigest(path: string): Promise<string> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new ChartNotFoundError(path);
  const h = createHash("sha256");
  if (st.isFile()) return `sha256:${h.update(await readFile(path)).digest("hex")}`;
  if (!(await stat(join(path, "Chart.yaml")).catch(() => undefined))) throw new ChartNotFoundError(path);
  const files = (await filesUnder(path)).map((f) => relative(path, f)).sort();
  for (const f of files) {
    const data = await readFile(join(path, f));
    h.update(f).update("\0").update(String(data.length)).update("\0").update(data);
  }
  return `sha256:${h.digest("hex")}`;
}
