// Builds the fixture Olares release deterministically (same bytes on every run and machine):
//   <out>/cdn/install-wizard-v<ver>.tar.gz + .md5sum.txt     what `olares-cli download wizard` fetches
//   <out>/cdn/<md5(filename)> + .checksum.txt (+ arm64/…)     components, as CDN objects
//   <out>/cdn/<md5(imageRef)>.tar.gz (+ arm64/…)              images: gzipped OCI archives made by us
//   <out>/cluster/kubesphere-crds.yaml                        what the K3s phase (ks-core) provides before the charts
// The tarball holds installation.manifest (8-field CSV, real MD5s of the files above), wizard/config/<dirs>,
// system-env.yaml, user-env.yaml and images/images.mf, as build/build.sh@7c2d6a23 assembles the real one.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { formatManifest, parseManifest, type ManifestItem } from "../../operator/src/contract/release/manifest.js";
import { wizardStem } from "../../operator/src/contract/release/layout.js";
import { fixtureCharts, type Files } from "./charts.js";
import { FIXTURE_APPS, HAMI_WORKLOADS, LAUNCHER_WORKLOADS, OS_FRAMEWORK_WORKLOADS, OS_PLATFORM_WORKLOADS, imageOf } from "./components.js";
import { SYSTEM_ENVS, USER_ENVS } from "./envs.js";
import { storageComponents, type FixtureComponent } from "./storage-components.js";

/** Fixed timestamp for every archive member: the output depends on the inputs only. */
const EPOCH = "@1700000000";

export const md5 = (data: string | Buffer): string => createHash("md5").update(data).digest("hex");
const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

function writeFiles(root: string, files: Files | Record<string, string | Buffer>, mode?: number): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content, mode === undefined ? undefined : { mode });
  }
}

/** Deterministic tar (sorted names, fixed owner and mtime) of `dir`'s entries, optionally gzipped (-n: no name/time). */
function tarOf(dir: string, entries: string[], gzip: boolean): Buffer {
  const tar = execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", `--mtime=${EPOCH}`, "--format=gnu", "-C", dir, "-cf", "-", ...entries], { maxBuffer: 256 * 1024 * 1024 });
  return gzip ? execFileSync("gzip", ["-n", "-9"], { input: tar, maxBuffer: 256 * 1024 * 1024 }) : tar;
}

/** A single-layer OCI image archive (the layout `skopeo copy … oci-archive:` writes), gzipped as upload-images.sh does. */
function ociArchive(work: string, ref: string, arch: "amd64" | "arm64"): Buffer {
  const dir = mkdtempSync(join(work, "oci-"));
  const layerDir = mkdtempSync(join(work, "layer-"));
  writeFiles(layerDir, { "fixture/IMAGE": `${ref} ${arch}\n` });
  const layerTar = tarOf(layerDir, ["fixture"], false);
  const layer = execFileSync("gzip", ["-n", "-9"], { input: layerTar });
  const config = JSON.stringify({ architecture: arch, os: "linux", config: { Entrypoint: ["/fixture/IMAGE"] }, rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layerTar)}`] } });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${sha256(config)}`, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${sha256(layer)}`, size: layer.length }],
  });
  const tag = ref.slice(ref.lastIndexOf(":") + 1);
  const index = JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${sha256(manifest)}`, size: manifest.length, annotations: { "org.opencontainers.image.ref.name": tag, "io.containerd.image.name": ref } }],
  });
  const blobs: Record<string, string | Buffer> = { [sha256(layer)]: layer, [sha256(config)]: config, [sha256(manifest)]: manifest };
  mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
  for (const [d, data] of Object.entries(blobs)) writeFileSync(join(dir, "blobs/sha256", d), data);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(join(dir, "index.json"), index);
  const out = tarOf(dir, ["blobs", "index.json", "oci-layout"], true);
  rmSync(dir, { recursive: true, force: true });
  rmSync(layerDir, { recursive: true, force: true });
  return out;
}

