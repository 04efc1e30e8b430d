// The Node handshake between the rollout controller and the node agent (MCO style), as pure data:
// how a node's annotations are read, and the node facts both sides look at.
import type { KubeObject } from "./objects.js";
import {
  ANNOTATION_ALLOW_REBOOT,
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_DESIRED_CONFIG,
  ANNOTATION_DRIFT_POLICY,
  ANNOTATION_REASON,
  ANNOTATION_STATE,
  ANNOTATION_WAS_UNSCHEDULABLE,
  MAX_REASON_LENGTH,
} from "./names.js";

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

/** One line, at most `max` characters: node annotations stay readable in `kubectl describe`. */
export function truncateReason(reason: string, max = MAX_REASON_LENGTH): string {
  const oneLine = reason.replace(/\s+/g, " ").trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
