// The scheduler and the kubelets: bind pending pods to fitting nodes, then run them — Running and Ready
// after a delay, Succeeded for Job pods, or stuck in a configured failure.
import type { SimApi } from "../api.js";
import type { Faults } from "../faults.js";
import { nowIso } from "../objects.js";
import type { Json, KObj } from "../types.js";
import { keyOf, podFitsNode, splitKey } from "./util.js";
import { Worker } from "./worker.js";

export type PodFailure = "ImagePullBackOff" | "CrashLoopBackOff";

/** What a pod hook may hand back: readiness waits for `ready`; `stop` runs when the pod goes away. */
export interface PodHookHandle {
  ready?: Promise<void>;
  stop?: () => void | Promise<void>;
}

/**
 * Called once when a pod starts on a node (after the start delay, before it turns Ready). Return a handle
 * to run something for the pod's lifetime (e.g. the real node agent against a per-node simulated host).
 */
export type PodHook = (pod: KObj, node: KObj) => PodHookHandle | void | Promise<PodHookHandle | void>;

export interface PodOptions {
  /** Milliseconds from binding to Running+Ready (0 = next tick). */
  readyDelayMs: number;
  /** Milliseconds a Job pod runs before it Succeeds. */
  jobDurationMs: number;
  /** Object name → failure: matches a pod by name, name prefix ("<name>-") or owner name. */
  failures: Map<string, PodFailure>;
  onPod?: PodHook;
}

const KUBELET = "kubelet";
const SCHEDULER = "default-scheduler";

function failureFor(pod: KObj, failures: Map<string, PodFailure>): PodFailure | undefined {
  if (failures.size === 0) return undefined;
  const name = pod.metadata.name!;
  for (const [key, f] of failures) {
    if (name === key || name.startsWith(`${key}-`)) return f;
    if ((pod.metadata.ownerReferences ?? []).some((r) => r.name === key)) return f;
  }
  return undefined;
}

const isJobPod = (pod: KObj) => (pod.metadata.ownerReferences ?? []).some((r) => r.kind === "Job");

export interface PodController {
  options: PodOptions;
  stop(): void;
  isIdle(): boolean;
}

