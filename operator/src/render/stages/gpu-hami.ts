// HAMi GPU sharing: its device plugin (replaces NVIDIA's) and a second scheduler with the HAMi
// extender. Pods opt in with `schedulerName: hami-scheduler` (HAMi's mutating webhook is not rendered).
import type { KubeObject, StageName } from "../../contract/index.js";
import { configHash, makeObject, selectorLabels, standardLabels, type RenderContext } from "../context.js";
import { HAMI_IMAGE, KUBE_SCHEDULER_IMAGE } from "../images.js";
import { ANNOTATION_CONFIG_HASH, SYSTEM_NAMESPACE } from "../../contract/index.js";
import { CONTROL_PLANE_TOLERATIONS } from "./node-agent.js";
import { GPU_NODE_SELECTOR, GPU_TOLERATIONS } from "./gpu-placement.js";

export const HAMI_SCHEDULER = "hami-scheduler";
export const HAMI_DEVICE_PLUGIN = "hami-device-plugin";
const EXTENDER_PORT = 8888;
/** HAMi default: one GPU can back up to 10 vGPUs (sharing.replicas is a TimeSlicing knob). */
const DEVICE_SPLIT_COUNT = 10;

const HAMI_RESOURCES = ["nvidia.com/gpu", "nvidia.com/gpucores", "nvidia.com/gpumem", "nvidia.com/gpumem-percentage"];

function schedulerConfig(): string {
  const lines = [
    "apiVersion: kubescheduler.config.k8s.io/v1",
    "kind: KubeSchedulerConfiguration",
    "leaderElection:",
    "  leaderElect: false",
    "profiles:",
    `  - schedulerName: ${HAMI_SCHEDULER}`,
    "extenders:",
    `  - urlPrefix: "http://127.0.0.1:${EXTENDER_PORT}"`,
    "    filterVerb: filter",
    "    bindVerb: bind",
    "    nodeCacheCapable: true",
    "    weight: 1",
    "    httpTimeout: 30s",
    "    enableHTTPS: false",
    "    managedResources:",
    ...HAMI_RESOURCES.flatMap((r) => [`      - name: ${r}`, "        ignoredByScheduler: true"]),
    "",
  ];
  return lines.join("\n");
}

function rbac(ctx: RenderContext, stage: StageName, name: string, rules: unknown[], extraClusterRoles: string[] = []): KubeObject[] {
  const subjects = [{ kind: "ServiceAccount", name, namespace: SYSTEM_NAMESPACE }];
  const binding = (bindingName: string, role: string) =>
    makeObject(ctx, stage, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      name: bindingName,
      component: name,
      body: { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role }, subjects },
    });
  return [
    makeObject(ctx, stage, { apiVersion: "v1", kind: "ServiceAccount", name, namespace: SYSTEM_NAMESPACE, component: name, body: {} }),
    makeObject(ctx, stage, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", name, component: name, body: { rules } }),
    binding(name, name),
    ...extraClusterRoles.map((role) => binding(`${name}-${role.replace(/^system:/, "")}`, role)),
  ];
}

export function renderHami(ctx: RenderContext, stage: StageName): KubeObject[] {
  const configData = { "config.yaml": schedulerConfig() };
  const nodeRules = [
    { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "patch", "update", "watch"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "patch", "update", "watch"] },
  ];
  const schedulerRules = [
    ...nodeRules,
    { apiGroups: [""], resources: ["pods/binding"], verbs: ["create"] },
    { apiGroups: [""], resources: ["configmaps"], verbs: ["create", "get", "list", "update", "watch"] },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  ];
  return [
    ...rbac(ctx, stage, HAMI_SCHEDULER, schedulerRules, ["system:kube-scheduler", "system:volume-scheduler"]),
    makeObject(ctx, stage, {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: HAMI_SCHEDULER,
      namespace: SYSTEM_NAMESPACE,
      component: HAMI_SCHEDULER,
      body: { data: configData },
    }),
    makeObject(ctx, stage, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: HAMI_SCHEDULER,
      namespace: SYSTEM_NAMESPACE,
      component: HAMI_SCHEDULER,
      body: {
        spec: {
          replicas: 1,
          selector: { matchLabels: selectorLabels(ctx, HAMI_SCHEDULER) },
          template: {
            metadata: { labels: standardLabels(ctx, stage, HAMI_SCHEDULER), annotations: { [ANNOTATION_CONFIG_HASH]: configHash(configData) } },
            spec: {
              serviceAccountName: HAMI_SCHEDULER,
              priorityClassName: "system-cluster-critical",
              tolerations: CONTROL_PLANE_TOLERATIONS,
              containers: [
                {
                  name: "kube-scheduler",
                  image: KUBE_SCHEDULER_IMAGE,
                  imagePullPolicy: "IfNotPresent",
                  command: ["kube-scheduler", "--config=/config/config.yaml", "--leader-elect=false"],
                  resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                  volumeMounts: [{ name: "scheduler-config", mountPath: "/config", readOnly: true }],
                },
                {
                  name: "vgpu-scheduler-extender",
                  image: HAMI_IMAGE,
                  imagePullPolicy: "IfNotPresent",
                  command: [
                    "scheduler",
                    `--http_bind=127.0.0.1:${EXTENDER_PORT}`,
                    `--scheduler-name=${HAMI_SCHEDULER}`,
                    "--default-mem=0",
                    "--default-gpu=1",
                    "--default-cores=0",
                  ],
                  resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                },
              ],
              volumes: [{ name: "scheduler-config", configMap: { name: HAMI_SCHEDULER } }],
            },
          },
        },
      },
    }),
    ...rbac(ctx, stage, HAMI_DEVICE_PLUGIN, nodeRules),
    makeObject(ctx, stage, {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      name: HAMI_DEVICE_PLUGIN,
      namespace: SYSTEM_NAMESPACE,
      component: HAMI_DEVICE_PLUGIN,
      body: {
        spec: {
          selector: { matchLabels: selectorLabels(ctx, HAMI_DEVICE_PLUGIN) },
          updateStrategy: { type: "RollingUpdate" },
          template: {
            metadata: { labels: standardLabels(ctx, stage, HAMI_DEVICE_PLUGIN) },
            spec: {
              serviceAccountName: HAMI_DEVICE_PLUGIN,
              priorityClassName: "system-node-critical",
              hostPID: true,
              nodeSelector: GPU_NODE_SELECTOR,
              tolerations: GPU_TOLERATIONS,
              containers: [
                {
                  name: "device-plugin",
                  image: HAMI_IMAGE,
                  imagePullPolicy: "IfNotPresent",
                  command: [
                    "nvidia-device-plugin",
                    "--mig-strategy=none",
                    `--device-split-count=${DEVICE_SPLIT_COUNT}`,
                    "--device-memory-scaling=1",
                    "--device-cores-scaling=1",
                  ],
                  env: [
                    { name: "HOOK_PATH", value: "/usr/local" },
                    { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                    { name: "NVIDIA_MIG_MONITOR_DEVICES", value: "all" },
                  ],
                  securityContext: { privileged: true },
                  resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                  volumeMounts: [
                    { name: "device-plugin", mountPath: "/var/lib/kubelet/device-plugins" },
                    { name: "lib", mountPath: "/usr/local/vgpu" },
                  ],
                },
              ],
              volumes: [
                { name: "device-plugin", hostPath: { path: "/var/lib/kubelet/device-plugins" } },
                { name: "lib", hostPath: { path: "/usr/local/vgpu" } },
              ],
            },
          },
        },
      },
    }),
  ];
}
