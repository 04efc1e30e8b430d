// `olares-operator plan --render` through the real CLI: each Helm release of the fixture release expanded
// by the real helm (4.1) with the installer's values; without the release on this machine it says why.
import { expect } from "chai";
import { execa } from "execa";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HELMS } from "../chart/tools.js";
import { ROOT } from "../e2e/tools.js";
import { unpackFixture, type Unpacked } from "./helpers.js";

const cli = (args: string[], env: Record<string, string> = {}) =>
  execa(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "operator/src/cli/main.ts"), ...args], { cwd: ROOT, reject: false, env });

describe("plan --render with the real helm (Helm 4.1) and the fixture release", function () {
  this.timeout(120_000);
  let rel: Unpacked;
  const helm = HELMS.find((h) => h.label.includes("4"))!.bin;
  before(async () => {
    rel = await unpackFixture();
  });
  after(() => rel?.cleanup());

  it("expands every release in the installer's order with helm template; the apps wait for bfl's facts", async () => {
    const r = await cli(["plan", "-f", "examples/olares.yaml", "--render", "--release-dir", rel.cacheDir, "--helm", helm]);
    expect(r.exitCode, r.stderr).to.equal(0);
    const heads = r.stdout.split("\n").filter((l) => l.startsWith("# ---- helm release ")).map((l) => l.split(" ")[4]);
    expect(heads).to.deep.equal(["default/account", "default/settings", "os-platform/os-platform", "os-framework/os-framework", "user-space-alice/launcher-alice"]);
    expect(r.stdout).to.include("kind: User").and.include("kind: Terminus").and.include("name: app-service");
    expect(r.stdout).to.match(/# not rendered: apps: the apps need StatefulSet user-space-alice\/bfl/);
    // The plan's stand-ins, never a real secret: the account chart gets md5(stand-in + "@Olares2025").
    expect(r.stdout).to.not.include("plan-owner-password");
  });

  it("without the release on this machine: says where it looked and how to get it; the plan itself still prints", async () => {
    const empty = mkdtempSync(join(tmpdir(), "olares-no-release-"));
    try {
      const r = await cli(["plan", "-f", "examples/olares.yaml", "--render", "--helm", helm], { OLARES_RELEASE_CACHE: empty });
      expect(r.exitCode).to.equal(0);
      expect(r.stdout).to.include(`# releases not rendered: the Olares 1.12.1 release is not available locally (looked in ${empty} and its versions/v1.12.1)`);
      expect(r.stdout).to.include("CoreServices");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
