// spec + cluster facts → one NodeConfig per node group: "default" (every selected node) and "nvidia"
// (nodes labelled olares.com/gpu.nvidia=true, when GPUs are managed). Pure.
import type { OlaresInstallationSpec } from "../../api/index.js";
import { nodeConfigId, validateHostTasks, type HostTask } from "../host-tasks.js";
import { renderContext } from "../context.js";
import { LABEL_GPU_NVIDIA } from "../names.js";
import type { ClusterFacts, NodeConfig } from "../types.js";
import { gpuTasks } from "./gpu-tasks.js";
import { osTasks } from "./os-tasks.js";

export const DEFAULT_GROUP = "default";
export const NVIDIA_GROUP = "nvidia";

export type HostNodeConfig = Omit<NodeConfig, "tasks"> & { tasks: HostTask[] };

export { BASE_PACKAGES, BASE_SYSCTL, REMOVED_PACKAGES, OLARESD_DEFAULT_URL_PATTERN, TASK_IDS } from "./os-tasks.js";
export { DEFAULT_NVIDIA_DRIVER_BRANCH, GPU_TASK_IDS } from "./gpu-tasks.js";
export { describeTask, describeNodeConfig } from "./describe.js";

export function isNvidiaNode(labels: Record<string, string> | undefined): boolean {
  return labels?.[LABEL_GPU_NVIDIA] === "true";
}

function gpuManaged(spec: OlaresInstallationSpec): boolean {
  return (spec.gpu?.enabled ?? "auto") !== "false";
}

function config(group: string, tasks: HostTask[]): HostNodeConfig {
  const errors = validateHostTasks(tasks);
  if (errors.length > 0) throw new Error(`node config ${group}: ${errors.join("; ")}`);
  return { id: nodeConfigId(tasks), group, tasks };
}

/**
 * "nvidia" is rendered when GPUs are managed and a selected node carries the label, or when
 * spec.gpu.enabled is "true" (so `plan` shows it before any node is labelled).
 * Throws when a spec value fails the host-task rules (the API validation should have caught it).
 */
export function renderNodeConfigs(spec: OlaresInstallationSpec, facts: ClusterFacts): HostNodeConfig[] {
  const ctx = renderContext(spec, facts);
  const { beforeGpu, afterGpu } = osTasks(ctx);
  const out = [config(DEFAULT_GROUP, [...beforeGpu, ...afterGpu])];
  const anyGpuNode = facts.nodes.some((n) => isNvidiaNode(n.labels));
  if (gpuManaged(spec) && (anyGpuNode || spec.gpu?.enabled === "true")) {
    out.push(config(NVIDIA_GROUP, [...beforeGpu, ...gpuTasks(spec), ...afterGpu]));
  }
  return out;
}

/** The config a node should run: its GPU group when it has one, else the default. */
export function nodeConfigFor(configs: readonly NodeConfig[], labels: Record<string, string> | undefined): NodeConfig | undefined {
  if (isNvidiaNode(labels)) {
    const gpu = configs.find((c) => c.group === NVIDIA_GROUP);
    if (gpu) return gpu;
  }
  return configs.find((c) => c.group === DEFAULT_GROUP);
}
