// Real `helm install --wait`, `helm upgrade` and `helm uninstall` against the cluster simulator, with
// Helm 4.1 and Helm 3.17: crds/ installed before templates, the CRD hook Job run and cleaned up, the
// OlaresInstallation created from values and never recreated by an upgrade, kept on uninstall, and
// NOTES.txt telling the next step.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../sim/server.js";
import { CHART_DIR, HELMS, KUBECTL, TOOLS_DIR, fetchTools, type RunResult } from "./tools.js";

function exec(sim: Simulator, bin: string, args: string[]): Promise<RunResult> {
  const env = {
    ...process.env,
    KUBECONFIG: sim.kubeconfigPath,
    HELM_CACHE_HOME: join(TOOLS_DIR, "helm-home/cache"),
    HELM_CONFIG_HOME: join(TOOLS_DIR, "helm-home/config"),
    HELM_DATA_HOME: join(TOOLS_DIR, "helm-home/data"),
  };
  // Asynchronous on purpose: the simulator serves from this process.
  return new Promise((resolve) => {
    execFile(bin, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function ok(res: Promise<RunResult>): Promise<string> {
  const r = await res;
  expect(r.code, r.stderr || r.stdout).to.equal(0);
  return r.stdout;
}

const INSTALLATION = [
  "--set", "installation.enabled=true",
  "--set", "installation.spec.version=1.12.1",
  "--set", "installation.spec.owner.username=alice",
  "--set", "installation.spec.storage.type=LocalFS",
];

for (const helm of HELMS) {
  describe(`helm install/upgrade/uninstall against the cluster simulator (${helm.label})`, function () {
    this.timeout(180_000);
    let sim: Simulator;
    const kubectl = (...args: string[]) => ok(exec(sim, KUBECTL, args));
    const cr = async () => JSON.parse(await kubectl("get", "olaresinstallation", "olares", "-o", "json"));

    before(async () => {
      fetchTools();
      sim = await startSimulator({ nodes: 2 });
    });

    after(async () => {
      await sim?.stop();
    });

    it("tells the next step (apply an OlaresInstallation, watch it) when the chart does not create one", async () => {
      const out = await ok(exec(sim, helm.bin, ["install", "olares-operator", CHART_DIR, "-n", "olares-operator", "--dry-run=server"]));
      expect(out).to.include("kubectl apply --server-side -f examples/olares.yaml");
      expect(out).to.include("kubectl get olares -w");
      expect(out).to.include("kubectl -n olares-operator rollout status deployment/olares-operator");
    });

    it("installs with --wait, runs the CRD hook, creates the CR and prints the next step", async () => {
      const out = await ok(exec(sim, helm.bin, ["install", "olares-operator", CHART_DIR, "-n", "olares-operator", "--create-namespace", "--wait", "--timeout=60s", ...INSTALLATION]));
      expect(out).to.include('The OlaresInstallation "olares" was created from the chart values');
      expect(out).to.include("kubectl get olares olares -w");
      const deploy = JSON.parse(await kubectl("get", "-n", "olares-operator", "deployment/olares-operator", "-o", "json"));
      expect(deploy.status.readyReplicas).to.equal(1);
      // hook-succeeded: the Job and its RBAC are gone once it completed
      const hooks = await kubectl("get", "jobs,serviceaccounts", "-n", "olares-operator", "-o", "name");
      expect(hooks).to.not.include("crd-upgrade");
      expect((await cr()).spec.owner.username).to.equal("alice");
    });

    it("upgrades without recreating the OlaresInstallation (same uid), applying spec changes in place", async () => {
      const before = await cr();
      await ok(exec(sim, helm.bin, ["upgrade", "olares-operator", CHART_DIR, "-n", "olares-operator", "--wait", "--timeout=60s", ...INSTALLATION, "--set", "installation.spec.version=1.12.2", "--set", "replicaCount=2"]));
      const after = await cr();
      expect(after.metadata.uid).to.equal(before.metadata.uid);
      expect(after.spec.version).to.equal("1.12.2");
      expect(after.metadata.generation).to.equal(before.metadata.generation + 1);
      const deploy = JSON.parse(await kubectl("get", "-n", "olares-operator", "deployment/olares-operator", "-o", "json"));
      expect(deploy.status.readyReplicas).to.equal(2);
    });

    it("uninstalls the operator but keeps the OlaresInstallation and the CRD", async () => {
      await ok(exec(sim, helm.bin, ["uninstall", "olares-operator", "-n", "olares-operator", "--wait", "--timeout=60s"]));
      const left = await kubectl("get", "deployments,clusterroles", "-A", "-l", "app.kubernetes.io/instance=olares-operator", "-o", "name");
      expect(left.trim()).to.equal("");
      expect((await cr()).metadata.name).to.equal("olares");
      await kubectl("get", "crd", "olaresinstallations.olares.com");
    });
  });
}
