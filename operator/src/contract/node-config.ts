// A NodeConfig (the typed host tasks for one node group) and its codec: how it travels to the agent in
// an immutable, content-addressed ConfigMap.
import type { KubeObject, OwnerReference } from "./objects.js";
import { canonicalJson, contentHash } from "./canonical.js";
import { CLEANUP_CONFIG, LABEL_GPU_NVIDIA, NODE_CONFIG_KEY, NODE_CONFIG_PREFIX } from "./names.js";

/** How disruptive applying a host task is; the rollout cordons/drains/reboots accordingly. */
export type Disruption = "none" | "restart-service" | "drain" | "reboot";

export const DISRUPTIONS: readonly Disruption[] = ["none", "restart-service", "drain", "reboot"];

/**
 * A typed, validated unit of host work. The agent interprets it; `plan` prints it. No task carries a
 * shell string built from user input. Every kind (contract/host-tasks/) has a `kind`, a stable `id`,
 * a human `description` and a disruption.
 */
export interface HostTaskBase {
  kind: string;
  /** Stable id inside a config, e.g. "dns/resolv.conf". */
  id: string;
  description: string;
  disruption: Disruption;
}

export interface NodeConfig<T extends HostTaskBase = HostTaskBase> {
  /** Content hash of `tasks` (first 10 hex of sha256 over canonical JSON). */
  id: string;
  /** Which nodes it is for (a node group; "default" for all selected nodes, "gpu" for NVIDIA nodes, ...). */
  group: string;
  tasks: T[];
}

/** Content hash of a task list: first 10 hex of sha256 over canonical JSON. */
export function nodeConfigId(tasks: readonly HostTaskBase[]): string {
  return contentHash(tasks);
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

export function maxDisruption(levels: Iterable<Disruption>): Disruption {
  let best = 0;
  for (const l of levels) best = Math.max(best, DISRUPTIONS.indexOf(l));
  return DISRUPTIONS[best]!;
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

/** Node groups: every selected node runs "default", NVIDIA nodes "nvidia" when that config exists. */
export const DEFAULT_GROUP = "default";
export const NVIDIA_GROUP = "nvidia";

export function isNvidiaNode(labels: Record<string, string> | undefined): boolean {
  return labels?.[LABEL_GPU_NVIDIA] === "true";
}

/** The config a node should run: its GPU group when it has one, else the default. */
export function nodeConfigFor<C extends NodeConfig>(configs: readonly C[], labels: Record<string, string> | undefined): C | undefined {
  if (isNvidiaNode(labels)) {
    const gpu = configs.find((c) => c.group === NVIDIA_GROUP);
    if (gpu) return gpu;
  }
  return configs.find((c) => c.group === DEFAULT_GROUP);
}
