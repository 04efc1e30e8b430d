// GPU: no workload of ours. The device plugin is the release's own `hami` chart (kube-system, installed
// in CoreServices with the installer's empty values, gpu/tasks.go@0c65ee70); the driver and the
// container toolkit are NodeConfig host tasks. This stage holds until every NVIDIA node carries the
// labels the release selects (gpu.bytetrade.io/cuda-supported, written by the node agent as olares-cli's
// UpdateNodeGpuLabel does), so hami's DaemonSets have their nodes when CoreServices installs it.
import type { ObservedState, Readiness, Stage } from "../../contract/index.js";
import { LABEL_BYTETRADE_GPU_CUDA_SUPPORTED, LABEL_GPU_NVIDIA } from "../../contract/index.js";
import type { RenderContext } from "../context.js";

const STAGE = "GPU" as const;

export function gpuEnabled(ctx: RenderContext): boolean {
  return ctx.spec.gpu.enabled !== "false";
}

/** Every node the agent found an NVIDIA GPU on is labelled for the release's hami; "true" needs one usable. */
export function gpuLabelsReadiness(observed: ObservedState, requireGpuNodes: boolean): Readiness {
  const gpuNodes = observed.list("v1", "Node").filter((n) => n.metadata.labels?.[LABEL_GPU_NVIDIA] === "true");
  if (gpuNodes.length === 0) {
    return requireGpuNodes
      ? { ready: false, reason: "NoGPUNodes", message: `gpu.enabled is "true" but no node is labelled ${LABEL_GPU_NVIDIA}=true` }
      : { ready: true, reason: "NoGPUNodes", message: "no NVIDIA GPU detected on any node" };
  }
  const label = (n: (typeof gpuNodes)[number]) => n.metadata.labels?.[LABEL_BYTETRADE_GPU_CUDA_SUPPORTED];
  const unlabelled = gpuNodes.filter((n) => label(n) === undefined).map((n) => n.metadata.name).sort();
  if (unlabelled.length) {
    return { ready: false, reason: "GPULabelsPending", message: `${LABEL_BYTETRADE_GPU_CUDA_SUPPORTED} not set yet on ${unlabelled.join(", ")} (the node agent writes it once the driver reports a CUDA version)` };
  }
  const supported = gpuNodes.filter((n) => label(n) === "true").map((n) => n.metadata.name).sort();
  const unsupported = gpuNodes.filter((n) => label(n) !== "true").map((n) => n.metadata.name).sort();
  if (supported.length === 0 && requireGpuNodes) {
    return { ready: false, reason: "CUDANotSupported", message: `gpu.enabled is "true" but no GPU node has a supported CUDA (${LABEL_BYTETRADE_GPU_CUDA_SUPPORTED}=false on ${unsupported.join(", ")})`, degraded: true };
  }
  const skipped = unsupported.length ? `; ${unsupported.join(", ")} ${LABEL_BYTETRADE_GPU_CUDA_SUPPORTED}=false (hami skips them)` : "";
  return { ready: true, reason: "GPUNodesLabelled", message: `${supported.length} GPU node(s) labelled for the release's hami: ${supported.join(", ") || "none"}${skipped}` };
}

export function renderGpu(ctx: RenderContext): Stage | undefined {
  if (!gpuEnabled(ctx)) return undefined;
  const required = ctx.spec.gpu.enabled === "true";
  return { name: STAGE, objects: [], ready: (observed) => gpuLabelsReadiness(observed, required) };
}