/** Every image the charts reference (build-manifest.py collects each `image:` line). */
export function fixtureImages(version: string): string[] {
  const names = [...OS_PLATFORM_WORKLOADS, ...OS_FRAMEWORK_WORKLOADS, ...LAUNCHER_WORKLOADS, ...HAMI_WORKLOADS].map((w) => w.name);
  return [...new Set([...names, ...FIXTURE_APPS].map((n) => imageOf(n, version)))].sort();
}

/** The real velero CLI (hack/velero-tools.sh builds it from its Go module once per machine). */
export function veleroCli(): { version: string; binary: Buffer } {
  const tools = join(dirname(fileURLToPath(import.meta.url)), "../velero-tools.sh");
  execFileSync("bash", [tools, "build"], { stdio: ["ignore", "ignore", "inherit"] });
  const version = execFileSync("bash", [tools, "version"]).toString().trim();
  return { version, binary: readFileSync(execFileSync("bash", [tools, "path"]).toString().trim()) };
}

let velero: { version: string; binary: Buffer } | undefined;

/**
 * Host binaries listed as components: olaresd (daemon/.goreleaser.yml@0776188a archive name; a stand-in
 * script) and velero (the real CLI, in upstream's release archive layout: the operator runs it).
 */
function fixtureComponents(version: string, storage = false): FixtureComponent[] {
  const script = (name: string, ver: string) => `#!/bin/sh\n# ${name} stand-in from the olares-operator fixture release\necho "${name} ${ver}"\n`;
  velero ??= veleroCli();
  const stem = `velero-v${velero.version}-linux-amd64`;
  return [
    { id: "olaresd", filename: `olaresd-v${version}-linux-amd64.tar.gz`, path: "pkg/components", files: { olaresd: script("olaresd", version) } },
    { id: "velero", filename: `${stem}.tar.gz`, path: "pkg/components", files: { [`${stem}/velero`]: velero.binary }, mode: 0o755 },
    // The storage variant only (the storage tier): JuiceFS, MinIO and Redis as installation.manifest lists them.
    ...(storage ? storageComponents() : []),
  ];
}

/** What the components are made of, for the cache key (the velero binary by digest). */
function componentsKey(version: string, storage: boolean): unknown {
  return fixtureComponents(version, storage).map((c) => ({ ...c, files: Object.fromEntries(Object.entries(c.files ?? {}).map(([k, v]) => [k, md5(v)])), raw: c.raw && md5(c.raw) }));
}

export interface FixtureRelease {
  version: string;
  root: string;
  cdnDir: string;
  tarball: string;
  tarballMd5: string;
  checksumFile: string;
  kubesphereCrds: string;
  manifest: ManifestItem[];
  images: string[];
}

