// Node rollouts on the real control plane: kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok nodes (two with nvidia.com/gpu capacity), the chart installed by real helm, the real operator with
// the chart's ServiceAccount token (its ClusterRole, not admin) and one real node agent per kwok node
// with the agent's ServiceAccount (kwok-agents.ts). Every Node write is replayed from a watch
// (node-watch.ts), so "never more nodes in flight than maxUnavailable" holds at every moment. One control
// plane for the whole file, the scenarios in order: rollout at maxUnavailable 1 and 2, pause/resume with
// kubectl, a degraded node stops the rollout, revert recovers, a GPU driver change (drain, reboot) keeps
// the admin's cordon, drift Report/Heal, and 20 SIGKILLs of the operator mid-rollout still converge.
import { expect } from "chai";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NVIDIA_PROC_VERSION } from "../../operator/src/agent/tasks/nvidia-driver.js";
import { TIMESYNCD_DROPIN } from "../../operator/src/agent/tasks/timesync.js";
import { ANNOTATION_WAS_UNSCHEDULABLE, LABEL_GPU_NVIDIA, NODE_AGENT_NAME, SYSTEM_NAMESPACE } from "../../operator/src/contract/names.js";
import { OLARES_RELEASE_FILE } from "../../operator/src/render/node-config/os-tasks.js";
import { emulateDriverChange } from "../e2e-nodes/driver-change.js";
import { installationManifest } from "../e2e-nodes/harness.js";
import { operatorBundle, startOperatorInProcess, startOperatorProcess, waitOperatorReady, type InProcessOperator } from "../e2e/operator.js";
import { ensureTools } from "../e2e/tools.js";
import { ON_KUBE, forbiddenRequests, requireControlPlane, serviceAccountUser, startControlPlane, type ControlPlane } from "../support/controlplane.js";
import { CHART_DIR, HELMS, INSTALLER_USER, OPERATOR_NAMESPACE, condition, explainNotReady, getJson, helm, installation, isReady, nodes, sleep, until, type Json } from "./helpers.js";
import { attachKwokAgents, type KwokAgents } from "./kwok-agents.js";
import { recordClusterNodes, type ClusterNodeRecorder } from "./node-watch.js";
import { ownerCompletesWizard, type Owner } from "./owner.js";
import { startLocalPathStandIn, type Provisioner } from "./volumes.js";

const OPERATOR_USER = serviceAccountUser(OPERATOR_NAMESPACE, "olares-operator");
const AGENT_USER = serviceAccountUser(SYSTEM_NAMESPACE, NODE_AGENT_NAME);
const NODES = ["kwok-node-0", "kwok-node-1", "kwok-node-2", "kwok-node-3"];
const CPU_NODES = ["kwok-node-0", "kwok-node-1"];
const GPU_NODES = ["kwok-node-2", "kwok-node-3"];
/** A GPU node the admin cordoned before the operator came: it must stay cordoned throughout. */
const ADMIN_CORDONED = "kwok-node-3";
const BROKEN = "kwok-node-1";
const DRIFTED = "kwok-node-0";
const NEW_DRIVER = "575.51.03";
const KILLS = 20;

