/**
 * Rolls node configs out to Nodes, the Machine Config Operator way.
 *
 * The controller only writes annotations: `olares.com/desired-config=<id>` on at most maxUnavailable
 * nodes at a time, plus the policy annotations (`olares.com/drift-policy`, `olares.com/allow-reboot`)
 * copied from spec.nodes so a policy change reaches the agents without a new config. Everything else is
 * read back from what the agents report (`current-config`, `state`, `reason`), so a restarted operator
 * computes the same status: nothing is remembered in memory.
 *
 * Where cordon/drain lives: in the node agent (operator/src/agent/drain.ts), as in the classic MCO
 * daemon. Only the agent knows, after validating the config it fetched, how disruptive the change from
 * the config it really applied is; it must drain before applying and before rebooting; after a restart it
 * simply drains again (idempotent; the cordon record lives on the Node) or finishes a reboot from its
 * state file. This function stays a level-triggered step that never blocks a reconcile on a
 * PodDisruptionBudget (drain timeouts surface as the node's Degraded reason).
 *
 * A Degraded node stops the rollout for healthy nodes, but Degraded nodes not on the current target are
 * handed it first: that is how a broken config is fixed by editing the spec. The agent records
 * `olares.com/was-unschedulable` before cordoning and only uncordons when that says "false"; the
 * controller only touches schedulability when it gives up on a node without an agent during cleanup,
 * under the same rule.
 */
import type { DefaultedSpec } from "../api/index.js";
import type { ClusterClient } from "../kube/types.js";
import type { KubeObject, Logger, NodeConfig, ObservedState, OwnerReference } from "../contract/index.js";
import { LABEL_NAME, NODE_AGENT_NAME } from "../contract/index.js";
import {
  ANNOTATION_ALLOW_REBOOT,
  ANNOTATION_CLEANUP_REQUESTED_AT,
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_DESIRED_CONFIG,
  ANNOTATION_DRIFT_POLICY,
  ANNOTATION_REASON,
  ANNOTATION_STATE,
  ANNOTATION_WAS_UNSCHEDULABLE,
  CLEANUP_CONFIG,
  isNodeReady,
  isUnschedulable,
  nodeConfigMap,
} from "../contract/index.js";
import { forEachLimited, NODE_PATCH_BUDGET, NODE_PATCH_CONCURRENCY } from "./node-writes.js";
import { configForNode, planHandOut, plannedNodes, resolveMaxUnavailable, selectNodes, type PlannedNode } from "./node-rollout-plan.js";

export interface RolloutContext {
  client: ClusterClient;
  observed: ObservedState;
  spec: DefaultedSpec;
  installationName: string;
  /** Namespace of the node configs and the agent DaemonSet ("olares-system"). */
  namespace: string;
  log: Logger;
  now(): Date;
  /** Told of every Node this step patched (read-your-writes for the next reconcile; NodeWriteOverlay). */
  recordNodeWrite?(before: KubeObject, after: KubeObject): void;
}

export interface RolloutStatus {
  total: number;
  /** Nodes left alone: skip label set, or outside spec.nodes.selector. */
  skipped: number;
  updated: number;
  working: number;
  degraded: number;
  desiredConfig?: string;
  degradedNodes: { name: string; reason: string }[];
  /** Nodes that applied a config needing a reboot that spec.nodes.rollout.allowReboot does not permit. */
  rebootRequired: string[];
  done: boolean;
  message: string;
}

/** After this long with cleanup requested and no agent pod on the node, cleanup gives up on that node. */
export const CLEANUP_AGENT_GRACE_MS = 10 * 60 * 1000;
export const REBOOT_REQUIRED_PREFIX = "RebootRequired";

type NodesSpec = NonNullable<DefaultedSpec["nodes"]>;

function nodesSpec(ctx: RolloutContext): NodesSpec {
  return ctx.spec.nodes;
}

/** Immutable, content-addressed ConfigMaps `olares-node-config-<id>` (one per distinct config). */
export function nodeConfigObjects(
  configs: NodeConfig[],
  labels: Record<string, string> = {},
  ownerReferences: OwnerReference[] = [],
  namespace = "olares-system",
): KubeObject[] {
  const seen = new Set<string>();
  const out: KubeObject[] = [];
  for (const c of configs) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    out.push(nodeConfigMap(c, namespace, labels, ownerReferences));
  }
  return out;
}

