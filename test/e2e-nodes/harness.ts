// Node-rollout tests on the cluster simulator: the simulator, the real operator in-process (runOperator),
// real node agents on simulated hosts (test/sim/agent-runner.ts), the real kubectl; plus a recorder that
// samples every Node watch event to check rollout invariants at every moment, not only at the end.
import { stringify } from "yaml";
import { attachAgents, type AgentRunner, type AgentRunnerOptions, type SimulatedHost } from "../sim/agent-runner.js";
import { startSimulator, type Simulator, type SimulatorOptions } from "../sim/server.js";
import type { Json, KObj } from "../sim/types.js";
import {
  ensureTools,
  explainNotReady,
  installation,
  installOperatorManifests,
  isReady,
  kubectlOk,
  operatorManifests,
  startOperatorInProcess,
  waitFor,
  type InProcessOperator,
} from "../e2e/cluster.js";
import {
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_DESIRED_CONFIG,
  ANNOTATION_REASON,
  ANNOTATION_STATE,
} from "../../operator/src/contract/index.js";

export { condition, installation, isReady, kubectlOk, waitFor } from "../e2e/cluster.js";

export interface NodeView {
  name: string;
  desired?: string;
  current?: string;
  state?: string;
  reason: string;
  unschedulable: boolean;
}

export function nodeView(node: KObj): NodeView {
  const a = node.metadata.annotations ?? {};
  return {
    name: node.metadata.name!,
    ...(a[ANNOTATION_DESIRED_CONFIG] ? { desired: a[ANNOTATION_DESIRED_CONFIG] } : {}),
    ...(a[ANNOTATION_CURRENT_CONFIG] ? { current: a[ANNOTATION_CURRENT_CONFIG] } : {}),
    ...(a[ANNOTATION_STATE] ? { state: a[ANNOTATION_STATE] } : {}),
    reason: a[ANNOTATION_REASON] ?? "",
    unschedulable: node.spec?.unschedulable === true,
  };
}

/** A node the rollout is touching: its agent works, or it was handed a config it has not reached. */
export const inFlight = (v: NodeView): boolean => v.state === "Working" || (v.desired !== undefined && v.desired !== v.current);

export interface NodeRecorder {
  /** Largest number of nodes in flight at the same moment (after any single Node write). */
  readonly maxInFlight: number;
  /** Each desired-config value handed to a node since the last reset(), in order (changes only). */
  readonly desiredHistory: Map<string, string[]>;
  /** Every hand-out since the last reset(), in order. */
  readonly handOuts: Array<{ node: string; config: string }>;
  /** Nodes seen unschedulable at any moment. */
  readonly everCordoned: Set<string>;
  /** The store revision and the nodes in flight at the worst moment, for failure messages. */
  readonly worst: string;
  reset(): void;
  stop(): void;
}

/** Samples all Nodes on every Node write in the store (synchronous change feed: no event is missed). */
export function recordNodes(sim: Simulator): NodeRecorder {
  let maxInFlight = 0;
  let worst = "";
  const desiredHistory = new Map<string, string[]>();
  const everCordoned = new Set<string>();
  const handOuts: Array<{ node: string; config: string }> = [];
  const lastDesired = new Map<string, string | undefined>(sim.store.list("/nodes").map((n) => [n.metadata.name!, nodeView(n).desired]));
  const sample = (rv: string | number) => {
    const views = sim.store.list("/nodes").map(nodeView);
    const flying = views.filter(inFlight);
    if (flying.length > maxInFlight) {
      maxInFlight = flying.length;
      worst = `rv ${rv}: ${flying.map((v) => `${v.name} ${v.state ?? "-"} ${v.current ?? "-"}→${v.desired ?? "-"}`).join(", ")}`;
    }
    for (const v of views) {
      if (v.unschedulable) everCordoned.add(v.name);
      if (lastDesired.get(v.name) === v.desired) continue;
      lastDesired.set(v.name, v.desired);
      if (!v.desired) continue;
      desiredHistory.set(v.name, [...(desiredHistory.get(v.name) ?? []), v.desired]);
      handOuts.push({ node: v.name, config: v.desired });
    }
  };
  const unsubscribe = sim.store.subscribe("/nodes", (ev) => sample(ev.rv));
  return {
    get maxInFlight() {
      return maxInFlight;
    },
    get worst() {
      return worst;
    },
    desiredHistory,
    handOuts,
    everCordoned,
    reset() {
      handOuts.length = 0;
      maxInFlight = 0;
      worst = "";
      desiredHistory.clear();
      everCordoned.clear();
    },
    stop: unsubscribe,
  };
}

