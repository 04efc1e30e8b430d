// Simulated nodes: created at start, Ready (unless readiness is paused), GPU nodes gaining
// nvidia.com/gpu capacity once a device-plugin pod runs on them.
import type { SimApi } from "../api.js";
import type { Faults } from "../faults.js";
import { nowIso } from "../objects.js";
import type { Json, KObj, StoreEvent } from "../types.js";
import { isPodReady, writeStatus } from "./util.js";
import { Worker } from "./worker.js";

export const GPU_PRESENT_LABEL = "feature.node.kubernetes.io/pci-10de.present";
export const GPU_RESOURCE = "nvidia.com/gpu";

export interface NodeOptions {
  count: number;
  /** How many nodes have an NVIDIA GPU (workers first: sim-node-1.., node 0 only when it is the only one left). */
  gpuNodes: number;
  gpusPerNode: number;
  kubeletVersion: string;
  /** Decides which running pods count as the GPU device plugin (default: name or image mentions device-plugin). */
  isDevicePluginPod?: (pod: KObj) => boolean;
  /** Node i's InternalIP (default 10.0.x.y); the storage tier gives loopback addresses its services can bind. */
  internalIP?: (i: number) => string;
}

export const defaultIsDevicePluginPod = (pod: KObj): boolean =>
  /device-plugin/.test(pod.metadata.name ?? "") || (pod.spec?.containers ?? []).some((c: Json) => /device-plugin/.test(`${c.name} ${c.image}`));

export const nodeName = (i: number): string => `sim-node-${i}`;

export function gpuNodeIndexes(count: number, gpuNodes: number): number[] {
  const order = count === 1 ? [0] : [...Array.from({ length: count - 1 }, (_, i) => i + 1), 0];
  return order.slice(0, Math.max(0, Math.min(gpuNodes, count)));
}

export function nodeObject(i: number, opts: NodeOptions, gpu: boolean): KObj {
  const name = nodeName(i);
  const labels: Record<string, string> = {
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "beta.kubernetes.io/arch": "amd64",
    "node.kubernetes.io/instance-type": "k3s",
  };
  if (i === 0) {
    labels["node-role.kubernetes.io/control-plane"] = "true";
    labels["node-role.kubernetes.io/master"] = "true";
  }
  if (gpu) {
    labels[GPU_PRESENT_LABEL] = "true";
    labels["feature.node.kubernetes.io/pci-0300_10de.present"] = "true";
  }
  const node: KObj = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels, annotations: { "sim.olares.com/gpu-count": gpu ? String(opts.gpusPerNode) : "0" } },
    spec: { podCIDR: `10.42.${i % 256}.0/24`, providerID: `k3s://${name}` },
  };
  if (i === 0 && opts.count > 1) node.spec.taints = [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }];
  return node;
}