function nodeRef(name: string) {
  return { apiVersion: "v1", kind: "Node", name };
}

function policyAnnotations(ctx: RolloutContext): Record<string, string> {
  const spec = nodesSpec(ctx);
  return {
    [ANNOTATION_DRIFT_POLICY]: spec.driftPolicy === "Heal" ? "Heal" : "Report",
    [ANNOTATION_ALLOW_REBOOT]: String(spec.rollout?.allowReboot === true),
  };
}

function changedAnnotations(node: KubeObject, want: Record<string, string>): Record<string, string> {
  const have = node.metadata.annotations ?? {};
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
}

async function annotate(ctx: RolloutContext, node: KubeObject, annotations: Record<string, string | null>): Promise<void> {
  if (Object.keys(annotations).length === 0) return;
  const after = await ctx.client.patch(nodeRef(node.metadata.name), { metadata: { annotations } }, "merge");
  ctx.recordNodeWrite?.(node, after);
}

function describeDesired(configs: NodeConfig[]): string | undefined {
  if (configs.length === 0) return undefined;
  if (configs.length === 1) return configs[0]!.id;
  return configs.map((c) => `${c.group}=${c.id}`).join(",");
}

function aggregate(nodes: PlannedNode[]): Omit<RolloutStatus, "done" | "message" | "desiredConfig" | "skipped"> {
  const degradedNodes = nodes.filter((n) => n.hs.state === "Degraded").map((n) => ({ name: n.name, reason: n.hs.reason }));
  return {
    total: nodes.length,
    updated: nodes.filter((n) => n.hs.current === n.target && n.hs.state === "Done").length,
    working: nodes.filter((n) => n.hs.state === "Working").length,
    degraded: degradedNodes.length,
    degradedNodes,
    rebootRequired: degradedNodes.filter((d) => d.reason.startsWith(REBOOT_REQUIRED_PREFIX)).map((d) => d.name),
  };
}

function skippedNote(skipped: number): string {
  return `${skipped} ${skipped === 1 ? "node" : "nodes"} skipped (skip label or outside spec.nodes.selector)`;
}

function noNodesMessage(skipped: number, spec: NodesSpec): string {
  if (skipped === 0) return "no nodes in the cluster";
  return `no node selected: ${skippedNote(skipped)}; check spec.nodes.selector and the ${spec.skipLabel ?? "olares.com/skip-config"} label`;
}

function summarize(counts: ReturnType<typeof aggregate> & { skipped: number }, nodes: PlannedNode[], blockedBy: string | undefined): string {
  const parts = [`${counts.updated}/${counts.total} ${counts.total === 1 ? "node" : "nodes"} updated`];
  if (counts.skipped) parts.push(skippedNote(counts.skipped));
  const working = nodes.filter((n) => n.hs.state === "Working").map((n) => n.name);
  if (working.length) parts.push(`working: ${working.join(", ")}`);
  if (counts.degradedNodes.length) parts.push(`degraded: ${counts.degradedNodes.map((d) => `${d.name} (${d.reason || "no reason given"})`).join("; ")}`);
  if (counts.rebootRequired.length) parts.push(`reboot required on ${counts.rebootRequired.join(", ")}: set spec.nodes.rollout.allowReboot=true or reboot them`);
  if (blockedBy) parts.push(blockedBy);
  return parts.join("; ");
}

/**
 * One level-triggered rollout step: copies policy annotations, hands `desired-config` to as many nodes
 * as maxUnavailable allows, and reports the aggregate. Call it on every reconcile and on Node changes.
 */
