// The release's velero CLI (installation.manifest's `velero` component), run as olares-cli runs it but with
// --dry-run / -o yaml, so it only prints the objects `velero install` and `velero backup-location create`
// would create; the operator applies them (render/releases/velero.ts). The component is fetched once into
// the installer dir (<installerDir>/<path>/<filename>, as `olares-cli download component`), checked against
// the manifest's MD5; what the CLI printed is kept beside it, so steady state runs nothing.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { execa } from "execa";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../contract/objects.js";
import type { ReleaseVeleroFacts } from "../contract/release/facts.js";
import { findItem, isImageItem, itemDownloadUrl, itemFilePath, itemSourceForArch, type Arch, type ManifestItem } from "../contract/release/manifest.js";
import { ReleaseArtifactError, ReleaseChecksumError, type ReleaseOrigin } from "./release-cache.js";

export function hostArch(): Arch {
  return process.arch === "arm64" ? "arm64" : "amd64";
}

async function md5Of(file: string): Promise<string | undefined> {
  if (!(await stat(file).catch(() => undefined))?.isFile()) return undefined;
  const hash = createHash("md5");
  for await (const c of createReadStream(file)) hash.update(c as Buffer);
  return hash.digest("hex");
}

async function download(origin: ReleaseOrigin, relative: string, to: string, expected: string): Promise<void> {
  const where = origin.kind === "dir" ? join(origin.path, relative) : itemDownloadUrl(origin.base, relative);
  let source: Readable;
  if (origin.kind === "dir") {
    if (!(await stat(where).catch(() => undefined))?.isFile()) throw new ReleaseArtifactError(where, "not found");
    source = createReadStream(where);
  } else {
    const res = await fetch(where, { redirect: "follow" }).catch((err: Error) => {
      throw new ReleaseArtifactError(where, `cannot be fetched: ${err.cause instanceof Error ? err.cause.message : err.message}`);
    });
    if (!res.ok || !res.body) throw new ReleaseArtifactError(where, `HTTP ${res.status}`);
    source = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
  }
  const partial = `${to}.partial`;
  const hash = createHash("md5");
  source.on("data", (c: Buffer) => hash.update(c));
  await pipeline(source, createWriteStream(partial, { mode: 0o600 }));
  const actual = hash.digest("hex");
  if (actual !== expected) {
    await rm(partial, { force: true });
    throw new ReleaseChecksumError(where, expected, actual);
  }
  await rename(partial, to);
}

async function findFile(dir: string, name: string): Promise<string | undefined> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const found = await findFile(p, name);
      if (found) return found;
    } else if (e.name === name) return p;
  }
  return undefined;
}

/** The objects a `-o yaml` print holds (a List's items, or the documents). */
function objectsOf(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as (KubeObject & { items?: KubeObject[] }) | null;
    if (!o) continue;
    if (o.kind === "List" || o.kind?.endsWith("List")) out.push(...(o.items ?? []));
    else out.push(o);
  }
  return out;
}

export interface VeleroCliInput {
  /** The manifest's component id. */
  component: string;
  /** The installer's `velero install` and `velero backup-location create` arguments (render's). */
  installArgs: readonly string[];
  backupLocationArgs: readonly string[];
  origin: ReleaseOrigin;
  installerDir: string;
  manifest: readonly ManifestItem[];
  arch?: Arch;
}

/** What the release's velero CLI prints for the installer's two commands (cached per component MD5). */
export async function veleroObjects(input: VeleroCliInput): Promise<ReleaseVeleroFacts> {
  const item = findItem(input.manifest, input.component);
  if (!item || isImageItem(item)) throw new ReleaseArtifactError(`${input.installerDir}/installation.manifest`, `lists no ${input.component} component`);
  const arch = input.arch ?? hostArch();
  const src = itemSourceForArch(item, arch);
  if (!src?.checksum) throw new ReleaseArtifactError(`${input.installerDir}/installation.manifest`, `component ${input.component} has no ${arch} download`);
  // Keyed by the binary and the arguments: other flags (a new release's) run the CLI again.
  const key = createHash("md5").update(src.checksum).update(JSON.stringify([input.installArgs, input.backupLocationArgs])).digest("hex");
  const outDir = join(input.installerDir, ".velero", key);
  const installFile = join(outDir, "install.yaml");
  const bslFile = join(outDir, "backup-location.yaml");
  const cached = await Promise.all([readFile(installFile, "utf8").catch(() => undefined), readFile(bslFile, "utf8").catch(() => undefined)]);
  if (cached[0] !== undefined && cached[1] !== undefined) return facts(cached[0], cached[1], item.filename);

  const archive = itemFilePath(input.installerDir, item);
  await mkdir(join(archive, ".."), { recursive: true });
  if ((await md5Of(archive)) !== src.checksum) await download(input.origin, src.url, archive, src.checksum);
  await mkdir(outDir, { recursive: true });
  const work = await mkdtemp(join(outDir, "run-"));
  try {
    const unpacked = await execa("tar", ["-xzf", archive, "-C", work, "--no-same-owner"], { reject: false });
    if (unpacked.exitCode !== 0) throw new ReleaseArtifactError(archive, `does not unpack: ${String(unpacked.stderr).trim()}`);
    const bin = await findFile(work, "velero");
    if (!bin) throw new ReleaseArtifactError(archive, "holds no velero binary");
    // No cluster in reach: no kubeconfig, no in-cluster service env, a private HOME for its config.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, KUBECONFIG: join(work, "no-kubeconfig") };
    const run = async (args: string[]) => {
      const r = await execa(bin, args, { env, extendEnv: false, reject: false, timeout: 60_000 });
      if (r.exitCode !== 0) throw new ReleaseArtifactError(archive, `velero ${args.slice(0, 2).join(" ")} failed: ${String(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ")}`);
      return String(r.stdout);
    };
    const install = await run([...input.installArgs, "--dry-run", "-o", "yaml"]);
    const bsl = await run([...input.backupLocationArgs, "-o", "yaml"]);
    const result = facts(install, bsl, item.filename);
    await writeFile(`${installFile}.partial`, install);
    await writeFile(bslFile, bsl);
    await rename(`${installFile}.partial`, installFile);
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function facts(install: string, bsl: string, component: string): ReleaseVeleroFacts {
  const objects = objectsOf(install);
  const backupLocation = objectsOf(bsl)[0];
  if (objects.length === 0 || !backupLocation) throw new ReleaseArtifactError(component, "velero printed no objects");
  return { install: objects, backupLocation, component };
}