function nodeStatus(i: number, opts: NodeOptions, ready: "True" | "Unknown", gpuCount: number, prev: Json): Json {
  const resources: Record<string, string> = { cpu: "8", memory: "16318684Ki", "ephemeral-storage": "204794888Ki", pods: "200", "hugepages-2Mi": "0" };
  const allocatable: Record<string, string> = { cpu: "7800m", memory: "16062684Ki", "ephemeral-storage": "199227242042", pods: "200", "hugepages-2Mi": "0" };
  if (gpuCount > 0) {
    resources[GPU_RESOURCE] = String(gpuCount);
    allocatable[GPU_RESOURCE] = String(gpuCount);
  }
  const now = nowIso();
  const cond = (type: string, status: string, reason: string, message: string) => {
    const old = (prev?.conditions ?? []).find((c: Json) => c.type === type);
    const since = old && old.status === status ? old.lastTransitionTime : now;
    return { type, status, reason, message, lastHeartbeatTime: old && old.status === status ? old.lastHeartbeatTime : now, lastTransitionTime: since };
  };
  const unknown = ready === "Unknown";
  const pressure = (type: string, reason: string, message: string) =>
    unknown ? cond(type, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.") : cond(type, "False", reason, message);
  return {
    capacity: resources,
    allocatable,
    conditions: [
      pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
      pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
      pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
      unknown ? cond("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.") : cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ],
    addresses: [
      { type: "InternalIP", address: opts.internalIP?.(i) ?? `10.0.${Math.floor(i / 250)}.${(i % 250) + 2}` },
      { type: "Hostname", address: nodeName(i) },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: `sim${String(i).padStart(29, "0")}`,
      systemUUID: `00000000-0000-0000-0000-${String(i).padStart(12, "0")}`,
      bootID: `00000000-0000-0000-0001-${String(i).padStart(12, "0")}`,
      kernelVersion: "6.8.0-57-generic",
      osImage: "Ubuntu 24.04.2 LTS",
      containerRuntimeVersion: "containerd://1.7.27-k3s1",
      kubeletVersion: opts.kubeletVersion,
      kubeProxyVersion: opts.kubeletVersion,
      operatingSystem: "linux",
      architecture: "amd64",
    },
  };
}

export interface NodeController {
  stop(): void;
  isIdle(): boolean;
}

export function startNodeController(api: SimApi, faults: Faults, opts: NodeOptions): NodeController {
  const nodesRt = api.registry.get("", "nodes")!;
  const isPlugin = opts.isDevicePluginPod ?? defaultIsDevicePluginPod;
  const gpuIdx = new Set(gpuNodeIndexes(opts.count, opts.gpuNodes));
  for (let i = 0; i < opts.count; i++) {
    if (!api.tryGet(nodesRt, undefined, nodeName(i))) api.create(nodesRt, undefined, nodeObject(i, opts, gpuIdx.has(i)), { fieldManager: "k3s" });
  }

  /** Node name → running device-plugin pods on it. */
  const pluginPods = new Map<string, Set<string>>();
  const worker = new Worker((name) => {
    const node = api.tryGet(nodesRt, undefined, name);
    if (!node) return;
    const m = name.match(/^sim-node-(\d+)$/);
    const i = m ? Number(m[1]) : 0;
    const hasGpu = node.metadata.labels?.[GPU_PRESENT_LABEL] === "true";
    const gpus = hasGpu && (pluginPods.get(name)?.size ?? 0) > 0 ? Number(node.metadata.annotations?.["sim.olares.com/gpu-count"] ?? opts.gpusPerNode) : 0;
    const status = nodeStatus(i, opts, faults.nodeReadinessPaused ? "Unknown" : "True", gpus, node.status);
    writeStatus(api, nodesRt, node, status, "k3s");
  });
  for (let i = 0; i < opts.count; i++) worker.add(nodeName(i));

  const unsubNodes = api.store.subscribe("/nodes", (ev) => {
    if (ev.type === "ADDED" || (ev.type === "MODIFIED" && !ev.obj.status?.nodeInfo)) worker.add(ev.obj.metadata.name!);
  });
  const unsubPods = api.store.subscribe("/pods", (ev: StoreEvent) => {
    const pod = ev.obj;
    const node = pod.spec?.nodeName;
    if (!node || !isPlugin(pod)) return;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    let set = pluginPods.get(node);
    if (!set) pluginPods.set(node, (set = new Set()));
    const had = set.has(key);
    const running = ev.type !== "DELETED" && !pod.metadata.deletionTimestamp && isPodReady(pod);
    if (running) set.add(key);
    else set.delete(key);
    if (had !== running) worker.add(node);
  });
  const unsubPause = faults.onReadinessPause(() => {
    for (const n of api.store.list("/nodes")) worker.add(n.metadata.name!);
  });
  return {
    stop() {
      worker.stop();
      unsubNodes();
      unsubPods();
      unsubPause();
    },
    isIdle: () => worker.isIdle,
  };
}
