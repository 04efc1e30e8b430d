// The fixture release: built deterministically, laid out like the real one, every manifest checksum the
// MD5 of the file it names, images as OCI archives; fetched once into the versioned cache.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFixtureRelease } from "../../hack/fixture-release/build.js";
import { ReleaseArtifactError, ReleaseChecksumError, ensureWizard, loadRelease } from "../../operator/src/helm/release-cache.js";
import { copyCdn, fixture, serveDir, VERSION } from "./helpers.js";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

describe("fixture release (hack/fixture-release.ts)", function () {
  this.timeout(120_000);

  it("is byte-identical when built twice", () => {
    const a = mkdtempSync(join(tmpdir(), "fx-a-"));
    try {
      const one = buildFixtureRelease(VERSION, a);
      expect(one.tarballMd5).to.equal(fixture().tarballMd5);
    } finally {
      rmSync(a, { recursive: true, force: true });
    }
  });

  it("has the real layout: manifest, system-env, user-env and wizard/config/<chart dirs>", () => {
    const rel = fixture();
    const names = execFileSync("tar", ["-tzf", rel.tarball]).toString().split("\n");
    for (const p of ["installation.manifest", "system-env.yaml", "user-env.yaml", "images/images.mf", "wizard/config/account/Chart.yaml", "wizard/config/settings/Chart.yaml", "wizard/config/os-platform/Chart.yaml", "wizard/config/os-framework/Chart.yaml", "wizard/config/launcher/Chart.yaml", "wizard/config/gpu/hami/Chart.yaml", "wizard/config/apps/desktop/Chart.yaml", "wizard/config/apps/wizard/Chart.yaml"]) {
      expect(names, p).to.include(p);
    }
    expect(readFileSync(rel.checksumFile, "utf8")).to.equal(`${rel.tarballMd5}  install-wizard-v${VERSION}.tar.gz\n`);
  });

  it("lists every file with its real MD5, for both architectures", () => {
    const rel = fixture();
    expect(rel.images.length).to.be.greaterThan(30);
    for (const item of rel.manifest) {
      expect(md5(readFileSync(join(rel.cdnDir, item.urlAmd64))), item.fileId).to.equal(item.checksumAmd64);
      expect(md5(readFileSync(join(rel.cdnDir, item.urlArm64))), item.fileId).to.equal(item.checksumArm64);
    }
    const olaresd = rel.manifest.find((i) => i.fileId === "olaresd")!;
    expect(olaresd).to.deep.include({ filename: `olaresd-v${VERSION}-linux-amd64.tar.gz`, path: "pkg/components", type: "" });
    expect(olaresd.urlAmd64).to.equal(md5(Buffer.from(olaresd.filename)));
  });

  it("ships images as gzipped OCI archives whose index names the image", () => {
    const rel = fixture();
    const item = rel.manifest.find((i) => i.type === "images.mf")!;
    const dir = mkdtempSync(join(tmpdir(), "oci-"));
    try {
      execFileSync("tar", ["-xzf", join(rel.cdnDir, item.filename), "-C", dir]);
      const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
      expect(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8"))).to.deep.equal({ imageLayoutVersion: "1.0.0" });
      expect(index.manifests[0].annotations["io.containerd.image.name"]).to.equal(item.fileId);
      const manifestDigest = index.manifests[0].digest.replace("sha256:", "");
      const manifest = JSON.parse(readFileSync(join(dir, "blobs/sha256", manifestDigest), "utf8"));
      for (const d of [manifest.config, ...manifest.layers]) expect(existsSync(join(dir, "blobs/sha256", d.digest.replace("sha256:", "")))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("wizard cache (fetch once, verify MD5, unpack per version)", function () {
  this.timeout(60_000);

  it("unpacks into <cache>/versions/v<ver> and never fetches again", async () => {
    const cache = mkdtempSync(join(tmpdir(), "cache-"));
    const cdn = copyCdn();
    try {
      const first = await ensureWizard({ kind: "dir", path: cdn.dir }, VERSION, cache);
      expect(first.fetched).to.equal(true);
      expect(first.installerDir).to.equal(join(cache, "versions", `v${VERSION}`));
      rmSync(join(cdn.dir, `install-wizard-v${VERSION}.tar.gz`));
      const second = await ensureWizard({ kind: "dir", path: cdn.dir }, VERSION, cache);
      expect(second).to.deep.equal({ ...first, fetched: false });
      const loaded = await loadRelease(first.installerDir);
      expect(Object.keys(loaded.charts)).to.include.members(["wizard/config/account", "wizard/config/gpu/hami", "wizard/config/apps/wizard"]);
      expect(loaded.systemEnv?.systemEnvs.map((e) => e.envName)).to.include("OLARES_SYSTEM_CDN_SERVICE");
      expect(loaded.manifest.length).to.equal(fixture().manifest.length);
    } finally {
      rmSync(cache, { recursive: true, force: true });
      cdn.cleanup();
    }
  });

  it("refuses a tarball whose MD5 differs from the published one, naming both sums, and unpacks nothing", async () => {
    const cache = mkdtempSync(join(tmpdir(), "cache-"));
    const cdn = copyCdn();
    try {
      const tarball = join(cdn.dir, `install-wizard-v${VERSION}.tar.gz`);
      writeFileSync(tarball, Buffer.concat([readFileSync(tarball), Buffer.from("x")]));
      const err = await ensureWizard({ kind: "dir", path: cdn.dir }, VERSION, cache).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ReleaseChecksumError);
      const e = err as ReleaseChecksumError;
      expect(e.url).to.equal(tarball);
      expect(e.expected).to.equal(fixture().tarballMd5);
      expect(e.actual).to.equal(md5(readFileSync(tarball)));
      expect(e.message).to.include(e.expected).and.include(e.actual);
      expect(existsSync(join(cache, "versions", `v${VERSION}`))).to.equal(false);
    } finally {
      rmSync(cache, { recursive: true, force: true });
      cdn.cleanup();
    }
  });

  it("names the missing artifact", async () => {
    const cache = mkdtempSync(join(tmpdir(), "cache-"));
    try {
      const err = await ensureWizard({ kind: "dir", path: cache }, "1.12.99", cache).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ReleaseArtifactError);
      expect((err as Error).message).to.include("install-wizard-v1.12.99.md5sum.txt: not found");
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("fetches from an HTTP mirror once; a 404 names the URL", async () => {
    const cache = mkdtempSync(join(tmpdir(), "cache-"));
    const mirror = await serveDir(fixture().cdnDir);
    try {
      const w = await ensureWizard({ kind: "url", base: `${mirror.base}/` }, VERSION, cache);
      expect(w.fetched).to.equal(true);
      await ensureWizard({ kind: "url", base: mirror.base }, VERSION, cache);
      expect(mirror.hits.get(`/install-wizard-v${VERSION}.tar.gz`)).to.equal(1);
      const err = await ensureWizard({ kind: "url", base: mirror.base }, "1.12.98", cache).then(() => undefined, (e: unknown) => e);
      expect((err as Error).message).to.equal(`${mirror.base}/install-wizard-v1.12.98.md5sum.txt: HTTP 404`);
    } finally {
      await mirror.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
