// Readiness of rendered objects, judged only from what the cluster reports.
import type { ComponentStatus, KubeObject, ObservedState, Readiness, StageName } from "../contract/index.js";
import { ANNOTATION_RENDER_HASH, LABEL_NAME } from "../contract/index.js";

interface Status {
  [k: string]: unknown;
}

function num(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

function statusOf(obj: KubeObject): Status {
  return (obj.status as Status | undefined) ?? {};
}

/** The controller did not observe its latest status for this generation yet. */
function generationPending(obj: KubeObject): boolean {
  const generation = obj.metadata.generation;
  return typeof generation === "number" && num(statusOf(obj).observedGeneration) < generation;
}

export interface ObjectVerdict {
  ready: boolean;
  reason: string;
  message: string;
  degraded?: boolean;
}

export interface WorkloadOptions {
  /** A DaemonSet scheduled on zero nodes is not ready (e.g. the node agent must run somewhere). */
  requireScheduled?: boolean;
}

export function daemonSetVerdict(obj: KubeObject, opts: WorkloadOptions = {}): ObjectVerdict {
  const st = statusOf(obj);
  const name = obj.metadata.name;
  if (generationPending(obj)) return { ready: false, reason: "DaemonSetRolling", message: `${name}: generation not observed yet` };
  const desired = num(st.desiredNumberScheduled);
  if (desired === 0 && opts.requireScheduled) {
    return { ready: false, reason: "NoNodesScheduled", message: `${name}: no node matches its node selector` };
  }
  const ready = num(st.numberReady);
  const updated = num(st.updatedNumberScheduled);
  const unavailable = num(st.numberUnavailable);
  if (ready < desired || updated < desired || unavailable > 0) {
    return {
      ready: false,
      reason: "DaemonSetRolling",
      message: `${name}: ${ready}/${desired} ready, ${updated}/${desired} updated`,
    };
  }
  return { ready: true, reason: "DaemonSetReady", message: `${name}: ${ready}/${desired} ready` };
}

/**
 * What `kubectl rollout status deployment` decides (kubectl's DeploymentStatusViewer), on the real
 * controller's status: only once the generation is observed — so a stale ProgressDeadlineExceeded from the
 * previous template does not count — every replica updated, no old replica left (a surge keeps them
 * until the new ones are available; status.replicas counts them, terminating pods not), and every updated
 * replica available (minReadySeconds), not just ready.
 */
export function deploymentVerdict(obj: KubeObject): ObjectVerdict {
  const st = statusOf(obj);
  const name = obj.metadata.name;
  const spec = (obj.spec as { replicas?: number } | undefined) ?? {};
  const want = spec.replicas ?? 1;
  if (generationPending(obj)) return { ready: false, reason: "DeploymentRolling", message: `${name}: generation not observed yet` };
  const conditions = (st.conditions as Array<{ type?: string; status?: string; reason?: string; message?: string }> | undefined) ?? [];
  const progressing = conditions.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return { ready: false, degraded: true, reason: "ProgressDeadlineExceeded", message: `${name}: rollout exceeded its progress deadline${progressing.message ? ` (${progressing.message})` : ""}` };
  }
  const updated = num(st.updatedReplicas);
  const total = num(st.replicas);
  const available = num(st.availableReplicas);
  if (updated < want) return { ready: false, reason: "DeploymentRolling", message: `${name}: ${updated} of ${want} new replicas updated` };
  if (total > updated) return { ready: false, reason: "DeploymentRolling", message: `${name}: ${total - updated} old replicas pending termination` };
  if (available < updated) return { ready: false, reason: "DeploymentRolling", message: `${name}: ${available} of ${updated} updated replicas available` };
  return { ready: true, reason: "DeploymentReady", message: `${name}: ${available}/${want} ready` };
}

export function statefulSetVerdict(obj: KubeObject): ObjectVerdict {
  const st = statusOf(obj);
  const name = obj.metadata.name;
  const spec = (obj.spec as { replicas?: number } | undefined) ?? {};
  const want = spec.replicas ?? 1;
  if (generationPending(obj)) return { ready: false, reason: "StatefulSetRolling", message: `${name}: generation not observed yet` };
  const ready = num(st.readyReplicas);
  const rolling = typeof st.updateRevision === "string" && typeof st.currentRevision === "string" && st.updateRevision !== st.currentRevision;
  if (ready < want || rolling) {
    return { ready: false, reason: "StatefulSetRolling", message: `${name}: ${ready}/${want} ready${rolling ? ", update rolling" : ""}` };
  }
  return { ready: true, reason: "StatefulSetReady", message: `${name}: ${ready}/${want} ready` };
}

export function namespaceVerdict(obj: KubeObject): ObjectVerdict {
  const phase = (statusOf(obj).phase as string | undefined) ?? "Active";
  if (phase !== "Active") return { ready: false, reason: "NamespaceNotActive", message: `namespace ${obj.metadata.name} is ${phase}` };
  return { ready: true, reason: "NamespaceActive", message: `namespace ${obj.metadata.name} is Active` };
}

const WORKLOAD_KINDS = new Set(["DaemonSet", "Deployment", "StatefulSet"]);

function verdictFor(obj: KubeObject, opts: WorkloadOptions): ObjectVerdict {
  switch (obj.kind) {
    case "DaemonSet":
      return daemonSetVerdict(obj, opts);
    case "Deployment":
      return deploymentVerdict(obj);
    case "StatefulSet":
      return statefulSetVerdict(obj);
    case "Namespace":
      return namespaceVerdict(obj);
    default:
      return { ready: true, reason: "Present", message: `${obj.kind} ${obj.metadata.name} present` };
  }
}

function refText(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.kind} ${obj.metadata.name}`;
}

/**
 * A stage is ready when every desired object is present at its rendered content (render hash) and
 * every workload reports a finished rollout. Reports the first blocking object.
 */
export function objectsReadiness(
  stage: StageName,
  desired: KubeObject[],
  observed: ObservedState,
  opts: WorkloadOptions = {},
): Readiness {
  const components: ComponentStatus[] = [];
  let blocking: ObjectVerdict | undefined;
  let degraded = false;
  for (const want of desired) {
    const live = observed.get({ apiVersion: want.apiVersion, kind: want.kind, name: want.metadata.name, namespace: want.metadata.namespace });
    let verdict: ObjectVerdict;
    if (!live) {
      verdict = { ready: false, reason: "NotApplied", message: `${refText(want)} not present yet` };
    } else if (live.metadata.annotations?.[ANNOTATION_RENDER_HASH] !== want.metadata.annotations?.[ANNOTATION_RENDER_HASH]) {
      verdict = { ready: false, reason: "Applying", message: `${refText(want)} not at its desired content yet` };
    } else {
      verdict = verdictFor(live, opts);
    }
    if (verdict.degraded) degraded = true;
    if (WORKLOAD_KINDS.has(want.kind)) {
      components.push({
        name: want.metadata.labels?.[LABEL_NAME] ?? want.metadata.name,
        stage,
        kind: want.kind,
        ...(want.metadata.namespace ? { namespace: want.metadata.namespace } : {}),
        ready: verdict.ready,
        message: verdict.message,
      });
    }
    if (!verdict.ready && !blocking) blocking = verdict;
  }
  if (blocking) return { ready: false, reason: blocking.reason, message: blocking.message, components, ...(degraded ? { degraded } : {}) };
  return { ready: true, reason: "Ready", message: `${desired.length} ${desired.length === 1 ? "object" : "objects"} ready`, components };
}
