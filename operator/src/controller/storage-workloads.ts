// Quiesce and Resume of a storage migration: scale to zero exactly the Deployments and StatefulSets
// whose pod volumes live under <root>/rootfs — hostPath volumes there, or PVCs bound to a hostPath /
// local PV there (local-path's volumes) — outside the cluster's own namespaces, remembering each one's
// replicas in annotations; Resume puts the same workloads back to the same replicas. Nothing else is
// touched, and both are idempotent (a restarted operator finds its marks on the workloads).
import {
  ANNOTATION_QUIESCED_BY,
  ANNOTATION_QUIESCED_REPLICAS,
  isWithin,
  type KubeObject,
  type StorageMigrationPlan,
} from "../contract/index.js";
import type { ReconcileClient } from "./reconciler.js";

const WORKLOAD_KINDS = [
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "apps/v1", kind: "StatefulSet" },
] as const;

interface PodVolume {
  hostPath?: { path?: string };
  persistentVolumeClaim?: { claimName?: string };
}

const podVolumes = (w: KubeObject): PodVolume[] =>
  (((w["spec"] as { template?: { spec?: { volumes?: PodVolume[] } } } | undefined)?.template?.spec?.volumes) ?? []);

const workloadName = (w: KubeObject) => `${w.kind}/${w.metadata.namespace}/${w.metadata.name}`;

/** PVC "namespace/name" → the path of the hostPath/local PV it is bound to. */
async function claimPaths(client: ReconcileClient): Promise<Map<string, string>> {
  const pvs = await client.list("v1", "PersistentVolume");
  const byName = new Map<string, string>();
  for (const pv of pvs) {
    const spec = (pv["spec"] ?? {}) as { hostPath?: { path?: string }; local?: { path?: string }; claimRef?: { namespace?: string; name?: string } };
    const p = spec.hostPath?.path ?? spec.local?.path;
    if (p) byName.set(pv.metadata.name, p);
  }
  const out = new Map<string, string>();
  for (const pvc of await client.list("v1", "PersistentVolumeClaim")) {
    const volume = (pvc["spec"] as { volumeName?: string } | undefined)?.volumeName;
    const p = volume ? byName.get(volume) : undefined;
    if (p) out.set(`${pvc.metadata.namespace}/${pvc.metadata.name}`, p);
  }
  return out;
}

/** The workloads whose volumes live under the rule's path, with the paths that make them so. */
export async function rootfsWorkloads(client: ReconcileClient, rule: StorageMigrationPlan["quiesce"]): Promise<Array<{ workload: KubeObject; paths: string[] }>> {
  const claims = await claimPaths(client);
  const out: Array<{ workload: KubeObject; paths: string[] }> = [];
  for (const k of WORKLOAD_KINDS) {
    for (const w of await client.list(k.apiVersion, k.kind)) {
      if (rule.namespacesExcluded.includes(w.metadata.namespace ?? "")) continue;
      const paths = podVolumes(w)
        .map((v) => v.hostPath?.path ?? (v.persistentVolumeClaim?.claimName ? claims.get(`${w.metadata.namespace}/${v.persistentVolumeClaim.claimName}`) : undefined))
        .filter((p): p is string => typeof p === "string" && isWithin(p, rule.volumesUnder));
      if (paths.length) out.push({ workload: { ...w, apiVersion: k.apiVersion, kind: k.kind }, paths });
    }
  }
  return out.sort((a, b) => (workloadName(a.workload) < workloadName(b.workload) ? -1 : 1));
}

/**
 * DaemonSets whose pods mount <root>/rootfs: they cannot be scaled to zero, so Precheck refuses the
 * migration naming them (rather than stopping them behind the admin's back through a nodeSelector).
 */
export async function rootfsDaemonSets(client: ReconcileClient, rule: StorageMigrationPlan["quiesce"]): Promise<Array<{ workload: KubeObject; paths: string[] }>> {
  const claims = await claimPaths(client);
  const out: Array<{ workload: KubeObject; paths: string[] }> = [];
  for (const w of await client.list("apps/v1", "DaemonSet")) {
    if (rule.namespacesExcluded.includes(w.metadata.namespace ?? "")) continue;
    const paths = podVolumes(w)
      .map((v) => v.hostPath?.path ?? (v.persistentVolumeClaim?.claimName ? claims.get(`${w.metadata.namespace}/${v.persistentVolumeClaim.claimName}`) : undefined))
      .filter((p): p is string => typeof p === "string" && (isWithin(p, rule.volumesUnder) || isWithin(rule.volumesUnder, p)));
    if (paths.length) out.push({ workload: { ...w, apiVersion: "apps/v1", kind: "DaemonSet" }, paths });
  }
  return out.sort((a, b) => (workloadName(a.workload) < workloadName(b.workload) ? -1 : 1));
}

const refOfWorkload = (w: KubeObject) => ({ apiVersion: w.apiVersion, kind: w.kind, namespace: w.metadata.namespace!, name: w.metadata.name });

export interface GateOutcome {
  /** Done: every workload is scaled (to 0 with no pod left, or back). */
  done: boolean;
  changed: string[];
  waitingFor: string[];
}

/** Scales the rootfs workloads to zero (once per migration key) and reports whether their pods are gone. */
export async function quiesceWorkloads(client: ReconcileClient, rule: StorageMigrationPlan["quiesce"], key: string): Promise<GateOutcome> {
  const changed: string[] = [];
  const waitingFor: string[] = [];
  for (const { workload: w } of await rootfsWorkloads(client, rule)) {
    const a = w.metadata.annotations ?? {};
    const spec = (w["spec"] ?? {}) as { replicas?: number };
    if (a[ANNOTATION_QUIESCED_BY] !== key) {
      // A workload another migration left at 0 keeps its remembered replicas.
      const replicas = a[ANNOTATION_QUIESCED_REPLICAS] ?? String(spec.replicas ?? 1);
      await client.patch(refOfWorkload(w), { metadata: { annotations: { [ANNOTATION_QUIESCED_REPLICAS]: replicas, [ANNOTATION_QUIESCED_BY]: key } }, spec: { replicas: 0 } }, "merge");
      changed.push(`${workloadName(w)} ${replicas}→0`);
      waitingFor.push(workloadName(w));
      continue;
    }
    const status = (w["status"] ?? {}) as { replicas?: number };
    if ((status.replicas ?? 0) > 0) waitingFor.push(workloadName(w));
  }
  return { done: waitingFor.length === 0, changed, waitingFor };
}

/** Puts every workload this migration scaled back to its remembered replicas and drops the marks. */
export async function resumeWorkloads(client: ReconcileClient, key: string): Promise<GateOutcome> {
  const changed: string[] = [];
  for (const k of WORKLOAD_KINDS) {
    for (const w of await client.list(k.apiVersion, k.kind)) {
      const a = w.metadata.annotations ?? {};
      if (a[ANNOTATION_QUIESCED_BY] !== key) continue;
      const replicas = Number.parseInt(a[ANNOTATION_QUIESCED_REPLICAS] ?? "1", 10);
      await client.patch(
        refOfWorkload({ ...w, apiVersion: k.apiVersion, kind: k.kind }),
        { metadata: { annotations: { [ANNOTATION_QUIESCED_REPLICAS]: null, [ANNOTATION_QUIESCED_BY]: null } }, spec: { replicas: Number.isFinite(replicas) ? replicas : 1 } },
        "merge",
      );
      changed.push(`${k.kind}/${w.metadata.namespace}/${w.metadata.name} 0→${replicas}`);
    }
  }
  return { done: true, changed, waitingFor: [] };
}
