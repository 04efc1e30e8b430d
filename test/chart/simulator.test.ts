// `helm template | kubectl apply --server-side -f -` against the cluster simulator (test/sim): the chart's
// objects are accepted by an API server with real CRD serving, the operator Deployment rolls out, the
// CRD hook Job completes, the OlaresInstallation from values is admitted, and a re-apply changes nothing.
// (Operator-to-Ready end to end is the lead's test; this one stops at the chart's objects.)
import { expect } from "chai";
import { execFile } from "node:child_process";
import { startSimulator, type Simulator } from "../sim/server.js";
import { HELMS, KUBECTL, fetchTools, helmTemplate, type RunResult } from "./tools.js";
import { NON_DEFAULT_VALUES } from "./values.js";

const NAMESPACE_DOC = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: olares-operator\n---\n";

/** kubectl is run asynchronously: the simulator serves from this same process. */
function kubectl(sim: Simulator, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, args, { env: { ...process.env, KUBECONFIG: sim.kubeconfigPath }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function ok(res: Promise<RunResult>): Promise<string> {
  const r = await res;
  expect(r.code, r.stderr || r.stdout).to.equal(0);
  return r.stdout;
}

const CASES = [
  { helm: HELMS[0], label: "default values", values: {} },
  {
    helm: HELMS[1],
    label: "two replicas, PDB and the installation block",
    // no ServiceMonitor: the simulator, like a cluster without prometheus-operator, does not serve it
    values: { ...NON_DEFAULT_VALUES, metrics: { serviceMonitor: { enabled: false } } },
  },
];

for (const c of CASES) {
  describe(`chart applied to the cluster simulator (${c.helm.label}, ${c.label})`, function () {
    this.timeout(120_000);
    let sim: Simulator;
    let manifests: string;

    before(async () => {
      fetchTools();
      sim = await startSimulator({ nodes: 2 });
      // The CR needs its CRD served first: apply everything but the CR, wait, then apply all (as Helm does with crds/).
      const withoutCr = await helmTemplate(c.helm.bin, { ...c.values, installation: { enabled: false } });
      expect(withoutCr.code, withoutCr.stderr).to.equal(0);
      await ok(kubectl(sim, ["apply", "--server-side", "--field-manager=helm", "-f", "-"], NAMESPACE_DOC + withoutCr.stdout));
      await ok(kubectl(sim, ["wait", "--for=condition=Established", "crd/olaresinstallations.olares.com", "--timeout=30s"]));
      const full = await helmTemplate(c.helm.bin, c.values);
      expect(full.code, full.stderr).to.equal(0);
      manifests = full.stdout;
      await ok(kubectl(sim, ["apply", "--server-side", "--field-manager=helm", "-f", "-"], manifests));
    });

    after(async () => {
      await sim?.stop();
    });

    it("creates every rendered object", async () => {
      const rendered = (await helmTemplate(c.helm.bin, c.values)).objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      const live = JSON.parse(await ok(kubectl(sim, ["get", "-f", "-", "-o", "json"], manifests))) as { items: Array<{ kind: string; metadata: { name: string } }> };
      expect(live.items.map((o) => `${o.kind}/${o.metadata.name}`).sort()).to.deep.equal(rendered);
    });

    it("rolls the operator Deployment out and completes the CRD upgrade Job", async () => {
      await ok(kubectl(sim, ["rollout", "status", "-n", "olares-operator", "deployment/olares-operator", "--timeout=30s"]));
      await ok(kubectl(sim, ["wait", "-n", "olares-operator", "--for=condition=Complete", "job/olares-operator-crd-upgrade", "--timeout=30s"]));
      const deploy = JSON.parse(await ok(kubectl(sim, ["get", "-n", "olares-operator", "deployment/olares-operator", "-o", "json"])));
      const replicas = (c.values as { replicaCount?: number }).replicaCount ?? 1;
      expect(deploy.status.readyReplicas).to.equal(replicas);
      expect(deploy.spec.template.spec.serviceAccountName).to.equal("olares-operator");
    });

    it("is idempotent: applying the same manifests again changes no generation", async () => {
      const before = JSON.parse(await ok(kubectl(sim, ["get", "-f", "-", "-o", "json"], manifests))) as { items: Array<{ kind: string; metadata: { name: string; generation?: number } }> };
      await ok(kubectl(sim, ["apply", "--server-side", "--field-manager=helm", "-f", "-"], manifests));
      const after = JSON.parse(await ok(kubectl(sim, ["get", "-f", "-", "-o", "json"], manifests))) as typeof before;
      expect(after.items.map((o) => [o.kind, o.metadata.name, o.metadata.generation])).to.deep.equal(before.items.map((o) => [o.kind, o.metadata.name, o.metadata.generation]));
    });

    if ((c.values as { installation?: { enabled?: boolean } }).installation?.enabled) {
      it("admits the OlaresInstallation from values, defaulted by the CRD", async () => {
        const cr = JSON.parse(await ok(kubectl(sim, ["get", "olares", "olares", "-o", "json"])));
        expect(cr.spec.version).to.equal("1.12.1");
        expect(cr.spec.owner.username).to.equal("alice");
        expect(cr.spec.storage.rootPath, "CRD default applied by the API server").to.equal("/olares");
        expect(cr.metadata.annotations["helm.sh/resource-policy"]).to.equal("keep");
      });
    }
  });
}
