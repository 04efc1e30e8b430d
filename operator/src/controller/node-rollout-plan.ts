// Pure decisions of the node rollout: which nodes are selected, which config each should run, which
// are unavailable, and which may be handed a new desired config now (MCO node controller semantics).
import { DEFAULT_SKIP_LABEL, isNodeReady, nodeConfigFor, readHandshake, type KubeObject, type NodeConfig, type NodeHandshake } from "../contract/index.js";

export interface NodeSelection {
  selector?: Record<string, string>;
  skipLabel?: string;
}

/** Nodes the rollout manages: matching spec.nodes.selector and not opted out with `<skipLabel>=true`. */
export function selectNodes(nodes: KubeObject[], sel: NodeSelection): KubeObject[] {
  const skip = sel.skipLabel ?? DEFAULT_SKIP_LABEL;
  return nodes
    .filter((n) => {
      const labels = n.metadata.labels ?? {};
      if (labels[skip] === "true") return false;
      return Object.entries(sel.selector ?? {}).every(([k, v]) => labels[k] === v);
    })
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** Config for the node's group ("nvidia" for NVIDIA-labelled nodes), falling back to "default". */
export function configForNode(node: KubeObject, configs: NodeConfig[]): NodeConfig | undefined {
  return nodeConfigFor(configs, node.metadata.labels);
}

/**
 * spec.nodes.rollout.maxUnavailable resolved against the number of selected nodes: an integer, or a
 * percentage rounded down; never below 1 (as MCO does), so a rollout always makes progress.
 */
export function resolveMaxUnavailable(value: number | string | undefined, total: number): number {
  if (value === undefined) return 1;
  let n: number;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`spec.nodes.rollout.maxUnavailable: ${value} must be a non-negative integer or a percentage like "25%"`);
    }
    n = value;
  } else {
    const m = /^(\d{1,3})%$/.exec(value.trim());
    if (m && Number(m[1]) <= 100) n = Math.floor((Number(m[1]) * total) / 100);
    else if (/^\d+$/.test(value.trim())) n = Number(value.trim());
    else throw new Error(`spec.nodes.rollout.maxUnavailable: "${value}" must be a non-negative integer or a percentage from "0%" to "100%"`);
  }
  return Math.max(1, n);
}

/**
 * A node counts against maxUnavailable when it is not Ready, Working, Degraded on the target config,
 * or handed a config it has not reached yet. A node Degraded on an older config is available: handing
 * it the new target is how a broken config gets fixed.
 */
export function isUnavailable(node: KubeObject, hs: NodeHandshake, target: string): boolean {
  if (!isNodeReady(node)) return true;
  if (hs.state === "Working") return true;
  if (hs.state === "Degraded") return hs.desired === target;
  return hs.desired !== undefined && hs.desired !== hs.current;
}

export interface PlannedNode {
  node: KubeObject;
  name: string;
  hs: NodeHandshake;
  target: string;
}

export interface HandOutPlan {
  /** Nodes to receive their target now. */
  handOut: PlannedNode[];
  unavailable: number;
  capacity: number;
  /** Why no (further) node is handed out, for the status message. */
  blockedBy?: string;
}

/**
 * Chooses the nodes that get their target now. While any node is Degraded only Degraded nodes that are
 * not on their target may be retargeted (fixing a bad config), never healthy ones.
 */
export function planHandOut(nodes: PlannedNode[], maxUnavailable: number, opts: { paused: boolean }): HandOutPlan {
  const unavailable = nodes.filter((n) => isUnavailable(n.node, n.hs, n.target)).length;
  const capacity = Math.max(0, maxUnavailable - unavailable);
  if (opts.paused) return { handOut: [], unavailable, capacity, blockedBy: "rollout paused (spec.nodes.rollout.paused)" };
  const degraded = nodes.filter((n) => n.hs.state === "Degraded");
  let candidates = nodes.filter((n) => n.hs.desired !== n.target && isNodeReady(n.node));
  let blockedBy: string | undefined;
  if (degraded.length > 0) {
    const healthy = candidates.filter((n) => n.hs.state !== "Degraded");
    candidates = candidates.filter((n) => n.hs.state === "Degraded");
    if (healthy.length > 0) blockedBy = `rollout stopped: node ${degraded.map((d) => d.name).join(", ")} degraded`;
  }
  const handOut = candidates.slice(0, capacity);
  return { handOut, unavailable, capacity, ...(blockedBy ? { blockedBy } : {}) };
}

export function plannedNodes(selected: KubeObject[], targetOf: (node: KubeObject) => string | undefined): PlannedNode[] {
  const out: PlannedNode[] = [];
  for (const node of selected) {
    const target = targetOf(node);
    if (target !== undefined) out.push({ node, name: node.metadata.name, hs: readHandshake(node), target });
  }
  return out;
}
