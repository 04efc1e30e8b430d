// GPU: the NVIDIA device plugin (optionally time-sliced) or HAMi, on nodes labelled by the agent.
import type { KubeObject, ObservedState, Readiness, Stage } from "../../contract/index.js";
import { configHash, makeObject, selectorLabels, standardLabels, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { NVIDIA_DEVICE_PLUGIN_IMAGE } from "../images.js";
import { ANNOTATION_CONFIG_HASH, LABEL_GPU_NVIDIA, SYSTEM_NAMESPACE } from "../../contract/index.js";
import { GPU_NODE_SELECTOR, GPU_RESOURCE, GPU_TOLERATIONS } from "./gpu-placement.js";
import { renderHami } from "./gpu-hami.js";

const STAGE = "GPU" as const;
export const DEVICE_PLUGIN = "nvidia-device-plugin";
export const DEVICE_PLUGIN_CONFIG = "nvidia-device-plugin-config";

export function gpuEnabled(ctx: RenderContext): boolean {
  return (ctx.spec.gpu?.enabled ?? "auto") !== "false";
}

export function sharingMode(ctx: RenderContext): "None" | "TimeSlicing" | "HAMi" {
  return ctx.spec.gpu?.sharing?.mode ?? "None";
}

/** NVIDIA device plugin config (v1 format); time-slicing advertises each GPU `replicas` times. */
export function timeSlicingConfig(replicas: number): string {
  return [
    "version: v1",
    "flags:",
    "  migStrategy: none",
    "sharing:",
    "  timeSlicing:",
    "    resources:",
    `      - name: ${GPU_RESOURCE}`,
    `        replicas: ${replicas}`,
    "",
  ].join("\n");
}

function devicePluginObjects(ctx: RenderContext): KubeObject[] {
  const objects: KubeObject[] = [];
  const timeSlicing = sharingMode(ctx) === "TimeSlicing";
  const configData = timeSlicing ? { "config.yaml": timeSlicingConfig(ctx.spec.gpu?.sharing?.replicas ?? 2) } : undefined;
  if (configData) {
    objects.push(
      makeObject(ctx, STAGE, {
        apiVersion: "v1",
        kind: "ConfigMap",
        name: DEVICE_PLUGIN_CONFIG,
        namespace: SYSTEM_NAMESPACE,
        component: DEVICE_PLUGIN,
        body: { data: configData },
      }),
    );
  }
  const volumes: unknown[] = [{ name: "device-plugin", hostPath: { path: "/var/lib/kubelet/device-plugins" } }];
  const mounts: unknown[] = [{ name: "device-plugin", mountPath: "/var/lib/kubelet/device-plugins" }];
  const env: unknown[] = [{ name: "FAIL_ON_INIT_ERROR", value: "false" }];
  if (configData) {
    volumes.push({ name: "config", configMap: { name: DEVICE_PLUGIN_CONFIG } });
    mounts.push({ name: "config", mountPath: "/config", readOnly: true });
    env.push({ name: "CONFIG_FILE", value: "/config/config.yaml" });
  }
  objects.push(
    makeObject(ctx, STAGE, {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      name: DEVICE_PLUGIN,
      namespace: SYSTEM_NAMESPACE,
      component: DEVICE_PLUGIN,
      body: {
        spec: {
          selector: { matchLabels: selectorLabels(ctx, DEVICE_PLUGIN) },
          updateStrategy: { type: "RollingUpdate" },
          template: {
            metadata: {
              labels: standardLabels(ctx, STAGE, DEVICE_PLUGIN),
              ...(configData ? { annotations: { [ANNOTATION_CONFIG_HASH]: configHash(configData) } } : {}),
            },
            spec: {
              priorityClassName: "system-node-critical",
              nodeSelector: GPU_NODE_SELECTOR,
              tolerations: GPU_TOLERATIONS,
              containers: [
                {
                  name: "nvidia-device-plugin-ctr",
                  image: ctx.spec.gpu?.nvidia?.devicePlugin?.image ?? NVIDIA_DEVICE_PLUGIN_IMAGE,
                  imagePullPolicy: "IfNotPresent",
                  env,
                  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                  volumeMounts: mounts,
                },
              ],
              volumes,
            },
          },
        },
      },
    }),
  );
  return objects;
}

/** Every node the agent labelled as NVIDIA must advertise allocatable GPUs once the plugin runs. */
export function gpuNodesReadiness(observed: ObservedState, requireGpuNodes: boolean): Readiness {
  const gpuNodes = observed.list("v1", "Node").filter((n) => n.metadata.labels?.[LABEL_GPU_NVIDIA] === "true");
  if (gpuNodes.length === 0) {
    return requireGpuNodes
      ? { ready: false, reason: "NoGPUNodes", message: `gpu.enabled is "true" but no node is labelled ${LABEL_GPU_NVIDIA}=true` }
      : { ready: true, reason: "NoGPUNodes", message: "no NVIDIA GPU detected on any node" };
  }
  const missing = gpuNodes
    .filter((n) => {
      const alloc = ((n.status as { allocatable?: Record<string, string> } | undefined)?.allocatable ?? {})[GPU_RESOURCE];
      return !alloc || Number(alloc) <= 0;
    })
    .map((n) => n.metadata.name)
    .sort();
  if (missing.length) {
    return { ready: false, reason: "GPUNotAllocatable", message: `no allocatable ${GPU_RESOURCE} yet on ${missing.join(", ")}` };
  }
  return { ready: true, reason: "GPUAllocatable", message: `${gpuNodes.length} GPU node(s) advertise ${GPU_RESOURCE}` };
}

export function renderGpu(ctx: RenderContext): Stage | undefined {
  if (!gpuEnabled(ctx)) return undefined;
  const required = ctx.spec.gpu?.enabled === "true";
  const objects = sharingMode(ctx) === "HAMi" ? renderHami(ctx, STAGE) : devicePluginObjects(ctx);
  return {
    name: STAGE,
    objects,
    ready: (observed) => {
      const workloads = objectsReadiness(STAGE, objects, observed, { requireScheduled: required });
      if (!workloads.ready) return workloads;
      const nodes = gpuNodesReadiness(observed, required);
      return { ...nodes, components: workloads.components };
    },
  };
}
