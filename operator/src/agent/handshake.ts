// The Node handshake between the rollout controller and the node agent (MCO style), as pure data:
// annotation names, how a node's handshake is read, and how a NodeConfig travels in a ConfigMap.
// Both sides import this file; it does no I/O.
import type { Disruption, HostTaskBase, KubeObject, NodeConfig, OwnerReference } from "../render/types.js";
import { canonicalJson } from "../render/canonical.js";

export const ANNOTATION_DESIRED_CONFIG = "olares.com/desired-config";
export const ANNOTATION_CURRENT_CONFIG = "olares.com/current-config";
export const ANNOTATION_STATE = "olares.com/state";
export const ANNOTATION_REASON = "olares.com/reason";
/** "true"/"false": whether the node was unschedulable before the agent cordoned it (absent: not cordoned by us). */
export const ANNOTATION_WAS_UNSCHEDULABLE = "olares.com/was-unschedulable";
/** Policy the controller copies from spec.nodes onto each node, so a change reaches the agent without a new config. */
export const ANNOTATION_DRIFT_POLICY = "olares.com/drift-policy";
export const ANNOTATION_ALLOW_REBOOT = "olares.com/allow-reboot";
/** When the controller first asked the node for cleanup (RFC 3339), to give up on nodes without an agent. */
export const ANNOTATION_CLEANUP_REQUESTED_AT = "olares.com/cleanup-requested-at";

export { LABEL_GPU_NVIDIA } from "../render/names.js";
export const LABEL_GPU_MODEL = "olares.com/gpu.model";
export const LABEL_GPU_DRIVER_VERSION = "olares.com/gpu.driver-version";
export const LABEL_GPU_CUDA_VERSION = "olares.com/gpu.cuda-version";
export const DEFAULT_SKIP_LABEL = "olares.com/skip-config";

/** The desired-config value that asks the agent to undo everything it applied. */
export const CLEANUP_CONFIG = "cleanup";
export const NODE_CONFIG_PREFIX = "olares-node-config-";
export const NODE_CONFIG_KEY = "config.json";
/** Node annotations stay short enough to read in `kubectl describe`. */
export const MAX_REASON_LENGTH = 512;

export type AgentState = "Working" | "Done" | "Degraded";
export type DriftPolicy = "Report" | "Heal";

export interface NodeHandshake {
  desired?: string;
  current?: string;
  state?: AgentState;
  reason: string;
  driftPolicy: DriftPolicy;
  allowReboot: boolean;
  /** Set when the agent cordoned the node: whether it was unschedulable before. */
  wasUnschedulable?: boolean;
}

export function readHandshake(node: KubeObject): NodeHandshake {
  const a = node.metadata.annotations ?? {};
  const state = a[ANNOTATION_STATE];
  const was = a[ANNOTATION_WAS_UNSCHEDULABLE];
  return {
    ...(a[ANNOTATION_DESIRED_CONFIG] ? { desired: a[ANNOTATION_DESIRED_CONFIG] } : {}),
    ...(a[ANNOTATION_CURRENT_CONFIG] ? { current: a[ANNOTATION_CURRENT_CONFIG] } : {}),
    ...(state === "Working" || state === "Done" || state === "Degraded" ? { state } : {}),
    reason: a[ANNOTATION_REASON] ?? "",
    driftPolicy: a[ANNOTATION_DRIFT_POLICY] === "Heal" ? "Heal" : "Report",
    allowReboot: a[ANNOTATION_ALLOW_REBOOT] === "true",
    ...(was === "true" || was === "false" ? { wasUnschedulable: was === "true" } : {}),
  };
}

export function isUnschedulable(node: KubeObject): boolean {
  return (node["spec"] as { unschedulable?: boolean } | undefined)?.unschedulable === true;
}