describe(`node rollouts on ${ON_KUBE} with kwok nodes (2 with nvidia.com/gpu): the operator and agents as their ServiceAccounts`, function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let operator: InProcessOperator | undefined;
  let agents: KwokAgents | undefined;
  let volumes: Provisioner | undefined;
  let owner: Owner | undefined;
  let rec: ClusterNodeRecorder;
  let operatorKubeconfig: string;

  before(async function () {
    requireControlPlane(this);
    ensureTools();
    cp = await startControlPlane({ nodes: NODES.length, gpuNodes: GPU_NODES.length });
    const r = await helm(cp, HELMS[0].bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--set", "replicaCount=0"]);
    if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr || r.stdout}`);
    await cp.kubectlOk(["cordon", ADMIN_CORDONED]);
    operatorKubeconfig = await cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, "olares-operator");
    rec = await recordClusterNodes(cp);
    // A short drift interval so the drift case needs no minutes (production checks every few minutes).
    agents = attachKwokAgents(cp, { tuning: { driftIntervalMs: 1000 } });
    volumes = startLocalPathStandIn(cp);
    owner = ownerCompletesWizard(cp);
    operator = await startOperatorInProcess(operatorKubeconfig, { leaderElect: true, identity: "nodes-real", helmAs: INSTALLER_USER });
  });

  after(async () => {
    rec?.stop();
    await owner?.stop();
    await operator?.stop();
    await agents?.stop();
    await volumes?.stop();
    await cp?.stop();
  });

  const view = (name: string) => rec.nodes().find((v) => v.name === name)!;
  const describeNodes = () => rec.nodes().map((v) => `${v.name}: ${v.state ?? "-"} ${v.current ?? "-"}→${v.desired ?? "-"}${v.unschedulable ? " cordoned" : ""}${v.reason ? ` (${v.reason})` : ""}`).join("; ");
  const patch = (p: Json) => cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: p })]);
  const host = (name: string) => {
    const h = agents!.hosts.get(name);
    if (!h) throw new Error(`no host for ${name} (its agent pod never ran)`);
    return h;
  };
  const allDone = (config?: string) => rec.nodes().length === NODES.length && rec.nodes().every((v) => v.state === "Done" && v.current !== undefined && v.current === v.desired && (config === undefined || v.current === config));

  /** Ready for the current generation, every node Done on its desired config; the recorder caught up. */
  async function waitReady(what: string, timeoutMs = 180_000): Promise<Json> {
    const cr = await until(
      async () => {
        const c = await installation(cp);
        if (!isReady(c)) return undefined;
        await rec.caughtUp();
        return allDone() ? c : undefined;
      },
      timeoutMs,
      async () => `${what}: ${explainNotReady(await installation(cp))}; nodes: ${describeNodes()}`,
    );
    expect(rec.failure, "the node watch saw every write").to.equal(undefined);
    return cr;
  }

  /** The config each node group currently gets: status.nodes.desiredConfig reads "default=<id>,nvidia=<id>". */
  const targets = (cr: Json): Record<string, string> => Object.fromEntries(String(cr.status.nodes.desiredConfig).split(",").map((kv) => kv.split("=") as [string, string]));
  const targetOf = (cr: Json, name: string) => targets(cr)[GPU_NODES.includes(name) ? "nvidia" : "default"];

  function expectCordonsRestored(): void {
    for (const v of rec.nodes()) expect(v.unschedulable, `${v.name} unschedulable (${describeNodes()})`).to.equal(v.name === ADMIN_CORDONED);
  }

  async function expectNoCordonRecords(): Promise<void> {
    for (const n of await nodes(cp)) expect(n.metadata.annotations?.[ANNOTATION_WAS_UNSCHEDULABLE], `${n.metadata.name}: the agent's cordon record is dropped`).to.equal(undefined);
  }

  it("maxUnavailable=1, first rollout: one node at a time at every Node write; GPU nodes get the NVIDIA config and are drained; the admin's cordon stays", async () => {
    const counts: Json[] = [];
    const poll = setInterval(() => void installation(cp).then((c) => c?.status?.nodes && counts.push(c.status.nodes), () => undefined), 300);
    await cp.kubectlOk(["apply", "-f", "-"], { input: installationManifest({ rollout: { maxUnavailable: 1, allowReboot: false } }) });
    const cr = await waitReady("Ready after the first rollout", 240_000).finally(() => clearInterval(poll));
    expect(rec.events, "Node writes were replayed from the watch").to.be.greaterThan(NODES.length * 3);
    expect(rec.maxInFlight, `never more than one node in flight (worst: ${rec.worst})`).to.equal(1);
    expect(cr.status.nodes).to.deep.include({ total: 4, updated: 4, working: 0, degraded: 0 });
    for (const c of counts) expect(c.working, JSON.stringify(c)).to.be.at.most(1);
    expect(Object.keys(targets(cr)).sort(), "two groups: default and the NVIDIA nodes'").to.deep.equal(["default", "nvidia"]);
    for (const n of NODES) expect(view(n).current, n).to.equal(targetOf(cr, n));
    for (const n of CPU_NODES) expect(rec.desiredHistory.get(n), `${n}: handed its config once`).to.deep.equal([targetOf(cr, n)]);
    const labelled = (await nodes(cp)).filter((n) => n.metadata.labels?.[LABEL_GPU_NVIDIA] === "true").map((n) => n.metadata.name).sort();
    expect(labelled, "the agents found the GPUs").to.deep.equal(GPU_NODES);
    expect(rec.everCordoned.has("kwok-node-2"), "the GPU node was cordoned for its drain-class config").to.equal(true);
    for (const n of CPU_NODES) expect(rec.everCordoned.has(n), `${n} needs no drain`).to.equal(false);
    expectCordonsRestored();
    await expectNoCordonRecords();
    expect(condition(cr, "NodeConfigReady")?.status).to.equal("True");
    expect(cr.status.phase).to.equal("Ready");
  });

  it("maxUnavailable=2: an NTP change goes out two nodes at a time, never three", async () => {
    rec.reset();
    await patch({ nodes: { rollout: { maxUnavailable: 2 } }, os: { ntp: { servers: ["time1.example.org"] } } });
    const cr = await waitReady("Ready after the NTP change");
    expect(rec.maxInFlight, `two nodes in flight at most, and the rollout used both slots (worst: ${rec.worst})`).to.equal(2);
    for (const n of NODES) {
      expect(rec.desiredHistory.get(n), n).to.deep.equal([targetOf(cr, n)]);
      expect(await readFile(join(host(n).root, TIMESYNCD_DROPIN), "utf8"), `${n}: ${TIMESYNCD_DROPIN}`).to.contain("NTP=time1.example.org");
    }
    expectCordonsRestored();
  });

  it("kubectl patch spec.nodes.rollout.paused=true hands out nothing new (status says paused); paused=false resumes within maxUnavailable", async () => {
    await patch({ nodes: { rollout: { paused: true } } });
    const pausedGen = (await installation(cp)).metadata.generation;
    await until(async () => (await installation(cp))?.status?.observedGeneration === pausedGen, 30_000, "the pause observed");
    const before = rec.nodes().map((v) => v.current);
    const pausedOn = (await installation(cp)).status.nodes.desiredConfig;
    rec.reset();
    await patch({ os: { ntp: { servers: ["time2.example.org"] } } });
    const gen = (await installation(cp)).metadata.generation;
    const waiting = await until(async () => {
      const c = await installation(cp);
      return c?.status?.observedGeneration === gen && c.status.nodes.desiredConfig !== pausedOn ? c : undefined;
    }, 30_000, "the new config rendered while paused");
    // time for the operator and agents to act on it if they wrongly would
    await sleep(4000);
    await rec.caughtUp();
    expect([...rec.desiredHistory.values()].flat(), "no desired-config handed out while paused").to.deep.equal([]);
    expect(rec.nodes().map((v) => v.current)).to.deep.equal(before);
    const paused = await installation(cp);
    expect(paused.status.phase).to.not.equal("Ready");
    expect(condition(paused, "NodeConfigReady")?.message).to.match(/paused/);
    expect(paused.status.nodes).to.deep.include({ total: 4, updated: 0, desiredConfig: waiting.status.nodes.desiredConfig });

    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "json", "-p", JSON.stringify([{ op: "replace", path: "/spec/nodes/rollout/paused", value: false }])]);
    const cr = await waitReady("Ready after resuming");
    expect(cr.status.nodes.desiredConfig).to.equal(waiting.status.nodes.desiredConfig);
    expect(rec.maxInFlight, `within maxUnavailable=2 after resuming (worst: ${rec.worst})`).to.be.at.most(2);
    for (const n of NODES) expect(rec.desiredHistory.get(n), n).to.deep.equal([targetOf(cr, n)]);
  });

  let good: Json;
  let bad: Record<string, string>;

  it("apt-get failing on one host (maxUnavailable=2): that node Degraded naming the task and staying so while its agent retries, the rollout stops there, the CR names it", async () => {
    good = await installation(cp);
    rec.reset();
    host(BROKEN).system.failInstall.add("htop");
    await patch({ os: { packages: ["htop"] } });
    const gen = (await installation(cp)).metadata.generation;
    const cr = await until(async () => {
      const c = await installation(cp);
      const v = view(BROKEN);
      return c?.status?.observedGeneration === gen && v.state === "Degraded" && v.desired === targetOf(c, BROKEN) && c.status.nodes.degraded === 1 ? c : undefined;
    }, 60_000, () => `${BROKEN} Degraded: ${describeNodes()}`);
    // enough for the operator to wrongly move on, several agent retries included (kwok-agents: 200 ms doubling to 2 s)
    await sleep(5000);
    await rec.caughtUp();
    bad = targets(cr);
    const states = rec.states.get(BROKEN) ?? [];
    expect(states.slice(states.indexOf("Degraded")), `${BROKEN} stays Degraded while its agent retries (states: ${states.join(" → ")})`).to.deep.equal(["Degraded"]);
    const broken = view(BROKEN);
    expect(broken.reason).to.match(/^Task packages\/base failed: .*htop/);
    expect(broken.current, "the failing node still reports its old config").to.equal(targetOf(good, BROKEN));
    expect(view("kwok-node-0"), "the first node took the new config").to.include({ state: "Done", current: targetOf(cr, "kwok-node-0") });
    for (const n of GPU_NODES) {
      expect(rec.desiredHistory.get(n) ?? [], `${n}: nothing handed out after the failure`).to.deep.equal([]);
      expect(view(n)).to.include({ state: "Done", current: targetOf(good, n) });
    }
    expect(rec.maxInFlight, rec.worst).to.be.at.most(2);
    const now = await installation(cp);
    expect(now.status.nodes).to.deep.include({ total: 4, updated: 1, degraded: 1 });
    expect(now.status.nodes.degradedNodes).to.deep.equal([{ name: BROKEN, reason: broken.reason }]);
    expect(now.status.phase).to.equal("Degraded");
    expect(condition(now, "Degraded")).to.include({ status: "True", reason: "NodesDegraded" });
    expect(condition(now, "Degraded")!.message).to.contain(BROKEN).and.to.contain("packages/base");
    expect(condition(now, "NodeConfigReady")!.message).to.match(new RegExp(`rollout stopped: node ${BROKEN} degraded`));
  });

  it("reverting the spec to what the degraded node still runs: it re-verifies, reports Done, the first node is moved back; the bad config is never handed out again", async () => {
    rec.reset();
    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "json", "-p", JSON.stringify([{ op: "remove", path: "/spec/os/packages" }])]);
    const cr = await waitReady("Ready after the revert");
    expect(cr.status.nodes.desiredConfig, "the revert is the config from before the bad change").to.equal(good.status.nodes.desiredConfig);
    expect(allDone(), describeNodes()).to.equal(true);
    expect(cr.status.nodes).to.deep.include({ total: 4, updated: 4, degraded: 0 });
    expect(cr.status.nodes.degradedNodes ?? []).to.deep.equal([]);
    expect(condition(cr, "Degraded")?.status).to.equal("False");
    expect(view(BROKEN).reason).to.equal("");
    expect(rec.handOuts.map((h) => h.config)).to.not.include(bad["default"]);
    // the degraded node is retargeted first (it re-verifies what it runs), then the node that took the bad config
    expect(rec.handOuts, "the GPU nodes never left the good config").to.deep.equal([
      { node: BROKEN, config: targetOf(cr, BROKEN) },
      { node: "kwok-node-0", config: targetOf(cr, "kwok-node-0") },
    ]);
    expect(rec.maxInFlight, rec.worst).to.be.at.most(2);
    host(BROKEN).system.failInstall.delete("htop");
    await patch({ nodes: { rollout: { maxUnavailable: 1 } } });
    await waitReady("Ready at maxUnavailable=1");
  });

  it("NVIDIA driver change: with allowReboot=false the first GPU node waits at RebootRequired (cordoned, no reboot); allowReboot=true drains and reboots each GPU node; the admin's cordon survives", async () => {
    const emulated = await Promise.all(GPU_NODES.map((n) => emulateDriverChange(host(n), NEW_DRIVER)));
    const cpuBefore = CPU_NODES.map((n) => view(n).current);
    rec.reset();
    const auditBefore = cp.audit().length;
    await patch({ gpu: { nvidia: { driver: { version: NEW_DRIVER } } } });
    const gen = (await installation(cp)).metadata.generation;
    await until(async () => {
      const c = await installation(cp);
      return c?.status?.observedGeneration === gen && c.status.nodes.degraded === 1 ? c : undefined;
    }, 90_000, () => `a GPU node waiting for its reboot: ${describeNodes()}`);
    await sleep(2000);
    await rec.caughtUp();
    const first = view("kwok-node-2");
    expect(first.state).to.equal("Degraded");
    expect(first.reason).to.match(/^RebootRequired: .*nvidia\/driver.*allowReboot=true/);
    expect(first.unschedulable, "stays cordoned until the reboot is done").to.equal(true);
    expect(emulated.map((e) => e.reboots()), "no reboot without allowReboot").to.deep.equal([0, 0]);
    expect(rec.handOuts.map((h) => h.node), "the rollout waits for that node").to.deep.equal(["kwok-node-2"]);
    const waiting = await installation(cp);
    expect(waiting.status.nodes.degradedNodes).to.deep.equal([{ name: "kwok-node-2", reason: first.reason }]);
    expect(condition(waiting, "NodeConfigReady")?.message).to.contain("reboot required on kwok-node-2");
    expect(view(ADMIN_CORDONED).unschedulable).to.equal(true);

    await patch({ nodes: { rollout: { allowReboot: true } } });
    const cr = await waitReady("Ready after the driver change", 240_000);
    expect(rec.maxInFlight, rec.worst).to.equal(1);
    expect(emulated.map((e) => e.reboots()), "one reboot per GPU node").to.deep.equal([1, 1]);
    for (const n of GPU_NODES) {
      expect(rec.everCordoned.has(n), `${n} cordoned for the driver change`).to.equal(true);
      expect(await readFile(join(host(n).root, NVIDIA_PROC_VERSION), "utf8")).to.contain(NEW_DRIVER);
    }
    for (const n of CPU_NODES) expect(rec.everCordoned.has(n), `${n} never cordoned`).to.equal(false);
    expect(CPU_NODES.map((n) => view(n).current), "the CPU nodes' config did not change").to.deep.equal(cpuBefore);
    expect(CPU_NODES.flatMap((n) => rec.desiredHistory.get(n) ?? [])).to.deep.equal([]);
    const evictions = cp.audit().slice(auditBefore).filter((e) => e.objectRef?.subresource === "eviction" && e.user.username === AGENT_USER);
    expect(evictions.length, "the agents drained through the eviction API").to.be.greaterThan(0);
    expect(cr.status.nodes).to.deep.include({ total: 4, updated: 4, degraded: 0 });
    expectCordonsRestored();
    await expectNoCordonRecords();
  });

  it("drift, driftPolicy Report: the node goes Degraded naming the file, left as found; Heal rewrites it and heals later drift without passing through Degraded", async () => {
    const file = join(host(DRIFTED).root, OLARES_RELEASE_FILE);
    const original = await readFile(file, "utf8");
    const tampered = "OLARES_VERSION=0.0.0-tampered\n";
    await writeFile(file, tampered);
    const cr = await until(async () => {
      const c = await installation(cp);
      return view(DRIFTED).state === "Degraded" && c?.status?.nodes?.degraded === 1 ? c : undefined;
    }, 30_000, () => `drift reported: ${describeNodes()}`);
    const reason = view(DRIFTED).reason;
    expect(reason).to.match(/^Drift: /);
    expect(reason).to.contain(OLARES_RELEASE_FILE).and.to.contain("content changed");
    expect(cr.status.nodes.degradedNodes).to.deep.equal([{ name: DRIFTED, reason }]);
    expect(condition(cr, "Degraded")?.message).to.contain(DRIFTED).and.to.contain(OLARES_RELEASE_FILE);
    await sleep(3000);
    expect(await readFile(file, "utf8"), "Report never heals").to.equal(tampered);
    for (const n of NODES.filter((x) => x !== DRIFTED)) expect(view(n).state, n).to.equal("Done");

    await patch({ nodes: { driftPolicy: "Heal" } });
    await waitReady("Ready after switching to Heal");
    expect(await readFile(file, "utf8")).to.equal(original);
    rec.reset();
    await writeFile(file, tampered);
    await until(async () => (await readFile(file, "utf8")) === original, 30_000, () => `${OLARES_RELEASE_FILE} on ${DRIFTED} healed (${describeNodes()})`);
    await rec.caughtUp();
    expect(rec.everDegraded.has(DRIFTED), "healing does not pass through Degraded").to.equal(false);
    expect(view(DRIFTED).state).to.equal("Done");
  });

  it(`${KILLS} SIGKILLs of the operator (the chart's ServiceAccount) during rollouts of five edits: a last one converges, never more than maxUnavailable in flight, each node handed each config at most once`, async function () {
    // 20 process starts (each loads the bundle and syncs its caches): ~2 min on an idle 2-core machine
    this.timeout(480_000);
    await operator!.stop();
    operator = undefined;
    const entry = operatorBundle();
    const sysctl = (v: string) => patch({ os: { sysctl: { "vm.swappiness": v } } });
    rec.reset();
    // An edit before every fourth operator start (while no operator runs): a node's config takes about a
    // second here, so the next operator's kill lands mid-rollout.
    const swappiness = (i: number) => String(10 + i);
    let lastValue = "";
    let killedMidRollout = 0;
    for (let i = 0; i < KILLS; i++) {
      if (i % 4 === 0) await sysctl((lastValue = swappiness(i)));
      const handOutsBefore = rec.handOuts.length;
      const op = await startOperatorProcess({ kubeconfig: operatorKubeconfig, entry, identity: `kill-${i}`, logFile: join(cp.dir, "logs", `operator-kill-${i}.log`), env: { OLARES_HELM_AS: INSTALLER_USER } });
      if (Math.random() < 0.25) await sleep(Math.random() * 1500);
      else {
        await waitOperatorReady(op, 60_000);
        await sleep(200 + Math.random() * 1000);
      }
      const flyingAtKill = rec.nodes().some((v) => v.state === "Working" || v.desired !== v.current);
      await op.kill();
      await rec.caughtUp();
      if (flyingAtKill && rec.handOuts.length > handOutsBefore) killedMidRollout++;
    }
    expect(killedMidRollout, "kills that landed while a node was in flight, after that operator had handed one out").to.be.greaterThan(2);
    process.stdout.write(`      (${killedMidRollout} of ${KILLS} kills landed mid-rollout)\n`);

    const last = await startOperatorProcess({ kubeconfig: operatorKubeconfig, entry, identity: "survivor", logFile: join(cp.dir, "logs", "operator-survivor.log"), env: { OLARES_HELM_AS: INSTALLER_USER } });
    try {
      const cr = await waitReady(`Ready after the kills (logs in ${cp.dir}/logs)`, 180_000);
      expect(rec.maxInFlight, `never more than one node in flight across ${KILLS} crashes (worst: ${rec.worst})`).to.equal(1);
      for (const n of NODES) {
        expect(view(n).current, n).to.equal(targetOf(cr, n));
        const history = rec.desiredHistory.get(n) ?? [];
        expect(new Set(history).size, `${n}: no config handed out twice (${history.join(" → ")})`).to.equal(history.length);
        expect(history.at(-1), n).to.equal(targetOf(cr, n));
        expect(await readFile(join(host(n).root, "etc/sysctl.d/90-olares.conf"), "utf8"), `${n}: the last sysctl edit`).to.match(new RegExp(`^vm\\.swappiness ?= ?${lastValue}$`, "m"));
      }
      expect((cr.metadata.finalizers as string[]).filter((f) => f === "olares.com/host-cleanup")).to.have.length(1);
      const releases = (await getJson(cp, `/api/v1/namespaces/os-framework/secrets?labelSelector=${encodeURIComponent("owner=helm,name=os-framework")}`)).items as Json[];
      expect(releases.filter((s) => /^pending-/.test(s.metadata.labels.status)), "no helm release left pending by a kill").to.deep.equal([]);
    } finally {
      await last.stop();
    }
  });

  it("neither the operator nor a node agent was ever refused a request (403) by RBAC", () => {
    const events = cp.audit();
    expect(events.filter((e) => e.user.username === OPERATOR_USER).length).to.be.greaterThan(10);
    expect(events.filter((e) => e.user.username === AGENT_USER).length).to.be.greaterThan(10);
    expect(forbiddenRequests(events, OPERATOR_USER), "operator requests refused by RBAC").to.deep.equal([]);
    expect(forbiddenRequests(events, AGENT_USER), "node-agent requests refused by RBAC").to.deep.equal([]);
  });
});
