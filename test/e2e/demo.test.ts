// e2e on the cluster simulator: `npm run demo` (test/sim/demo.ts) as a user runs it exits 0 with the
// installation Ready, and exits 1 naming the blocking condition when it cannot get there in time.
import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, ensureTools } from "./cluster.js";

function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", join(ROOT, "test/sim/demo.ts"), ...args], { cwd: ROOT, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      // A failed demo keeps its temp dir for the operator log; the test has read what it needs.
      const dir = /operator log: (\S+)\/operator\.log/.exec(String(stdout))?.[1];
      if (dir?.includes("olares-demo-")) rmSync(dir, { recursive: true, force: true });
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe("e2e on the cluster simulator: npm run demo", function () {
  this.timeout(120_000);
  before(() => ensureTools());

  it("installs with the chart's manifests and the real operator, shows every stage and release, and exits 0 at the activation step", async () => {
    const r = await demo(["--nodes", "2", "--gpu-nodes", "1", "--pod-delay-ms", "0"]);
    expect(r.code, r.stderr || r.stdout).to.equal(0);
    expect(r.stdout).to.match(/helm template of charts\/olares-operator/);
    expect(r.stdout).to.match(/left out Deployment\/olares-operator: replaced by the operator process/);
    expect(r.stdout).to.match(/operator log: \S+operator\.log/);
    // Every stage the operator reported (its <Stage>Ready conditions) is shown turning ready.
    const shown = new Set([...r.stdout.matchAll(/ stage (\w+)\s+(?:ready|waiting) /g)].map((m) => m[1]!));
    expect(shown.size, "stages shown").to.be.greaterThanOrEqual(7);
    for (const stage of ["Prerequisites", "NodeAgent", "NodeConfig", "CoreServices"]) expect([...shown]).to.include(stage);
    // every stage turns ready, but CoreServices: it ends waiting for the owner's activation
    for (const stage of [...shown].filter((x) => x !== "CoreServices")) expect(r.stdout, stage).to.match(new RegExp(`stage ${stage}\\s+ready`));
    expect(r.stdout).to.match(/node {2}sim-node-1\s+Done/);
    // The Olares release goes in, release by release in the installer's order, and the demo ends at activation.
    const releases = [...r.stdout.matchAll(/^\s+[\d.]+s\s+release (\S+)\s+revision \d+ deployed$/gm)].map((m) => m[1]);
    expect(releases.slice(0, 6)).to.deep.equal(["kube-system/hami", "default/account", "default/settings", "os-platform/os-platform", "os-framework/os-framework", "user-space-alice/launcher-alice"]);
    expect(releases).to.include("user-space-alice/wizard");
    expect(r.stdout).to.match(/awaiting activation: open http:\/\/\S+:30180 and activate alice@olares\.com with LarePass/);
    expect(r.stdout).to.match(/\$ kubectl get olaresinstallations\nNAME\s+PHASE\s+VERSION\s+STORAGE\s+PROGRESS\s+READY\s+AGE\nolares\s+AwaitingActivation\s+\S*\s*LocalFS\s+False/);
  });

  it("exits 1 with the failing conditions when Ready does not come in time", async () => {
    // pods take 30 s, so 4 s is never enough for Ready, but enough for the first status (the release's velero
    // objects come from running its CLI, which costs the first reconcile about a second)
    const r = await demo(["--timeout", "4", "--pod-delay-ms", "30000"]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/not Ready after 4s\./);
    expect(r.stdout).to.match(/Ready=False \w+NotReady: /);
  });

  it("stops within seconds with the condition's message when Degraded for a reason that will not pass", async () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-degraded-"));
    try {
      const file = join(dir, "olares.yaml");
      const example = readFileSync(join(ROOT, "examples/olares.yaml"), "utf8");
      // the owner's password Secret does not exist: Prerequisites waits for the user, not for time
      writeFileSync(file, example.replace(/owner:\n(\s+)/, (m, indent: string) => `${m}passwordSecretRef: {name: no-such-secret}\n${indent}`));
      const t0 = Date.now();
      const r = await demo(["--timeout", "60", "-f", file]);
      expect(r.code).to.equal(1);
      expect(Date.now() - t0, "well before --timeout").to.be.lessThan(45_000);
      expect(r.stdout).to.match(/Degraded for a reason that does not pass by itself/);
      expect(r.stdout).to.match(/Degraded=True SecretNotFound: .*spec\.owner\.passwordSecretRef: Secret olares-operator\/no-such-secret not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--keep hints with the kubectl on PATH, and Ctrl-C stops everything and removes the temp dir", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/sim/demo.ts"), "--keep", "--pod-delay-ms", "0"], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${join(ROOT, ".cache/tools/kubectl")}:${process.env["PATH"] ?? ""}` },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ctrl-C stops it")) child.kill("SIGINT");
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(out).to.match(/KUBECONFIG=\S+ kubectl get olares\n/);
    expect(code).to.equal(130);
    const dir = /and removes (\S+)\.\n/.exec(out)?.[1];
    expect(dir, out).to.be.a("string");
    expect(existsSync(dir!), `${dir} removed`).to.equal(false);
  });
});