export function isNodeReady(node: KubeObject): boolean {
  const conditions = (node["status"] as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

export function truncateReason(reason: string, max = MAX_REASON_LENGTH): string {
  const oneLine = reason.replace(/\s+/g, " ").trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

export function nodeConfigMapName(id: string): string {
  return `${NODE_CONFIG_PREFIX}${id}`;
}

const CONFIG_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A config id must be usable in a ConfigMap name and must not collide with the cleanup marker. */
export function checkConfigId(id: string): string {
  if (!CONFIG_ID.test(id) || id === CLEANUP_CONFIG) {
    throw new Error(`node config id "${id}": must be a lowercase DNS label (a-z, 0-9, "-") and not "${CLEANUP_CONFIG}"`);
  }
  return id;
}

/** Immutable, content-addressed ConfigMap carrying one NodeConfig. */
export function nodeConfigMap(
  config: NodeConfig,
  namespace: string,
  labels: Record<string, string> = {},
  ownerReferences: OwnerReference[] = [],
): KubeObject {
  checkConfigId(config.id);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: nodeConfigMapName(config.id),
      namespace,
      labels: { ...labels, "olares.com/node-config-group": config.group },
      ...(ownerReferences.length > 0 ? { ownerReferences } : {}),
    },
    immutable: true,
    data: { [NODE_CONFIG_KEY]: canonicalJson(config) },
  };
}

/** Reads the NodeConfig out of its ConfigMap; shape errors name the field. Task contents are validated by the agent. */
export function decodeNodeConfigMap(cm: KubeObject, expectedId: string): NodeConfig {
  const where = `configmap ${cm.metadata.namespace ?? ""}/${cm.metadata.name}`;
  const raw = (cm["data"] as Record<string, string> | undefined)?.[NODE_CONFIG_KEY];
  if (typeof raw !== "string") throw new Error(`${where}: data.${NODE_CONFIG_KEY} is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${where}: data.${NODE_CONFIG_KEY} is not JSON (${(err as Error).message})`);
  }
  const c = parsed as Partial<NodeConfig> | null;
  if (!c || typeof c !== "object") throw new Error(`${where}: data.${NODE_CONFIG_KEY} must be an object`);
  if (c.id !== expectedId) throw new Error(`${where}: id is "${String(c.id)}", expected "${expectedId}"`);
  if (typeof c.group !== "string") throw new Error(`${where}: group must be a string`);
  if (!Array.isArray(c.tasks)) throw new Error(`${where}: tasks must be an array`);
  c.tasks.forEach((t, i) => {
    if (!t || typeof t !== "object" || typeof (t as HostTaskBase).kind !== "string" || typeof (t as HostTaskBase).id !== "string") {
      throw new Error(`${where}: tasks[${i}] must be an object with string kind and id`);
    }
  });
  return c as NodeConfig;
}

const DISRUPTION_ORDER: Disruption[] = ["none", "restart-service", "drain", "reboot"];

export function maxDisruption(levels: Iterable<Disruption>): Disruption {
  let best = 0;
  for (const l of levels) best = Math.max(best, DISRUPTION_ORDER.indexOf(l));
  return DISRUPTION_ORDER[best]!;
}

/**
 * Highest disruption of moving a host from `from` to `to`: tasks that are new or changed in `to`,
 * plus tasks of `from` that `to` drops (undoing them disturbs the host just as much).
 * With `from` unknown every task of `to` counts.
 */
export function transitionDisruption(from: NodeConfig | undefined, to: NodeConfig | undefined): Disruption {
  const before = new Map((from?.tasks ?? []).map((t) => [t.id, canonicalJson(t)]));
  const after = new Map((to?.tasks ?? []).map((t) => [t.id, canonicalJson(t)]));
  const levels: Disruption[] = [];
  for (const t of to?.tasks ?? []) if (before.get(t.id) !== after.get(t.id)) levels.push(t.disruption);
  for (const t of from?.tasks ?? []) if (!after.has(t.id)) levels.push(t.disruption);
  return maxDisruption(levels);
}

export function needsDrain(d: Disruption): boolean {
  return d === "drain" || d === "reboot";
}