export async function rolloutNodeConfigs(ctx: RolloutContext, configs: NodeConfig[], opts: { observeOnly?: boolean } = {}): Promise<RolloutStatus> {
  const spec = nodesSpec(ctx);
  const allNodes = ctx.observed.list("v1", "Node");
  const selected = selectNodes(allNodes, {
    ...(spec.selector ? { selector: spec.selector } : {}),
    ...(spec.skipLabel ? { skipLabel: spec.skipLabel } : {}),
  });
  const desiredConfig = describeDesired(configs);
  const nodes = plannedNodes(selected, (n) => configForNode(n, configs)?.id);
  const policy = policyAnnotations(ctx);

  const max = resolveMaxUnavailable(spec.rollout?.maxUnavailable, nodes.length);
  const plan = planHandOut(nodes, max, { paused: spec.rollout?.paused === true });
  // Hand-outs first (they carry the policy too, in the same patch), then policy-only updates; at most
  // NODE_PATCH_BUDGET per reconcile, the rest on the next one (the patched Nodes' events trigger it).
  // observeOnly (paused, or the stage's objects not ready yet): count what the nodes report, write nothing.
  const handOut = opts.observeOnly ? [] : plan.handOut.slice(0, NODE_PATCH_BUDGET);
  const handing = new Set(handOut.map((n) => n.name));
  const policyOnly = nodes
    .filter((n) => !opts.observeOnly && !handing.has(n.name))
    .map((n) => ({ n, changed: changedAnnotations(n.node, policy) }))
    .filter((p) => Object.keys(p.changed).length > 0)
    .slice(0, NODE_PATCH_BUDGET - handOut.length);
  await Promise.all([
    forEachLimited(handOut, NODE_PATCH_CONCURRENCY, async (n) => {
      ctx.log.info("node rollout: handing out config", { node: n.name, config: n.target, from: n.hs.current ?? "none" });
      await annotate(ctx, n.node, { ...changedAnnotations(n.node, policy), [ANNOTATION_DESIRED_CONFIG]: n.target });
      n.hs = { ...n.hs, desired: n.target };
    }),
    forEachLimited(policyOnly, Math.max(1, NODE_PATCH_CONCURRENCY - handOut.length), ({ n, changed }) => annotate(ctx, n.node, changed)),
  ]);
  const deferred = plan.handOut.length - handOut.length;

  const counts = { ...aggregate(nodes), skipped: allNodes.length - selected.length };
  const done = counts.total > 0 ? counts.updated === counts.total : configs.length === 0 || selected.length === 0;
  const pending = nodes.some((n) => n.hs.desired !== n.target);
  const blockedBy = done || !pending ? undefined : deferred > 0 ? `${deferred} more node(s) get their config on the next reconcile` : plan.blockedBy;
  return {
    ...counts,
    ...(desiredConfig ? { desiredConfig } : {}),
    done,
    message: counts.total === 0 ? noNodesMessage(counts.skipped, spec) : summarize(counts, nodes, blockedBy),
  };
}

async function agentPodNodes(ctx: RolloutContext): Promise<Set<string>> {
  const pods = await ctx.client.list("v1", "Pod", { namespace: ctx.namespace, labelSelector: `${LABEL_NAME}=${NODE_AGENT_NAME}` });
  return new Set(pods.map((p) => (p["spec"] as { nodeName?: string } | undefined)?.nodeName).filter((n): n is string => !!n));
}

const HANDSHAKE_ANNOTATIONS = [
  ANNOTATION_DESIRED_CONFIG,
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_STATE,
  ANNOTATION_REASON,
  ANNOTATION_DRIFT_POLICY,
  ANNOTATION_ALLOW_REBOOT,
  ANNOTATION_CLEANUP_REQUESTED_AT,
  ANNOTATION_WAS_UNSCHEDULABLE,
];

/** Removes every handshake annotation; uncordons only when our own record says the node was schedulable. */
async function forgetNode(ctx: RolloutContext, node: KubeObject): Promise<void> {
  const a = node.metadata.annotations ?? {};
  const annotations = Object.fromEntries(HANDSHAKE_ANNOTATIONS.filter((k) => k in a).map((k) => [k, null]));
  const uncordon = a[ANNOTATION_WAS_UNSCHEDULABLE] === "false" && isUnschedulable(node);
  if (Object.keys(annotations).length === 0 && !uncordon) return;
  await ctx.client.patch(nodeRef(node.metadata.name), { metadata: { annotations }, ...(uncordon ? { spec: { unschedulable: null } } : {}) }, "merge");
}

