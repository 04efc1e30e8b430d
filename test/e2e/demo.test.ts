// e2e on the cluster simulator: `npm run demo` (test/sim/demo.ts) as a user runs it exits 0 with the
// installation Ready, and exits 1 naming the blocking condition when it cannot get there in time.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { ROOT, ensureTools } from "./cluster.js";

function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", join(ROOT, "test/sim/demo.ts"), ...args], { cwd: ROOT, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe("e2e on the cluster simulator: npm run demo", function () {
  this.timeout(120_000);
  before(() => ensureTools());

  it("installs with the chart's manifests and the real operator, shows every stage and exits 0 at Ready", async () => {
    const r = await demo(["--nodes", "2", "--gpu-nodes", "1", "--pod-delay-ms", "0"]);
    expect(r.code, r.stderr || r.stdout).to.equal(0);
    expect(r.stdout).to.match(/helm template of charts\/olares-operator/);
    expect(r.stdout).to.match(/left out Deployment\/olares-operator: replaced by the operator process/);
    expect(r.stdout).to.match(/operator log: \S+operator\.log/);
    // Every stage the operator reported (its <Stage>Ready conditions) is shown turning ready.
    const shown = new Set([...r.stdout.matchAll(/ stage (\w+)\s+(?:ready|waiting) /g)].map((m) => m[1]!));
    expect(shown.size, "stages shown").to.be.greaterThanOrEqual(7);
    for (const stage of ["Prerequisites", "NodeAgent", "NodeConfig", "CoreServices"]) expect([...shown]).to.include(stage);
    for (const stage of shown) expect(r.stdout, stage).to.match(new RegExp(`stage ${stage}\\s+ready`));
    expect(r.stdout).to.match(/node {2}sim-node-1\s+Done/);
    expect(r.stdout).to.match(/\$ kubectl get olaresinstallations\nNAME\s+PHASE\s+VERSION\s+STORAGE\s+READY\s+AGE\nolares\s+Ready\s+1\.12\.1\s+LocalFS\s+True/);
  });

  it("exits 1 with the failing conditions when Ready does not come in time", async () => {
    const r = await demo(["--timeout", "1", "--pod-delay-ms", "5000"]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/not Ready after 1s\./);
    expect(r.stdout).to.match(/Ready=False \w+NotReady: /);
  });
});
