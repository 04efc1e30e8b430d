// `plan --from-cluster -f new.yaml` on the cluster simulator (not Kubernetes): the real CLI process reads
// the live OlaresInstallation of -f's name through a real kubeconfig; its status.storage.activeType says
// what serves the rootfs (a switch in progress or rolled back is planned from what really runs).
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { startSimulator, type Simulator } from "../sim/server.js";
import { loadCrd } from "../../operator/src/api/index.js";

const root = join(import.meta.dirname, "../..");

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", join(root, "operator/src/cli/main.ts"), ...args], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

const installation = (storage: Record<string, unknown>) => ({
  apiVersion: "olares.com/v1alpha1",
  kind: "OlaresInstallation",
  metadata: { name: "olares" },
  spec: { version: "1.12.1", owner: { username: "alice" }, storage },
});
const minio = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" } } };

describe("plan --from-cluster, on the cluster simulator (real CLI process, real kubeconfig)", function () {
  this.timeout(300_000);
  let sim: Simulator;
  let dir: string;

  before(async () => {
    sim = await startSimulator({ nodes: 1 });
    sim.api.create(sim.api.resolve("apiextensions.k8s.io/v1", "CustomResourceDefinition"), undefined, loadCrd() as never);
    dir = mkdtempSync(join(tmpdir(), "plan-from-cluster-"));
  });
  after(async () => {
    await sim?.stop();
  });

  const write = (name: string, doc: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, stringify(doc));
    return p;
  };

  it("a live LocalFS installation and a JuiceFS file: the switch per node; the live status's activeType wins over its spec", async () => {
    const rt = sim.api.resolve("olares.com/v1alpha1", "OlaresInstallation");
    sim.api.create(rt, undefined, installation({ type: "LocalFS" }) as never);
    const toJuiceFS = write("juicefs.yaml", installation(minio));
    const r = await cli(["plan", "--from-cluster", "--kubeconfig", sim.kubeconfigPath, "-f", toJuiceFS]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("OlaresInstallation olares: cluster:OlaresInstallation/olares → ");
    expect(r.stdout).to.include("Storage switch LocalFS → JuiceFS of /olares/rootfs");

    // The spec already says JuiceFS but the rootfs is still LocalFS (the switch has not finished): plan
    // against the spec alone would say "no switch"; against the live status it still shows the switch.
    const live = sim.api.get(rt, undefined, "olares");
    sim.api.update(rt, undefined, "olares", { ...live, spec: installation(minio).spec } as never);
    const withSpec = sim.api.get(rt, undefined, "olares");
    sim.api.update(rt, undefined, "olares", { ...withSpec, status: { storage: { activeType: "LocalFS" } } } as never, {}, "status");
    const again = await cli(["plan", "--from-cluster", "--kubeconfig", sim.kubeconfigPath, "-f", toJuiceFS]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.include("storage JuiceFS (unchanged)");
    expect(again.stdout).to.include("Storage switch LocalFS → JuiceFS");
  });

  it("names a missing live installation and an unreachable cluster", async () => {
    const other = write("other.yaml", { ...installation({ type: "LocalFS" }), metadata: { name: "other" } });
    const missing = await cli(["plan", "--from-cluster", "--kubeconfig", sim.kubeconfigPath, "-f", other]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include("plan --from-cluster: OlaresInstallation/other does not exist in the cluster");
    const unreachable = await cli(["plan", "--from-cluster", "--kubeconfig", join(root, "test/cli/fixtures/unreachable.kubeconfig"), "-f", other]);
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr).to.match(/^plan --from-cluster: reading OlaresInstallation\/other: /);
    const both = await cli(["plan", "--from-cluster", "--from", other, "-f", other]);
    expect(both.code).to.equal(1);
    expect(both.stderr).to.include("--from and --from-cluster both say what runs now; give one");
  });
});
