// spec + cluster facts → one NodeConfig per node group: "default" (every selected node) and "nvidia"
// (nodes labelled olares.com/gpu.nvidia=true, when GPUs are managed). Pure.
import type { DefaultedSpec } from "../../api/index.js";
import { nodeConfigId, validateHostTasks, type HostTask } from "../../contract/index.js";
import { renderContext } from "../context.js";
import { DEFAULT_GROUP, isNvidiaNode, NVIDIA_GROUP } from "../../contract/index.js";
import type { ClusterFacts, NodeConfig } from "../../contract/index.js";
import { gpuTasks } from "./gpu-tasks.js";
import { osTasks } from "./os-tasks.js";

export { DEFAULT_GROUP, NVIDIA_GROUP, isNvidiaNode, nodeConfigFor } from "../../contract/index.js";

export type HostNodeConfig = Omit<NodeConfig, "tasks"> & { tasks: HostTask[] };

export { BASE_PACKAGES, BASE_SYSCTL, REMOVED_PACKAGES, OLARESD_DEFAULT_URL_PATTERN, TASK_IDS } from "./os-tasks.js";
export { DEFAULT_NVIDIA_DRIVER_BRANCH, GPU_TASK_IDS } from "./gpu-tasks.js";

function gpuManaged(spec: DefaultedSpec): boolean {
  return spec.gpu.enabled !== "false";
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
export function renderNodeConfigs(spec: DefaultedSpec, facts: ClusterFacts): HostNodeConfig[] {
  const ctx = renderContext(spec, facts);
  const { beforeGpu, afterGpu } = osTasks(ctx);
  const out = [config(DEFAULT_GROUP, [...beforeGpu, ...afterGpu])];
  const anyGpuNode = facts.nodes.some((n) => isNvidiaNode(n.labels));
  if (gpuManaged(spec) && (anyGpuNode || spec.gpu?.enabled === "true")) {
    out.push(config(NVIDIA_GROUP, [...beforeGpu, ...gpuTasks(spec), ...afterGpu]));
  }
  return out;
}
