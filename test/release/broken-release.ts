// An airgap directory holding the fixture releases plus one broken on purpose: `version` is the fixture
// `base` with one chart failing to render (a template that calls `fail`), packed and checksummed as the
// real wizard is, so the operator fetches and verifies it like any release and helm is what refuses it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { wizardStem } from "../../operator/src/contract/release/layout.js";
import { fixture } from "./helpers.js";

export interface BrokenAirgap {
  dir: string;
  /** What the broken chart's `fail` prints (helm's error carries it). */
  failure: string;
  cleanup(): void;
}

export function airgapWithBrokenRelease(opts: { versions: string[]; base: string; version: string; chartDir: string }): BrokenAirgap {
  const dir = mkdtempSync(join(tmpdir(), "olares-airgap-"));
  for (const v of opts.versions) {
    const rel = fixture(v);
    for (const f of [rel.tarball, rel.checksumFile]) symlinkSync(f, join(dir, basename(f)));
  }
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
