// e2e on the cluster simulator: the chart's manifests and examples/olares.yaml applied with the real
// kubectl, the real operator (runOperator, in-process for speed) and real node agents on simulated
// hosts; apply → Ready, spec edits converge, delete runs the host cleanup and leaves nothing behind.
import { expect } from "chai";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { attachAgents, type AgentRunner } from "../sim/agent-runner.js";
import { startSimulator, type Simulator } from "../sim/server.js";
import type { Json, KObj } from "../sim/types.js";
import {
  EXAMPLE,
  condition,
  ensureTools,
  explainNotReady,
  installation,
  installOperatorManifests,
  isReady,
  kubectlOk,
  managedObjects,
  operatorManifests,
  startOperatorInProcess,
  waitFor,
  type InProcessOperator,
} from "./cluster.js";

const READY_TIMEOUT_MS = 30_000;
const NODES = ["sim-node-0", "sim-node-1"];

function nodeAnnotations(sim: Simulator, name: string): Record<string, string> {
  return sim.store.get("/nodes", "", name)?.metadata.annotations ?? {};
}

function allNodesDone(sim: Simulator): boolean {
  return NODES.every((n) => {
    const a = nodeAnnotations(sim, n);
    return a["olares.com/state"] === "Done" && a["olares.com/current-config"] === a["olares.com/desired-config"];
  });
}

async function readyAgain(sim: Simulator, what: string): Promise<KObj> {
  return waitFor(sim, () => {
    const cr = installation(sim);
    return isReady(cr) && allNodesDone(sim) ? cr : undefined;
  }, READY_TIMEOUT_MS, () => `${what}: ${explainNotReady(installation(sim))}; nodes: ${NODES.map((n) => JSON.stringify(nodeAnnotations(sim, n))).join(" ")}`);
}

