// The wizard of one Olares version, fetched once from the CDN, a mirror or an airgap directory, checked
// against its published MD5 (.md5sum.txt, as `olares-cli download wizard`), unpacked into a versioned cache
// (<cache>/versions/v<ver>, the installer dir) and never fetched again once there.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { execa } from "execa";
import { parse } from "yaml";
import { MANIFEST_FILE, SYSTEM_ENV_FILE, USER_ENV_FILE, parseMd5SumFile, wizardArtifact } from "../contract/release/layout.js";
import { parseManifest, type ManifestItem } from "../contract/release/manifest.js";
import type { SystemEnvFile, UserEnvFile } from "../contract/release/system-env.js";
import { chartDigest } from "./chart-digest.js";

export type ReleaseOrigin =
  /** An HTTP(S) base: the official CDN or a mirror with the same layout. */
  | { kind: "url"; base: string; repoPath?: string }
  /** A local directory holding install-wizard-v<ver>.tar.gz and its .md5sum.txt (airgap). */
  | { kind: "dir"; path: string };

export class ReleaseArtifactError extends Error {
  override readonly name = "ReleaseArtifactError";
  constructor(readonly url: string, readonly reason: string) {
    super(`${url}: ${reason}`);
  }
}

export class ReleaseChecksumError extends Error {
  override readonly name = "ReleaseChecksumError";
  constructor(readonly url: string, readonly expected: string, readonly actual: string) {
    super(`${url}: MD5 ${actual} does not match the published ${expected}`);
  }
}

const MARKER = ".olares-wizard";

export interface UnpackedWizard {
  installerDir: string;
  md5: string;
  /** False when the cache already held it (steady state). */
  fetched: boolean;
}

function locations(origin: ReleaseOrigin, version: string): { tarball: string; checksum: string } {
  if (origin.kind === "dir") {
    const a = wizardArtifact("file://", version);
    return { tarball: join(origin.path, a.tarball), checksum: join(origin.path, a.checksumFile) };
  }
  const a = wizardArtifact(origin.base, version, { repoPath: origin.repoPath });
  return { tarball: a.tarballUrl, checksum: a.checksumUrl };
}

async function openSource(origin: ReleaseOrigin, where: string): Promise<Readable> {
  if (origin.kind === "dir") {
    if (!(await stat(where).catch(() => undefined))) throw new ReleaseArtifactError(where, "not found");
    return createReadStream(where);
  }
  let res: Response;
  try {
    res = await fetch(where, { redirect: "follow" });
  } catch (err) {
    throw new ReleaseArtifactError(where, `cannot be fetched: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new ReleaseArtifactError(where, `HTTP ${res.status}`);
  return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
}

async function readText(origin: ReleaseOrigin, where: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await openSource(origin, where)) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** The cached installer dir for `version`, if complete. */
export async function cachedWizard(cacheDir: string, version: string): Promise<UnpackedWizard | undefined> {
  const installerDir = join(cacheDir, "versions", `v${version}`);
  const md5 = await readFile(join(installerDir, MARKER), "utf8").catch(() => undefined);
  return md5 ? { installerDir, md5: md5.trim(), fetched: false } : undefined;
}

export async function ensureWizard(origin: ReleaseOrigin, version: string, cacheDir: string): Promise<UnpackedWizard> {
  const cached = await cachedWizard(cacheDir, version);
  if (cached) return cached;
  const where = locations(origin, version);
  const expected = parseMd5SumFile(await readText(origin, where.checksum));
  if (!expected) throw new ReleaseArtifactError(where.checksum, "holds no MD5 checksum");
  const downloads = join(cacheDir, "downloads");
  await mkdir(downloads, { recursive: true });
  const file = join(downloads, `install-wizard-v${version}.tar.gz.partial`);
  const hash = createHash("md5");
  const source = await openSource(origin, where.tarball);
  source.on("data", (c: Buffer) => hash.update(c));
  await pipeline(source, createWriteStream(file, { mode: 0o600 }));
  const actual = hash.digest("hex");
  if (actual !== expected) {
    await rm(file, { force: true });
    throw new ReleaseChecksumError(where.tarball, expected, actual);
  }
  const installerDir = join(cacheDir, "versions", `v${version}`);
  const staging = `${installerDir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  // GNU tar refuses absolute and ".." member names by default.
  const r = await execa("tar", ["-xzf", file, "-C", staging, "--no-same-owner", "--no-same-permissions"], { reject: false });
  if (r.exitCode !== 0) {
    await rm(staging, { recursive: true, force: true });
    throw new ReleaseArtifactError(where.tarball, `does not unpack: ${String(r.stderr).trim()}`);
  }
  await writeFile(join(staging, MARKER), `${actual}\n`);
  await rm(installerDir, { recursive: true, force: true });
  await rename(staging, installerDir);
  await rm(file, { force: true });
  return { installerDir, md5: actual, fetched: true };
}

/** What the controller needs from an unpacked release: chart digests, the manifest and the env files. */
export interface LoadedRelease {
  installerDir: string;
  charts: Record<string, string>;
  manifest: ManifestItem[];
  systemEnv?: SystemEnvFile;
  userEnv?: UserEnvFile;
}

async function chartDirs(installerDir: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(installerDir, rel), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = `${rel}/${e.name}`;
    if (await stat(join(installerDir, sub, "Chart.yaml")).catch(() => undefined)) out.push(sub);
    else out.push(...(await chartDirs(installerDir, sub)));
  }
  return out;
}

export async function loadRelease(installerDir: string): Promise<LoadedRelease> {
  const charts: Record<string, string> = {};
  for (const dir of (await chartDirs(installerDir, "wizard/config")).sort()) charts[dir] = await chartDigest(join(installerDir, dir));
  const manifestText = await readFile(join(installerDir, MANIFEST_FILE), "utf8").catch(() => "");
  const yamlOf = async <T>(f: string): Promise<T | undefined> => {
    const text = await readFile(join(installerDir, f), "utf8").catch(() => undefined);
    return text === undefined ? undefined : (parse(text) as T);
  };
  return {
    installerDir,
    charts,
    manifest: parseManifest(manifestText),
    systemEnv: await yamlOf<SystemEnvFile>(SYSTEM_ENV_FILE),
    userEnv: await yamlOf<UserEnvFile>(USER_ENV_FILE),
  };
}
