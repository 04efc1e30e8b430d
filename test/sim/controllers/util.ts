// Helpers shared by the workload controllers.
import type { SimApi } from "../api.js";
import { clone, deepEqual } from "../objects.js";
import type { Json, KObj, OwnerReference, ResourceType } from "../types.js";

export const CONTROLLER_MANAGER = "kube-controller-manager";

export const ownerRefTo = (owner: KObj): OwnerReference => ({
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.metadata.name!,
  uid: owner.metadata.uid!,
  controller: true,
  blockOwnerDeletion: true,
});

export const controllerOf = (obj: KObj): OwnerReference | undefined => (obj.metadata.ownerReferences ?? []).find((r) => r.controller);

export const isOwnedBy = (obj: KObj, owner: KObj): boolean => (obj.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller);

export function podFromTemplate(template: Json, namespace: string, name: string, owner: KObj, extraLabels: Record<string, string> = {}, nodeName?: string): KObj {
  const t = clone(template ?? {});
  const pod: KObj = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(t.metadata ?? {}),
      name,
      namespace,
      labels: { ...(t.metadata?.labels ?? {}), ...extraLabels },
      ownerReferences: [ownerRefTo(owner)],
    },
    spec: { ...(t.spec ?? {}) },
  };
  if (nodeName) pod.spec.nodeName = nodeName;
  return pod;
}

export function isPodReady(pod: KObj): boolean {
  return (pod.status?.conditions ?? []).some((c: Json) => c.type === "Ready" && c.status === "True");
}

export const isPodActive = (pod: KObj): boolean =>
  !pod.metadata.deletionTimestamp && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed";

/** Write status only when it changed; returns whether a write happened. */
export function writeStatus(api: SimApi, rt: ResourceType, obj: KObj, status: Json, manager = CONTROLLER_MANAGER): boolean {
  if (deepEqual(obj.status ?? {}, status)) return false;
  api.update(rt, obj.metadata.namespace, obj.metadata.name!, { ...obj, status }, { fieldManager: manager }, "status");
  return true;
}

/** Keep lastTransitionTime of conditions whose status did not change. */
export function mergeConditions(prev: Json[] | undefined, next: Json[]): Json[] {
  return next.map((c) => {
    const old = (prev ?? []).find((p) => p.type === c.type);
    if (old && old.status === c.status) return { ...c, lastTransitionTime: old.lastTransitionTime, ...(old.lastUpdateTime && c.lastUpdateTime ? { lastUpdateTime: c.reason === old.reason ? old.lastUpdateTime : c.lastUpdateTime } : {}) };
    return c;
  });
}

export function resolveIntOrPercent(v: Json, total: number, roundUp: boolean, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === "string" && v.endsWith("%")) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return Number(v);
}

export const keyOf = (o: KObj): string => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
export const splitKey = (key: string): [string, string] => {
  const i = key.indexOf("/");
  return [key.slice(0, i), key.slice(i + 1)];
};

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export function tolerates(tolerations: Json[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t: Json) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
  });
}

function matchExpression(labels: Record<string, string>, e: Json): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, e.key);
  switch (e.operator) {
    case "In":
      return has && (e.values ?? []).includes(labels[e.key]);
    case "NotIn":
      return !has || !(e.values ?? []).includes(labels[e.key]);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
      return has && Number(labels[e.key]) > Number(e.values?.[0]);
    case "Lt":
      return has && Number(labels[e.key]) < Number(e.values?.[0]);
    default:
      return false;
  }
}

/** nodeSelector, required node affinity and NoSchedule/NoExecute taints of a pod spec against a node. */
export function podFitsNode(podSpec: Json, node: KObj, extraTolerations: Json[] = []): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(podSpec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: Json[] | undefined = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0) {
    const ok = terms.some((term: Json) => {
      const fields = (term.matchFields ?? []).every((e: Json) => matchExpression({ "metadata.name": node.metadata.name! }, e));
      return fields && (term.matchExpressions ?? []).every((e: Json) => matchExpression(labels, e));
    });
    if (!ok) return false;
  }
  const tolerations = [...(podSpec?.tolerations ?? []), ...extraTolerations];
  for (const taint of (node.spec?.taints ?? []) as Taint[]) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!tolerates(tolerations, taint)) return false;
  }
  return true;
}
