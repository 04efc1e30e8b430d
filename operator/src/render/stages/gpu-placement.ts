// Where GPU DaemonSets run (the NVIDIA device plugin and HAMi's): nodes the agent labelled as having an
// NVIDIA GPU, tolerating the control-plane and the usual `nvidia.com/gpu` taints.
import { LABEL_GPU_NVIDIA } from "../../contract/index.js";
import { CONTROL_PLANE_TOLERATIONS } from "./node-agent.js";

export const GPU_RESOURCE = "nvidia.com/gpu";

export const GPU_NODE_SELECTOR = { [LABEL_GPU_NVIDIA]: "true" };
export const GPU_TOLERATIONS = [
  ...CONTROL_PLANE_TOLERATIONS,
  { effect: "NoSchedule", key: GPU_RESOURCE, operator: "Exists" },
];