export interface NodeTestbed {
  sim: Simulator;
  agents: AgentRunner;
  operator: InProcessOperator;
  kubeconfig: string;
  nodeNames: string[];
  host(name: string): SimulatedHost;
  nodes(): NodeView[];
  stop(): Promise<void>;
}

export interface TestbedOptions {
  sim: SimulatorOptions;
  agents?: AgentRunnerOptions;
  /** Runs once the simulator is up, before the operator starts (e.g. `kubectl cordon`). */
  beforeOperator?: (sim: Simulator) => Promise<void>;
}

/** Simulator + CRDs (the chart's manifests through the real kubectl) + agents + the real operator. */
export async function startTestbed(opts: TestbedOptions): Promise<NodeTestbed> {
  ensureTools();
  const sim = await startSimulator(opts.sim);
  const agents = attachAgents(sim, opts.agents);
  let operator: InProcessOperator | undefined;
  try {
    await installOperatorManifests(sim.kubeconfigPath, await operatorManifests());
    await opts.beforeOperator?.(sim);
    operator = await startOperatorInProcess(sim.kubeconfigPath);
  } catch (err) {
    await agents.stop();
    await sim.stop();
    throw err;
  }
  const nodeNames = sim.store.list("/nodes").map((n) => n.metadata.name!).sort();
  return {
    sim,
    agents,
    operator,
    kubeconfig: sim.kubeconfigPath,
    nodeNames,
    host(name) {
      const h = agents.hosts.get(name);
      if (!h) throw new Error(`no simulated host for ${name} yet (its agent pod has not started)`);
      return h;
    },
    nodes: () => sim.store.list("/nodes").map(nodeView).sort((a, b) => a.name.localeCompare(b.name)),
    async stop() {
      await operator!.stop();
      await agents.stop();
      await sim.stop();
    },
  };
}

/** The smallest installation that still exercises every stage: OS tasks from the defaults plus `nodes`. */
export function installationManifest(nodes: Json = {}, extra: Json = {}): string {
  return stringify({
    apiVersion: "olares.com/v1alpha1",
    kind: "OlaresInstallation",
    metadata: { name: "olares" },
    spec: {
      version: "1.12.1",
      owner: { username: "alice", domain: "olares.com" },
      storage: { type: "LocalFS", rootPath: "/olares" },
      nodes,
      ...extra,
    },
  });
}

export async function applyInstallation(bed: NodeTestbed, nodes: Json = {}, extra: Json = {}): Promise<void> {
  await kubectlOk(bed.kubeconfig, ["apply", "-f", "-"], { input: installationManifest(nodes, extra) });
}

export async function patchInstallation(bed: NodeTestbed, patch: Json): Promise<void> {
  await kubectlOk(bed.kubeconfig, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify(patch)]);
}

export const allDoneOn = (views: NodeView[], config?: string): boolean =>
  views.length > 0 && views.every((v) => v.state === "Done" && v.current !== undefined && v.current === v.desired && (config === undefined || v.current === config));

export function describeNodes(bed: NodeTestbed): string {
  return bed.nodes().map((v) => `${v.name}: ${v.state ?? "-"} ${v.current ?? "-"}→${v.desired ?? "-"}${v.unschedulable ? " cordoned" : ""}${v.reason ? ` (${v.reason})` : ""}`).join("; ");
}

/** Ready for the current generation with every node Done on its desired config. */
export async function waitReady(bed: NodeTestbed, what: string, timeoutMs = 30_000): Promise<KObj> {
  return waitFor(bed.sim, () => {
    const cr = installation(bed.sim);
    return isReady(cr) && allDoneOn(bed.nodes()) ? cr : undefined;
  }, timeoutMs, () => `${what}: ${explainNotReady(installation(bed.sim))}\nnodes: ${describeNodes(bed)}`);
}

/** The config id the operator currently rolls out to default-group nodes (status.nodes.desiredConfig). */
export function desiredConfigOf(cr: KObj | undefined): string | undefined {
  return cr?.status?.nodes?.desiredConfig;
}
