// Cordon, drain and uncordon of the agent's own node, following kubectl drain: evict through the
// eviction subresource (so PodDisruptionBudgets hold), retry 429s, wait until evicted pods are gone.
// Cordon records whether the node was already unschedulable, so we never uncordon a node we did not cordon.
import type { ClusterClient } from "../kube/types.js";
import type { KubeObject, Logger } from "../contract/index.js";
import { isApiError, isNotFound, isTransient } from "../kube/errors.js";
import { ANNOTATION_WAS_UNSCHEDULABLE, isUnschedulable } from "../contract/index.js";

export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

export interface DrainOptions {
  /** Pods in these namespaces stay (the agent's own namespace). */
  skipNamespaces: string[];
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Wait between eviction retries refused by a PodDisruptionBudget (default 5 s, as kubectl). */
  retryDelayMs?: number;
  /** Poll interval while waiting for evicted pods to disappear (default 1 s). */
  pollMs?: number;
  signal?: AbortSignal;
  log?: Pick<Logger, "info" | "warn">;
}

export interface DrainResult {
  evicted: string[];
  skipped: Array<{ pod: string; why: string }>;
}

const podKey = (p: KubeObject): string => `${p.metadata.namespace ?? ""}/${p.metadata.name}`;

function nodeRef(name: string) {
  return { apiVersion: "v1", kind: "Node", name };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Why a pod stays on the node during a drain, or undefined when it is evicted. */
export function drainSkipReason(pod: KubeObject, skipNamespaces: readonly string[]): string | undefined {
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return "mirror (static) pod";
  if ((pod.metadata.ownerReferences ?? []).some((o) => o.kind === "DaemonSet" && o.controller === true)) return "DaemonSet-managed";
  if (skipNamespaces.includes(pod.metadata.namespace ?? "")) return "in the node agent's namespace";
  if (pod.metadata.deletionTimestamp) return "already terminating";
  return undefined;
}

/** Marks the node unschedulable, recording in the same patch whether it already was. Idempotent. */
export async function cordonNode(client: ClusterClient, node: KubeObject): Promise<void> {
  const recorded = node.metadata.annotations?.[ANNOTATION_WAS_UNSCHEDULABLE] !== undefined;
  if (recorded && isUnschedulable(node)) return;
  const annotations = recorded ? {} : { [ANNOTATION_WAS_UNSCHEDULABLE]: String(isUnschedulable(node)) };
  await client.patch(nodeRef(node.metadata.name), { metadata: { annotations }, spec: { unschedulable: true } }, "merge");
}

/**
 * Ends our cordon: uncordons only when we recorded the node as schedulable before; always drops the
 * record. Returns whether the node was uncordoned.
 */
export async function releaseCordon(client: ClusterClient, node: KubeObject): Promise<boolean> {
  const release = cordonRelease(node);
  if (!release) return false;
  await client.patch(nodeRef(node.metadata.name), { metadata: { annotations: release.annotations }, ...release.spec }, "merge");
  return release.uncordon;
}

/**
 * The merge-patch parts that end our cordon (undefined when we placed none): drop the record, and
 * uncordon only when the record says the node was schedulable before.
 */
export function cordonRelease(node: KubeObject): { annotations: Record<string, null>; spec: { spec?: { unschedulable: null } }; uncordon: boolean } | undefined {
  const was = node.metadata.annotations?.[ANNOTATION_WAS_UNSCHEDULABLE];
  if (was === undefined) return undefined;
  const uncordon = was === "false";
  return { annotations: { [ANNOTATION_WAS_UNSCHEDULABLE]: null }, spec: uncordon ? { spec: { unschedulable: null } } : {}, uncordon };
}

async function evictWithRetry(client: ClusterClient, pod: KubeObject, deadline: number, opts: DrainOptions): Promise<void> {
  const retryDelay = opts.retryDelayMs ?? 5000;
  for (;;) {
    try {
      await client.evict(pod.metadata.namespace ?? "", pod.metadata.name);
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isTransient(err)) throw new Error(`evicting ${podKey(pod)}: ${(err as Error).message}`);
      const why = isApiError(err) && err.status === 429 ? "blocked by a PodDisruptionBudget" : (err as Error).message;
      if (Date.now() + retryDelay > deadline) throw new Error(`evicting ${podKey(pod)}: ${why}; gave up after the drain timeout`);
      opts.log?.info("drain: eviction refused, retrying", { pod: podKey(pod), why });
      await sleep(retryDelay, opts.signal);
    }
  }
}

async function waitGone(client: ClusterClient, pod: KubeObject, deadline: number, opts: DrainOptions): Promise<void> {
  const poll = opts.pollMs ?? 1000;
  for (;;) {
    // list, not get: the agent's RBAC lists pods cluster-wide and needs no per-pod read.
    const live = await client.list("v1", "Pod", { namespace: pod.metadata.namespace ?? "", fieldSelector: `metadata.name=${pod.metadata.name}` });
    if (!live.some((p) => p.metadata.uid === pod.metadata.uid)) return;
    if (Date.now() + poll > deadline) throw new Error(`pod ${podKey(pod)} was evicted but is still terminating; gave up after the drain timeout`);
    await sleep(poll, opts.signal);
  }
}

/** Evicts every pod on the node except DaemonSet-managed, mirror and skip-namespace pods. */
export async function drainNode(client: ClusterClient, nodeName: string, opts: DrainOptions): Promise<DrainResult> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60 * 1000);
  const pods = await client.list("v1", "Pod", { fieldSelector: `spec.nodeName=${nodeName}` });
  const result: DrainResult = { evicted: [], skipped: [] };
  const toEvict: KubeObject[] = [];
  for (const pod of pods) {
    const why = drainSkipReason(pod, opts.skipNamespaces);
    if (why) result.skipped.push({ pod: podKey(pod), why });
    else toEvict.push(pod);
  }
  const outcomes = await Promise.allSettled(
    toEvict.map(async (pod) => {
      await evictWithRetry(client, pod, deadline, opts);
      await waitGone(client, pod, deadline, opts);
      result.evicted.push(podKey(pod));
    }),
  );
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => (o.reason as Error).message);
  if (failures.length > 0) throw new Error(`drain of node ${nodeName} incomplete: ${failures.join("; ")}`);
  result.evicted.sort();
  return result;
}
