// `olares-operator crd --apply` (the chart's CRD upgrade hook) against the cluster simulator: the real
// CLI process, a real kubeconfig, server-side apply, then waiting for Established.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { parse } from "yaml";
import { startSimulator, type Simulator } from "../sim/server.js";
import { CRD_NAME } from "../../operator/src/api/index.js";

const root = join(import.meta.dirname, "../..");

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", join(root, "operator/src/cli/main.ts"), ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

describe("olares-operator crd --apply, on the cluster simulator", function () {
  this.timeout(60_000);
  let sim: Simulator;
  const crdRef = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: CRD_NAME };

  before(async () => {
    sim = await startSimulator({ nodes: 1 });
  });
  after(async () => {
    await sim?.stop();
  });

  function storedCrd(): { spec: { versions: Array<{ schema: { openAPIV3Schema: { description?: string } } }> }; metadata: { resourceVersion: string; managedFields?: Array<{ manager: string }> } } {
    return sim.api.get(sim.api.resolve(crdRef.apiVersion, crdRef.kind), undefined, CRD_NAME) as unknown as ReturnType<typeof storedCrd>;
  }

  it("takes over a CRD another manager applied (an older copy via kubectl), waits for Established", async () => {
    const shipped = parse((await cli(["crd"])).stdout) as ReturnType<typeof storedCrd>;
    const older = structuredClone(shipped);
    older.spec.versions[0]!.schema.openAPIV3Schema.description = "an older CRD applied by hand";
    await new Promise<void>((resolve, reject) => {
      const child = execFile("kubectl", ["apply", "--server-side", "-f", "-"], { env: { ...process.env, KUBECONFIG: sim.kubeconfigPath } }, (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve()));
      child.stdin?.end(JSON.stringify(older));
    });
    expect(storedCrd().spec.versions[0]!.schema.openAPIV3Schema.description).to.equal("an older CRD applied by hand");

    const res = await cli(["crd", "--apply", "--kubeconfig", sim.kubeconfigPath]);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.include(`${CRD_NAME} serverside-applied`);
    expect(storedCrd().spec).to.deep.equal(shipped.spec);
    expect(storedCrd().metadata.managedFields?.map((m) => m.manager)).to.include("olares-operator");
  });

  it("is idempotent: a second apply writes nothing", async () => {
    const rvBefore = storedCrd().metadata.resourceVersion;
    const again = await cli(["crd", "--apply", "--kubeconfig", sim.kubeconfigPath]);
    expect(again.code, again.stderr).to.equal(0);
    expect(storedCrd().metadata.resourceVersion).to.equal(rvBefore);
  });

  it("fails with a clear message and exit 1 when the API server cannot be reached", async () => {
    const res = await cli(["crd", "--apply", "--kubeconfig", join(root, "test/cli/fixtures/unreachable.kubeconfig"), "--timeout", "2"]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.match(/^crd --apply: /);
  });

  it("rejects a bad --timeout naming the flag", async () => {
    const res = await cli(["crd", "--apply", "--kubeconfig", sim.kubeconfigPath, "--timeout", "soon"]);
    expect(res.code).to.equal(2);
    expect(res.stderr).to.include("--timeout: must be a positive number of seconds");
  });
});
