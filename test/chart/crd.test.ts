// The chart ships the top-level CRD byte for byte (hack/sync-chart-crds.sh copies it).
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CHART_DIR, ROOT } from "./tools.js";

describe("chart CRDs", () => {
  it("are byte-identical to crds/ at the top level, file for file", () => {
    const top = readdirSync(join(ROOT, "crds")).filter((f) => f.endsWith(".yaml")).sort();
    const chart = readdirSync(join(CHART_DIR, "crds")).filter((f) => f.endsWith(".yaml")).sort();
    expect(top).to.include("olares.com_olaresinstallations.yaml");
    expect(chart, "run hack/sync-chart-crds.sh").to.deep.equal(top);
    for (const f of top) {
      const same = readFileSync(join(ROOT, "crds", f)).equals(readFileSync(join(CHART_DIR, "crds", f)));
      expect(same, `charts/olares-operator/crds/${f} differs from crds/${f}: run hack/sync-chart-crds.sh`).to.equal(true);
    }
  });

  it("agree with hack/sync-chart-crds.sh --check", () => {
    expect(() => execFileSync("bash", [join(ROOT, "hack/sync-chart-crds.sh"), "--check"], { stdio: "pipe" })).to.not.throw();
  });
});
