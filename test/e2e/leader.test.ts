// e2e on the cluster simulator: two operator processes with --leader-elect. One holds the Lease and
// reconciles, the other stays passive; when the leader is killed (SIGKILL, no Lease release) the
// standby takes over once the Lease expires and carries on reconciling.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attachAgents, type AgentRunner } from "../sim/agent-runner.js";
import { startSimulator, type Simulator } from "../sim/server.js";
import {
  EXAMPLE,
  OPERATOR_NAMESPACE,
  ensureTools,
  explainNotReady,
  installation,
  installOperatorManifests,
  isReady,
  kubectlOk,
  operatorBundle,
  operatorManifests,
  startOperatorProcess,
  waitFor,
  waitOperatorReady,
  type OperatorProcess,
} from "./cluster.js";

/** One sample of a Prometheus text metric (summed over label sets); 0 when absent. */
async function metric(op: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(op.metricsUrl)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(l))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

describe("e2e on the cluster simulator: two operator replicas with --leader-elect", function () {
  this.timeout(120_000);
  let sim: Simulator;
  let agents: AgentRunner;
  let replicas: OperatorProcess[] = [];
  const logDir = mkdtempSync(join(tmpdir(), "olares-e2e-leader-"));

  const holder = () => sim.store.get("coordination.k8s.io/leases", OPERATOR_NAMESPACE, "olares-operator")?.spec?.holderIdentity as string | undefined;

  before(async () => {
    ensureTools();
    sim = await startSimulator({ nodes: 1 });
    agents = attachAgents(sim);
    await installOperatorManifests(sim.kubeconfigPath, await operatorManifests());
    const entry = operatorBundle();
    replicas = await Promise.all(
      ["replica-a", "replica-b"].map((identity) =>
        startOperatorProcess({ kubeconfig: sim.kubeconfigPath, entry, leaderElect: true, identity, logFile: join(logDir, `${identity}.log`) }),
      ),
    );
    await Promise.all(replicas.map((r) => waitOperatorReady(r)));
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await agents?.stop();
    await sim?.stop();
  });

  it("one replica holds the Lease and reconciles to Ready; the other stays passive", async () => {
    const leaderId = await waitFor(sim, () => holder(), 20_000, "a Lease holder");
    await kubectlOk(sim.kubeconfigPath, ["apply", "-f", EXAMPLE]);
    await waitFor(sim, () => isReady(installation(sim)), 30_000, () => `Ready: ${explainNotReady(installation(sim))}`);
    const leader = replicas.find((r) => r.identity === leaderId)!;
    const standby = replicas.find((r) => r.identity !== leaderId)!;
    expect(await metric(leader, "olares_operator_leader")).to.equal(1);
    expect(await metric(standby, "olares_operator_leader")).to.equal(0);
    expect(await metric(leader, "olares_operator_reconcile_total")).to.be.greaterThan(0);
    expect(await metric(standby, "olares_operator_reconcile_total"), "the standby reconciled").to.equal(0);
  });

  it("the standby takes over when the leader is killed, and reconciles the next change", async () => {
    const leaderId = holder()!;
    const leader = replicas.find((r) => r.identity === leaderId)!;
    const standby = replicas.find((r) => r.identity !== leaderId)!;
    const killedAt = Date.now();
    await leader.kill();
    await waitFor(sim, () => holder() === standby.identity, 30_000, `the Lease to move to ${standby.identity}`);
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs, "failover within the lease duration (15 s) plus a few retry periods (2 s)").to.be.lessThan(25_000);

    await kubectlOk(sim.kubeconfigPath, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { coreServices: { "os-framework": { values: { backup: { bucket: "leader-test" } } } } } })]);
    await waitFor(sim, () => isReady(installation(sim)) && sim.store.get("/configmaps", "os-framework", "os-framework-values")?.data?.["backup.bucket"] === '"leader-test"', 30_000, () => `Ready after the edit: ${explainNotReady(installation(sim))}`);
    expect(await metric(standby, "olares_operator_leader")).to.equal(1);
    expect(await metric(standby, "olares_operator_reconcile_total")).to.be.greaterThan(0);
  });
});
