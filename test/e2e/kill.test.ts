// e2e on the cluster simulator: the operator process is SIGKILLed at random points of its work, 20
// times, while the installation is created and then edited twice (a scale-up and a node-config change
// that rolls over both nodes). A last operator must converge it to Ready with nothing duplicated or
// orphaned: every step is idempotent and status is computed from observations, not memory.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attachAgents, type AgentRunner } from "../sim/agent-runner.js";
import { startSimulator, type Simulator } from "../sim/server.js";
import {
  EXAMPLE,
  OPERATOR_USER_AGENT,
  duplicatesAndOrphans,
  ensureTools,
  explainNotReady,
  installation,
  installOperatorManifests,
  isReady,
  kubectlOk,
  managedObjects,
  operatorBundle,
  operatorManifests,
  plannedObjects,
  sleep,
  startOperatorProcess,
  waitFor,
  waitOperatorReady,
  writesBy,
} from "./cluster.js";

const KILLS = 20;
const NODES = 2;

describe("e2e on the cluster simulator: the operator killed at random points", function () {
  this.timeout(240_000);
  let sim: Simulator;
  let agents: AgentRunner;
  const logDir = mkdtempSync(join(tmpdir(), "olares-e2e-kill-"));

  before(async () => {
    ensureTools();
    // Pods take a little while, so kills land while stages are still progressing.
    sim = await startSimulator({ nodes: NODES, podReadyDelayMs: 150 });
    agents = attachAgents(sim, { tuning: { retryBaseMs: 100 } });
    await installOperatorManifests(sim.kubeconfigPath, await operatorManifests());
  });

  after(async () => {
    await agents?.stop();
    await sim?.stop();
  });

  it(`converges after ${KILLS} kills (SIGKILL) during install and two edits`, async () => {
    const entry = operatorBundle();
    const kc = sim.kubeconfigPath;
    await kubectlOk(kc, ["apply", "-f", EXAMPLE]);
    let killedMidWork = 0;
    for (let i = 0; i < KILLS; i++) {
      if (i === 7) await kubectlOk(kc, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { coreServices: { "os-framework": { values: { backup: { bucket: "kill-test" } } } } } })]);
      if (i === 14) await kubectlOk(kc, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { os: { sysctl: { "vm.swappiness": "10" } } } })]);
      const before = sim.requests.length;
      const op = await startOperatorProcess({ kubeconfig: kc, entry, identity: `kill-${i}`, logFile: join(logDir, `operator-${i}.log`) });
      // Random point: anywhere from mid-start-up to well into reconciling.
      if (Math.random() < 0.25) await sleep(Math.random() * 800);
      else {
        await waitOperatorReady(op);
        // a fresh process reads the release (with velero's CLI output) before its first write: ~1 s
        await sleep(500 + Math.random() * 2000);
      }
      await op.kill();
      if (writesBy(sim, OPERATOR_USER_AGENT, before).length > 0 && !isReady(installation(sim))) killedMidWork++;
    }
    expect(killedMidWork, "kills that interrupted a reconcile with writes in flight").to.be.greaterThan(3);

    const last = await startOperatorProcess({ kubeconfig: kc, entry, identity: "survivor", logFile: join(logDir, "operator-last.log") });
    try {
      const nodesDone = () =>
        sim.store.list("/nodes").every((n) => {
          const a = n.metadata.annotations ?? {};
          return a["olares.com/state"] === "Done" && a["olares.com/current-config"] === a["olares.com/desired-config"];
        });
      const cr = await waitFor(sim, () => (isReady(installation(sim)) && nodesDone() ? installation(sim) : undefined), 60_000, () => `Ready after the kills: ${explainNotReady(installation(sim))} (logs in ${logDir})`);
      expect(cr!.status.observedGeneration).to.equal(3);
      await sim.settle();
      expect(duplicatesAndOrphans(sim)).to.deep.equal([]);
      expect(managedObjects(sim)).to.deep.equal(plannedObjects(cr!, NODES));
      // the edit reached the release: os-framework was upgraded with the override
      expect(JSON.parse(sim.store.get("/configmaps", "os-framework", "os-framework-values")!.data["backup.bucket"])).to.equal("kill-test");
      for (const host of agents.hosts.values()) {
        expect(await readFile(join(host.root, "etc/sysctl.d/90-olares.conf"), "utf8"), `${host.nodeName}: the edited sysctl`).to.match(/^vm\.swappiness ?= ?10$/m);
      }
      const finalizers = cr!.metadata.finalizers as string[];
      expect(finalizers.filter((f) => f === "olares.com/host-cleanup")).to.have.length(1);
    } finally {
      await last.stop();
    }
  });
});
