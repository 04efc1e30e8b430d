// An airgap directory holding the fixture releases plus one broken on purpose: `version` is the fixture
// `base` with one chart failing to render (a template that calls `fail`), packed and checksummed as the
// real wizard is, so the operator fetches and verifies it like any release and helm is what refuses it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wizardStem } from "../../operator/src/contract/release/layout.js";
import { fixture } from "./helpers.js";

export interface BrokenAirgap {
  dir: string;
  /** What the broken chart's `fail` prints (helm's error carries it). */
  failure: string;
  cleanup(): void;
}

/** Symlinks every file of a fixture's CDN dir into `dir` (same layout; a name already there is the same object). */
export function linkCdn(cdnDir: string, dir: string): void {
  for (const e of readdirSync(cdnDir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      mkdirSync(join(dir, e.name), { recursive: true });
      linkCdn(join(cdnDir, e.name), join(dir, e.name));
    } else if (!lstatSync(join(dir, e.name), { throwIfNoEntry: false })) symlinkSync(join(cdnDir, e.name), join(dir, e.name));
  }
}

export function airgapWithBrokenRelease(opts: { versions: string[]; base: string; version: string; chartDir: string }): BrokenAirgap {
  const dir = mkdtempSync(join(tmpdir(), "olares-airgap-"));
  // Each release's CDN objects too (components, images, arm64/): an airgap directory has the CDN's layout.
  for (const v of opts.versions) linkCdn(fixture(v).cdnDir, dir);
  const work = mkdtempSync(join(tmpdir(), "olares-broken-"));
  const failure = `fixture: ${opts.chartDir} of ${opts.version} is broken on purpose`;
  try {
    execFileSync("tar", ["-xzf", fixture(opts.base).tarball, "-C", work]);
    writeFileSync(join(work, opts.chartDir, "templates/broken.yaml"), `{{ fail ${JSON.stringify(failure)} }}\n`);
    const stem = wizardStem(opts.version);
    const tarball = join(dir, `${stem}.tar.gz`);
    execFileSync("tar", ["-czf", tarball, "-C", work, "."]);
    const md5 = createHash("md5").update(readFileSync(tarball)).digest("hex");
    writeFileSync(join(dir, `${stem}.md5sum.txt`), `${md5}  ${stem}.tar.gz\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { dir, failure, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
