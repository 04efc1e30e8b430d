// e2e on the cluster simulator under injected faults: 10% of every API request fails (500/503/429) and
// every watch is dropped after 5 s, for the operator, the node agents and kubectl alike. The
// installation must still converge to Ready, stay there, and leave no duplicate or orphaned object.
import { expect } from "chai";
import { attachAgents, type AgentRunner } from "../sim/agent-runner.js";
import { startSimulator, type Simulator } from "../sim/server.js";
import {
  EXAMPLE,
  duplicatesAndOrphans,
  ensureTools,
  explainNotReady,
  installation,
  installOperatorManifests,
  isReady,
  kubectlOk,
  managedObjects,
  operatorManifests,
  plannedObjects,
  sleep,
  startOperatorInProcess,
  waitFor,
  type InProcessOperator,
} from "./cluster.js";

const NODES = 3;

describe("e2e on the cluster simulator: 10% API errors and watches dropped every 5 s", function () {
  this.timeout(420_000);
  let sim: Simulator;
  let agents: AgentRunner;
  let operator: InProcessOperator;

  before(async () => {
    ensureTools();
    sim = await startSimulator({ nodes: NODES, podReadyDelayMs: 20 });
    agents = attachAgents(sim);
    await installOperatorManifests(sim.kubeconfigPath, await operatorManifests());
  });

  after(async () => {
    sim?.faults.reset();
    await operator?.stop();
    await agents?.stop();
    await sim?.stop();
  });

  it("converges to Ready, stays Ready through more watch drops, and owns exactly the planned objects", async () => {
    sim.faults.setErrorRate("*", 0.1);
    sim.faults.dropWatchesAfterSeconds = 5;
    const started = Date.now();
    operator = await startOperatorInProcess(sim.kubeconfigPath);
    await kubectlOk(sim.kubeconfigPath, ["apply", "-f", EXAMPLE], { attempts: 10 });

    const nodesDone = () =>
      sim.store.list("/nodes").every((n) => {
        const a = n.metadata.annotations ?? {};
        return a["olares.com/state"] === "Done" && a["olares.com/current-config"] === a["olares.com/desired-config"];
      });
    // Every request may fail: ~20 helm runs and velero's create-only objects each retry through the faults.
    await waitFor(sim, () => isReady(installation(sim)) && nodesDone(), 300_000, () => `Ready under faults: ${explainNotReady(installation(sim))}`);
    // Keep the faults on past at least one more round of watch drops: nothing may regress.
    await sleep(Math.max(0, 6_000 - (Date.now() - started)) + 5_500);
    expect(isReady(installation(sim)), explainNotReady(installation(sim))).to.equal(true);
    expect(sim.faults.injected.errors, "faults were injected").to.be.greaterThan(10);
    sim.faults.reset();
    await sim.settle();

    expect(duplicatesAndOrphans(sim)).to.deep.equal([]);
    expect(managedObjects(sim)).to.deep.equal(plannedObjects(installation(sim)!, NODES));
    const agentPods = sim.store.list("/pods", "olares-system").filter((p) => p.metadata.name!.startsWith("olares-node-agent-"));
    expect(agentPods).to.have.length(NODES);
    expect(agents.running()).to.have.length(NODES);
  });
});
