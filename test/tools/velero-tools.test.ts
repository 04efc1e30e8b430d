// First file of the tier that builds the fixture release (.mocharc.cjs orders it there): the fixture
// carries the real velero CLI, which the operator runs; this waits for setup's background build of it (the
// same build lock), or builds it now, and checks it runs at the pinned version.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { veleroCli } from "../../hack/fixture-release/build.js";
import { ROOT } from "../e2e/tools.js";
import { FIXTURE_VERSIONS, fixtureAirgapDir } from "../support/template-helm.js";

const script = join(ROOT, "hack/velero-tools.sh");

describe("velero CLI built from github.com/vmware-tanzu/velero (the fixture release's velero component)", function () {
  it("is built (waiting for setup's background build) and reports the pinned version", function () {
    this.timeout(60 * 60_000);
    const cli = veleroCli();
    expect(cli.version).to.equal(execFileSync("bash", [script, "version"], { encoding: "utf8" }).trim());
    expect(cli.binary.length).to.be.greaterThan(1 << 20);
    const velero = execFileSync("bash", [script, "path"], { encoding: "utf8" }).trim();
    expect(execFileSync(velero, ["version", "--client-only"], { encoding: "utf8" })).to.match(new RegExp(`Version:\\s+v${cli.version.replace(/\./g, "\\.")}\\b`));
  });

  // Cold, the fixture release (gzipped images, velero's archive) takes longer than one test's timeout: the
  // tier's first reconcile test would time out building it. Built here once; the rest read the cache.
  it("builds the fixture release of every fixture version (cached by its inputs)", function () {
    this.timeout(20 * 60_000);
    const dir = fixtureAirgapDir();
    for (const v of FIXTURE_VERSIONS) expect(readdirSync(dir), v).to.include(`install-wizard-v${v}.tar.gz`);
  });
});
