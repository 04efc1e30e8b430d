// Fetching one installation.manifest file for this node's architecture into the host's download cache
// (<baseDir>/<path>/<filename>), as olares-cli's download does: a cached file whose MD5 is the
// manifest's is used as is; anything else is downloaded again and checked.
import { createHash } from "node:crypto";
import type { ReleaseFile, ReleaseFileSource } from "../../contract/index.js";
import { download, releaseArch } from "./binary.js";
import type { TaskContext } from "./types.js";

export const md5 = (data: Buffer): string => createHash("md5").update(data).digest("hex");

export function sourceFor(file: ReleaseFile, arch = releaseArch()): ReleaseFileSource {
  const s = arch === "arm64" ? file.arm64 : file.amd64;
  if (!s) throw new Error(`${file.filename}: the manifest has no ${arch} download`);
  return s;
}

export function cachePath(baseDir: string, file: ReleaseFile): string {
  return `${baseDir}/${file.path}/${file.filename}`;
}

/** The cached file when its MD5 matches the manifest (no download), else undefined. */
export async function cachedReleaseFile(ctx: TaskContext, baseDir: string, file: ReleaseFile): Promise<Buffer | undefined> {
  const data = await ctx.host.read(cachePath(baseDir, file));
  return data && md5(data) === sourceFor(file).md5 ? data : undefined;
}

export async function fetchReleaseFile(ctx: TaskContext, baseDir: string, file: ReleaseFile): Promise<{ data: Buffer; downloaded: boolean }> {
  const cached = await cachedReleaseFile(ctx, baseDir, file);
  if (cached) return { data: cached, downloaded: false };
  const src = sourceFor(file);
  const data = await download(src.url);
  const got = md5(data);
  if (got !== src.md5) throw new Error(`download ${src.url}: MD5 ${got} does not match the manifest's ${src.md5}`);
  await ctx.host.writeFile(cachePath(baseDir, file), data, { mode: 0o644 });
  return { data, downloaded: true };
}