/**
 * Asks every selected node's agent to undo its config (desired-config=cleanup), maxUnavailable at a
 * time and regardless of `paused` (deletion must finish). A node counts as cleaned when its agent
 * reports current-config=cleanup/Done, when it never had a config, or when cleanup was requested more
 * than CLEANUP_AGENT_GRACE_MS ago and no agent pod (label app.kubernetes.io/name=olares-node-agent in
 * ctx.namespace) runs on it — a dead node must not block deletion forever. When every node is cleaned
 * the handshake annotations are removed. Keep the agent DaemonSet until this reports done.
 */
export async function cleanupNodes(ctx: RolloutContext): Promise<{ done: boolean; message: string }> {
  const spec = nodesSpec(ctx);
  const selected = selectNodes(ctx.observed.list("v1", "Node"), {
    ...(spec.selector ? { selector: spec.selector } : {}),
    ...(spec.skipLabel ? { skipLabel: spec.skipLabel } : {}),
  });
  const configured = plannedNodes(selected, () => CLEANUP_CONFIG).filter((n) => n.hs.desired !== undefined || n.hs.current !== undefined);
  const now = ctx.now().getTime();
  const withAgent = configured.some((n) => n.hs.desired === CLEANUP_CONFIG) ? await agentPodNodes(ctx) : new Set<string>();

  const abandoned = (n: PlannedNode): boolean => {
    const at = Date.parse(n.node.metadata.annotations?.[ANNOTATION_CLEANUP_REQUESTED_AT] ?? "");
    return n.hs.desired === CLEANUP_CONFIG && !withAgent.has(n.name) && Number.isFinite(at) && now - at > CLEANUP_AGENT_GRACE_MS;
  };
  const cleaned = (n: PlannedNode): boolean => (n.hs.current === CLEANUP_CONFIG && n.hs.state === "Done") || abandoned(n);

  const remaining = configured.filter((n) => !cleaned(n));
  if (remaining.length === 0) {
    await forEachLimited(selected, NODE_PATCH_CONCURRENCY, (n) => forgetNode(ctx, n));
    const gaveUp = configured.filter((n) => abandoned(n) && n.hs.current !== CLEANUP_CONFIG).map((n) => n.name);
    return {
      done: true,
      message: `host cleanup finished on ${configured.length} node(s)${gaveUp.length ? `; gave up on ${gaveUp.join(", ")} (no agent pod)` : ""}`,
    };
  }

  const max = resolveMaxUnavailable(spec.rollout?.maxUnavailable, configured.length);
  // Ready nodes follow the rollout rules (cleanup ignores `paused`); NotReady ones already count as
  // unavailable, so they get the request at once and their grace period starts.
  const plan = planHandOut(remaining, max, { paused: false });
  const notReady = remaining.filter((n) => !isNodeReady(n.node) && n.hs.desired !== CLEANUP_CONFIG);
  await forEachLimited([...plan.handOut, ...notReady], NODE_PATCH_CONCURRENCY, async (n) => {
    ctx.log.info("node cleanup: requesting host cleanup", { node: n.name, from: n.hs.current ?? "none" });
    await annotate(ctx, n.node, { [ANNOTATION_DESIRED_CONFIG]: CLEANUP_CONFIG, [ANNOTATION_CLEANUP_REQUESTED_AT]: ctx.now().toISOString() });
    n.hs = { ...n.hs, desired: CLEANUP_CONFIG };
  });
  const degraded = remaining.filter((n) => n.hs.state === "Degraded").map((n) => `${n.name} (${n.hs.reason || "no reason given"})`);
  const waiting = remaining.filter((n) => n.hs.state !== "Degraded").map((n) => n.name);
  const parts = [`host cleanup: ${configured.length - remaining.length}/${configured.length} nodes cleaned`];
  if (waiting.length) parts.push(`waiting for ${waiting.join(", ")}`);
  if (degraded.length) parts.push(`degraded: ${degraded.join("; ")}`);
  return { done: false, message: parts.join("; ") };
}
