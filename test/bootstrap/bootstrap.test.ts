// Runs the bootstrap shell tiers (shellcheck + bats, incl. the chroot tier when root) through
// test/bootstrap/run.sh so `npm test` covers them; the script's full output is shown on failure.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const runScript = join(dirname(fileURLToPath(import.meta.url)), "run.sh");

describe("bootstrap/install.sh and uninstall.sh (shellcheck + bats)", function () {
  this.timeout(10 * 60 * 1000);

  it("passes every shellcheck and bats check", () => {
    const result = spawnSync("bash", [runScript], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    const summary = (result.stdout ?? "").trimEnd().split("\n").at(-1) ?? "";
    const counts = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/.exec(summary);
    if (result.status !== 0 || !counts || counts[2] !== "0") {
      throw new Error(`test/bootstrap/run.sh failed (exit ${result.status}, summary "${summary}"):\n${output}`);
    }
    expect(Number(counts[1])).to.be.greaterThan(0);
  });
});