describe("e2e on the cluster simulator: install, edit and delete with the real kubectl", function () {
  this.timeout(120_000);
  let sim: Simulator;
  let agents: AgentRunner;
  let operator: InProcessOperator;
  let kc: string;

  before(async () => {
    ensureTools();
    sim = await startSimulator({ nodes: 2, gpuNodes: 1 });
    kc = sim.kubeconfigPath;
    agents = attachAgents(sim);
    await installOperatorManifests(kc, await operatorManifests());
    operator = await startOperatorInProcess(kc);
  });

  after(async () => {
    await operator?.stop();
    await agents?.stop();
    await sim?.stop();
  });

  it("kubectl apply -f examples/olares.yaml → Ready, every node configured by its agent", async () => {
    await kubectlOk(kc, ["apply", "-f", EXAMPLE]);
    const cr = await readyAgain(sim, "Ready after the first apply");
    expect(cr.status.phase).to.equal("Ready");
    expect(cr.status.nodes).to.include({ total: 2, updated: 2, degraded: 0 });
    for (const c of cr.status.conditions as Json[]) expect(c.observedGeneration, c.type).to.equal(cr.metadata.generation);
    for (const n of NODES) {
      const root = agents.hosts.get(n)!.root;
      expect(existsSync(join(root, "etc/olares/release")), `${n}: /etc/olares/release`).to.equal(true);
      expect(existsSync(join(root, "usr/local/bin/olaresd")), `${n}: olaresd installed`).to.equal(true);
      expect(agents.hosts.get(n)!.system.enabled.has("olaresd.service"), `${n}: olaresd.service enabled`).to.equal(true);
    }
    // The GPU node was found by its agent and got the device plugin.
    expect(sim.store.get("/nodes", "", "sim-node-1")!.metadata.labels?.["olares.com/gpu.nvidia"]).to.equal("true");
    expect(condition(cr, "GPUReady")?.status).to.equal("True");
    expect(nodeAnnotations(sim, "sim-node-1")["olares.com/current-config"], "the GPU node runs the nvidia node config").to.not.equal(nodeAnnotations(sim, "sim-node-0")["olares.com/current-config"]);
    expect(agents.hosts.get("sim-node-1")!.system.installed.has("nvidia-container-toolkit"), "toolkit installed on the GPU host").to.equal(true);
    expect(agents.hosts.get("sim-node-0")!.system.installed.has("nvidia-container-toolkit")).to.equal(false);
    const printed = await kubectlOk(kc, ["get", "olaresinstallations"]);
    expect(printed).to.match(/^olares\s+Ready\s+1\.12\.1\s+LocalFS\s+True\s/m);
  });

  it("kubectl patch coreServices.<release>.values → that release is upgraded with the override and the CR is Ready for the new generation", async () => {
    const before = installation(sim)!.metadata.generation!;
    await kubectlOk(kc, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { coreServices: { "os-framework": { values: { backup: { bucket: "olares-backup" } } } } } })]);
    const cr = await readyAgain(sim, "Ready after the values edit");
    expect(cr.metadata.generation).to.equal(before + 1);
    // the fixture chart echoes what it received: the override, deep-merged over the installer's values
    const values = sim.store.get("/configmaps", "os-framework", "os-framework-values")!;
    expect(JSON.parse(values.data["backup.bucket"])).to.equal("olares-backup");
    expect(JSON.parse(values.data["rootPath"])).to.equal("/olares");
    const record = cr.status.components.find((c: { kind: string; name: string }) => c.kind === "HelmRelease" && c.name === "os-framework");
    expect(record.message).to.equal("revision 2 deployed");
  });

  it("kubectl patch gpu.enabled=false → the release's hami (its device plugin) is uninstalled and the GPU node gets a config without GPU tasks", async () => {
    const gpuConfigBefore = nodeAnnotations(sim, "sim-node-1")["olares.com/current-config"];
    await kubectlOk(kc, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { gpu: { enabled: "false" } } })]);
    await readyAgain(sim, "Ready after disabling the GPU");
    await waitFor(sim, () => !sim.store.get("apps/daemonsets", "kube-system", "hami-device-plugin"), 10_000, "hami's device plugin DaemonSet gone with its release");
    expect(nodeAnnotations(sim, "sim-node-1")["olares.com/current-config"]).to.not.equal(gpuConfigBefore);
    expect(nodeAnnotations(sim, "sim-node-1")["olares.com/current-config"], "back on the default config").to.equal(nodeAnnotations(sim, "sim-node-0")["olares.com/current-config"]);

    await kubectlOk(kc, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { gpu: { enabled: "auto" } } })]);
    const cr = await readyAgain(sim, "Ready after re-enabling the GPU");
    await waitFor(sim, () => sim.store.get("apps/daemonsets", "kube-system", "hami-device-plugin"), 10_000, "hami's device plugin DaemonSet back");
    expect(condition(cr, "GPUReady")?.status).to.equal("True");
    expect(nodeAnnotations(sim, "sim-node-1")["olares.com/current-config"]).to.equal(gpuConfigBefore);
  });

  it("kubectl delete → the finalizer runs the agents' host cleanup, then everything owned is gone", async () => {
    expect(managedObjects(sim)).to.not.be.empty;
    await kubectlOk(kc, ["delete", "olaresinstallation", "olares", "--wait=true", "--timeout=60s"]);
    expect(installation(sim)).to.equal(undefined);
    for (const n of NODES) {
      const root = agents.hosts.get(n)!.root;
      expect(existsSync(join(root, "etc/olares/release")), `${n}: /etc/olares/release removed`).to.equal(false);
      expect(existsSync(join(root, "usr/local/bin/olaresd")), `${n}: olaresd removed`).to.equal(false);
    }
    await waitFor(sim, () => managedObjects(sim).length === 0, 15_000, `owned objects garbage-collected (left: ${managedObjects(sim).join(", ")})`);
    const leftPods = sim.store.list("/pods").filter((p) => ["olares-system", "os-framework"].includes(p.metadata.namespace!));
    expect(leftPods.map((p) => p.metadata.name)).to.deep.equal([]);
  });
});