export function startPodController(api: SimApi, faults: Faults, options: PodOptions): PodController {
  const podsRt = api.registry.get("", "pods")!;
  const nodesRt = api.registry.get("", "nodes")!;
  const handles = new Map<string, PodHookHandle>();
  const starting = new Set<string>();
  const podCounter = new Map<string, number>();
  /** When each pod was first seen bound to a node (the ready delay counts from there). */
  const boundAt = new Map<string, number>();

  const cond = (type: string, status: string, extra: Json = {}) => ({ type, status, lastProbeTime: null, lastTransitionTime: nowIso(), ...extra });

  const schedule = (pod: KObj): void => {
    const nodes = api.store.list("/nodes");
    let best: KObj | undefined;
    let bestCount = Infinity;
    for (const n of nodes) {
      if (n.spec?.unschedulable) continue;
      if (!podFitsNode(pod.spec, n)) continue;
      const count = podCounter.get(n.metadata.name!) ?? 0;
      if (count < bestCount) {
        best = n;
        bestCount = count;
      }
    }
    if (!best) {
      const status = {
        ...(pod.status ?? {}),
        phase: "Pending",
        conditions: [cond("PodScheduled", "False", { reason: "Unschedulable", message: `0/${nodes.length} nodes are available: ${nodes.length} node(s) didn't match Pod's node affinity/selector or had untolerated taints.` })],
      };
      if (JSON.stringify(pod.status?.conditions?.map((c: Json) => c.reason)) !== JSON.stringify(["Unschedulable"])) {
        api.update(podsRt, pod.metadata.namespace, pod.metadata.name!, { ...pod, status }, { fieldManager: SCHEDULER }, "status");
      }
      return;
    }
    api.patch(podsRt, pod.metadata.namespace, pod.metadata.name!, "merge", { spec: { nodeName: best.metadata.name } }, { fieldManager: SCHEDULER });
  };

  const podIp = (nodeName: string, key: string): string => {
    const m = nodeName.match(/(\d+)$/);
    const n = m ? Number(m[1]) : 0;
    let h = 0;
    for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return `10.42.${n % 256}.${(h % 250) + 2}`;
  };

  const containerStatuses = (pod: KObj, state: "running" | "waiting" | "terminated", ready: boolean, reason?: string, restartCount = 0) =>
    (pod.spec?.containers ?? []).map((c: Json) => {
      const st: Json =
        state === "running"
          ? { running: { startedAt: nowIso() } }
          : state === "terminated"
            ? { terminated: { exitCode: 0, reason: "Completed", startedAt: nowIso(), finishedAt: nowIso() } }
            : { waiting: { reason, message: reason === "ImagePullBackOff" ? `Back-off pulling image "${c.image}"` : `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}` } };
      const out: Json = { name: c.name, image: c.image, imageID: "", ready, restartCount, started: state === "running", state: st };
      if (reason === "CrashLoopBackOff") out.lastState = { terminated: { exitCode: 1, reason: "Error", startedAt: nowIso(), finishedAt: nowIso() } };
      if (state !== "waiting") out.containerID = `containerd://${keyOf(pod).replace(/\W/g, "")}${c.name}`;
      return out;
    });

  /** Move a bound pod one step along its life. */
  const run = (pod: KObj): void => {
    const key = keyOf(pod);
    const phase = pod.status?.phase ?? "Pending";
    const nodeName = pod.spec.nodeName as string;
    const failure = failureFor(pod, options.failures);
    const base = {
      ...(pod.status ?? {}),
      hostIP: (api.tryGet(nodesRt, undefined, nodeName)?.status?.addresses ?? []).find((a: Json) => a.type === "InternalIP")?.address,
      podIP: pod.spec.hostNetwork ? undefined : podIp(nodeName, key),
      startTime: pod.status?.startTime ?? nowIso(),
    };
    if (base.podIP === undefined) base.podIP = base.hostIP;
    base.podIPs = base.podIP ? [{ ip: base.podIP }] : undefined;
    const write = (status: Json) => api.update(podsRt, pod.metadata.namespace, pod.metadata.name!, { ...pod, status }, { fieldManager: KUBELET }, "status");

    if (failure === "ImagePullBackOff") {
      if (pod.status?.containerStatuses?.[0]?.state?.waiting?.reason === failure) return;
      write({ ...base, phase: "Pending", conditions: [cond("PodScheduled", "True"), cond("Initialized", "True"), cond("ContainersReady", "False", { reason: "ContainersNotReady" }), cond("Ready", "False", { reason: "ContainersNotReady" })], containerStatuses: containerStatuses(pod, "waiting", false, failure) });
      return;
    }
    if (failure === "CrashLoopBackOff") {
      if (isJobPod(pod) && (pod.spec.restartPolicy ?? "Never") === "Never") {
        write({ ...base, phase: "Failed", conditions: [cond("PodScheduled", "True"), cond("Ready", "False", { reason: "PodFailed" })], containerStatuses: containerStatuses(pod, "waiting", false, "CrashLoopBackOff") });
        return;
      }
      const restarts = (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) + 1;
      write({ ...base, phase: "Running", conditions: [cond("PodScheduled", "True"), cond("Initialized", "True"), cond("ContainersReady", "False", { reason: "ContainersNotReady" }), cond("Ready", "False", { reason: "ContainersNotReady" })], containerStatuses: containerStatuses(pod, "waiting", false, failure, restarts) });
      if (restarts < 5) worker.addAfter(key, Math.max(options.readyDelayMs, 1000));
      return;
    }
    if (phase === "Pending" || (phase === "Running" && !isReady(pod))) {
      if (faults.nodeReadinessPaused) return;
      if (starting.has(key)) return;
      const waited = Date.now() - (boundAt.get(key) ?? 0);
      if (waited < options.readyDelayMs) {
        worker.addAfter(key, options.readyDelayMs - waited);
        return;
      }
      if (options.onPod && !handles.has(key)) {
        starting.add(key);
        const node = api.tryGet(nodesRt, undefined, nodeName)!;
        Promise.resolve()
          .then(() => options.onPod!(pod, node))
          .then(async (h) => {
            const handle = h ?? {};
            handles.set(key, handle);
            await handle.ready;
          })
          .catch(() => handles.set(key, {}))
          .finally(() => {
            starting.delete(key);
            worker.add(key);
          });
        return;
      }
      write({
        ...base,
        phase: "Running",
        conditions: [cond("PodReadyToStartContainers", "True"), cond("Initialized", "True"), cond("Ready", "True"), cond("ContainersReady", "True"), cond("PodScheduled", "True")],
        containerStatuses: containerStatuses(pod, "running", true),
      });
      if (isJobPod(pod)) worker.addAfter(key, options.jobDurationMs);
      return;
    }
    if (phase === "Running" && isJobPod(pod)) {
      write({
        ...base,
        phase: "Succeeded",
        conditions: [cond("PodReadyToStartContainers", "False"), cond("Initialized", "True", { reason: "PodCompleted" }), cond("Ready", "False", { reason: "PodCompleted" }), cond("ContainersReady", "False", { reason: "PodCompleted" }), cond("PodScheduled", "True")],
        containerStatuses: containerStatuses(pod, "terminated", false),
      });
    }
  };

  const isReady = (pod: KObj) => (pod.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");

  const worker = new Worker((key) => {
    const [ns, name] = splitKey(key);
    const pod = api.tryGet(podsRt, ns, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    if (!pod.spec?.nodeName) return schedule(pod);
    run(pod);
  });

  const release = (key: string) => {
    const h = handles.get(key);
    handles.delete(key);
    if (h?.stop) Promise.resolve().then(h.stop).catch(() => {});
  };

  const unsubscribe = api.store.subscribe("/pods", (ev) => {
    const pod = ev.obj;
    const key = keyOf(pod);
    const node = pod.spec?.nodeName as string | undefined;
    const prevNode = ev.prev?.spec?.nodeName as string | undefined;
    if (prevNode !== node || ev.type === "DELETED") {
      if (prevNode && (ev.type !== "ADDED")) podCounter.set(prevNode, Math.max(0, (podCounter.get(prevNode) ?? 1) - 1));
      if (node && ev.type !== "DELETED") podCounter.set(node, (podCounter.get(node) ?? 0) + 1);
    }
    if (ev.type === "DELETED") {
      release(key);
      boundAt.delete(key);
      return;
    }
    if (node && !boundAt.has(key)) boundAt.set(key, Date.now());
    if (pod.metadata.deletionTimestamp) {
      release(key);
      // Pods terminate at once: the kubelet confirms deletion once finalizers allow it.
      if ((pod.metadata.finalizers ?? []).length === 0) worker.add(key);
      return;
    }
    if (!node) unscheduled.add(key);
    else unscheduled.delete(key);
    const justBound = node !== undefined && (ev.type === "ADDED" || prevNode === undefined);
    worker.addAfter(key, justBound ? options.readyDelayMs : 0);
  });
  // Node changes (uncordon, new labels, new nodes) may make unschedulable pods fit.
  const unscheduled = new Set<string>();
  const unsubNodes = api.store.subscribe("/nodes", (ev) => {
    if (ev.type === "MODIFIED" && JSON.stringify(ev.prev?.spec) === JSON.stringify(ev.obj.spec) && JSON.stringify(ev.prev?.metadata.labels) === JSON.stringify(ev.obj.metadata.labels)) return;
    for (const key of unscheduled) worker.add(key);
  });
  const unsubPause = faults.onReadinessPause((paused) => {
    if (paused) return;
    for (const p of api.store.list("/pods")) worker.add(keyOf(p));
  });
  return {
    options,
    stop() {
      worker.stop();
      unsubscribe();
      unsubNodes();
      unsubPause();
      for (const key of [...handles.keys()]) release(key);
    },
    isIdle: () => worker.isIdle && starting.size === 0,
  };
}
