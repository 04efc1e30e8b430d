// spec → the extra host tasks of NVIDIA nodes: driver (reboot), container toolkit, containerd runtime.
import type { DefaultedSpec } from "../../api/index.js";
import type { HostTask } from "../../contract/index.js";

/** Driver branch installed when spec.gpu.nvidia.driver.version is empty. */
export const DEFAULT_NVIDIA_DRIVER_BRANCH = "570";

export const GPU_TASK_IDS = {
  driver: "nvidia/driver",
  toolkit: "nvidia/toolkit",
  runtime: "containerd/nvidia-runtime",
} as const;

export function gpuTasks(spec: DefaultedSpec): HostTask[] {
  const nvidia = spec.gpu.nvidia;
  const out: HostTask[] = [];
  if (nvidia.driver?.install !== false) {
    const version = nvidia.driver?.version || DEFAULT_NVIDIA_DRIVER_BRANCH;
    out.push({ kind: "nvidiaDriver", id: GPU_TASK_IDS.driver, description: `NVIDIA driver ${version}`, disruption: "reboot", version });
  }
  const toolkitVersion = nvidia.toolkit?.version ?? "";
  out.push({
    kind: "nvidiaToolkit",
    id: GPU_TASK_IDS.toolkit,
    description: `nvidia-container-toolkit ${toolkitVersion || "(distribution current)"}`,
    disruption: "none",
    version: toolkitVersion,
  });
  out.push({ kind: "containerdNvidiaRuntime", id: GPU_TASK_IDS.runtime, description: "NVIDIA runtime as containerd's default", disruption: "restart-service" });
  return out;
}