function kubesphereCrds(): string {
  return `# Stand-in for what the K3s phase installs before the wizard charts (ks-core, embedded in olares-cli,
# cli/pkg/kubesphere/plugins/files/build/ks-core): the iam.kubesphere.io User CRD the account chart needs.
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: users.iam.kubesphere.io
spec:
  group: iam.kubesphere.io
  names: {kind: User, listKind: UserList, plural: users, singular: user}
  scope: Cluster
  versions:
    - name: v1alpha2
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;
}

/** Builds the release for `version` into `<outRoot>/v<version>` unless already built; returns its paths. */
export function buildFixtureRelease(version: string, outRoot: string, { force = false, storage = false } = {}): FixtureRelease {
  // The storage variant (JuiceFS, MinIO, Redis components too) lives apart: only the storage tier needs those tools built.
  const root = join(outRoot, storage ? `v${version}+storage` : `v${version}`);
  const cdnDir = join(root, "cdn");
  const stem = wizardStem(version);
  const tarball = join(cdnDir, `${stem}.tar.gz`);
  const checksumFile = join(cdnDir, `${stem}.md5sum.txt`);
  const ksFile = join(root, "cluster/kubesphere-crds.yaml");
  const doneMarker = join(root, ".complete");
  // The cache is keyed by what the fixture is made of, so a changed generator rebuilds it.
  const inputs = md5(JSON.stringify({ charts: fixtureCharts(version), SYSTEM_ENVS, USER_ENVS, images: fixtureImages(version), components: componentsKey(version, storage), ks: kubesphereCrds() }));
  if (!force && existsSync(doneMarker) && readFileSync(doneMarker, "utf8").trim() === inputs) return describe(version, root, cdnDir, tarball, checksumFile, ksFile);

  const staging = `${root}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, "cdn/arm64"), { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "olares-fixture-"));
  try {
    const items: ManifestItem[] = [];
    for (const c of fixtureComponents(version, storage)) {
      const dir = mkdtempSync(join(work, "comp-"));
      const files = c.files ?? {};
      writeFiles(dir, files, c.mode);
      for (const f of c.executables ?? []) chmodSync(join(dir, f), 0o755);
      const data = c.raw ?? tarOf(dir, Object.keys(files).map((f) => f.split("/")[0]!).filter((v, i, a) => a.indexOf(v) === i), true);
      const obj = md5(c.filename);
      const sum = md5(data);
      writeFileSync(join(staging, "cdn", obj), data);
      writeFileSync(join(staging, "cdn", `${obj}.checksum.txt`), `${sum}  ${obj}\n`);
      writeFileSync(join(staging, "cdn/arm64", obj), data);
      writeFileSync(join(staging, "cdn/arm64", `${obj}.checksum.txt`), `${sum}  ${obj}\n`);
      items.push({ filename: c.filename, path: c.path, type: "", urlAmd64: obj, checksumAmd64: sum, urlArm64: `arm64/${obj}`, checksumArm64: sum, fileId: c.id });
    }
    const images = fixtureImages(version);
    for (const ref of images) {
      const name = `${md5(ref)}.tar.gz`;
      const amd = ociArchive(work, ref, "amd64");
      const arm = ociArchive(work, ref, "arm64");
      writeFileSync(join(staging, "cdn", name), amd);
      writeFileSync(join(staging, "cdn/arm64", name), arm);
      items.push({ filename: name, path: "images", type: "images.mf", urlAmd64: name, checksumAmd64: md5(amd), urlArm64: `arm64/${name}`, checksumArm64: md5(arm), fileId: ref });
    }
    // The wizard tree.
    const tree = join(work, "wizard-tree");
    mkdirSync(tree);
    for (const [dir, files] of Object.entries(fixtureCharts(version))) writeFiles(join(tree, dir), files);
    writeFiles(tree, {
      "installation.manifest": formatManifest(items),
      "system-env.yaml": stringify({ apiVersion: "sys.bytetrade.io/v1alpha1", systemEnvs: SYSTEM_ENVS }),
      "user-env.yaml": stringify({ apiVersion: "v1", userEnvs: USER_ENVS }),
      "images/images.mf": images.join("\n") + "\n",
    });
    const wizard = tarOf(tree, ["images", "installation.manifest", "system-env.yaml", "user-env.yaml", "wizard"], true);
    writeFileSync(join(staging, "cdn", `${stem}.tar.gz`), wizard);
    writeFileSync(join(staging, "cdn", `${stem}.md5sum.txt`), `${md5(wizard)}  ${stem}.tar.gz\n`);
    writeFiles(staging, { "cluster/kubesphere-crds.yaml": kubesphereCrds(), ".complete": `${inputs}\n` });
    rmSync(root, { recursive: true, force: true });
    renameSync(staging, root);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
  return describe(version, root, cdnDir, tarball, checksumFile, ksFile);
}

function describe(version: string, root: string, cdnDir: string, tarball: string, checksumFile: string, kubesphereCrdsFile: string): FixtureRelease {
  const data = readFileSync(tarball);
  const listing = execFileSync("tar", ["-xzOf", tarball, "installation.manifest"], { maxBuffer: 64 * 1024 * 1024 }).toString();
  const manifest = parseManifest(listing);
  return {
    version,
    root,
    cdnDir,
    tarball,
    tarballMd5: md5(data),
    checksumFile,
    kubesphereCrds: kubesphereCrdsFile,
    manifest,
    images: manifest.filter((i) => i.type === "images.mf").map((i) => i.fileId),
  };
}
