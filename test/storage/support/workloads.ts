// Workloads for the Quiesce/Resume checks: two that use <root>/rootfs (a hostPath Deployment and a
// StatefulSet on a local PV there), and two that must never be touched (a hostPath elsewhere, and one in
// kube-system, whose workloads are the cluster's own).
import { kubectlOk } from "../../e2e/cluster.js";
import type { StorageCluster } from "./cluster.js";

export interface WorkloadSet {
  ns: string;
  quiesced: string[];
  untouched: string[];
}

const deployment = (ns: string, name: string, replicas: number, hostPath: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "app", image: "busybox:1.36", volumeMounts: [{ name: "data", mountPath: "/data" }] }], volumes: [{ name: "data", hostPath: { path: hostPath } }] },
    },
  },
});

export async function applyWorkloads(c: StorageCluster, rootfs: string): Promise<WorkloadSet> {
  const ns = "user-space-alice";
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    deployment(ns, "uses-rootfs", 2, `${rootfs}/apps/files`),
    deployment(ns, "elsewhere", 3, "/var/lib/elsewhere"),
    deployment("kube-system", "cluster-own", 1, `${rootfs}/cluster-own`),
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pvc-db-0" },
      spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], storageClassName: "local-path", hostPath: { path: `${rootfs}/local-path/pvc-db-0` }, claimRef: { namespace: ns, name: "data-db-0" } },
    },
    { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data-db-0", namespace: ns }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", volumeName: "pvc-db-0", resources: { requests: { storage: "1Gi" } } } },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: ns },
      spec: {
        replicas: 1,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "postgres:16", volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql" }] }], volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }] } },
      },
    },
  ];
  // the simulator publishes no OpenAPI for every kind used here: the server validates instead
  await kubectlOk(c.kubeconfig, ["apply", "--validate=false", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }) });
  return { ns, quiesced: [`Deployment/${ns}/uses-rootfs`, `StatefulSet/${ns}/db`], untouched: [`Deployment/${ns}/elsewhere`, "Deployment/kube-system/cluster-own"] };
}

/** Replicas, generation and annotations of each workload (an untouched one keeps all three; status moves on its own). */
export function workloadState(c: StorageCluster, set: WorkloadSet): Map<string, { replicas: number; generation: number; annotations: Record<string, string> }> {
  const out = new Map<string, { replicas: number; generation: number; annotations: Record<string, string> }>();
  for (const w of [...set.quiesced, ...set.untouched]) {
    const [kind, ns, name] = w.split("/") as [string, string, string];
    const o = c.sim.store.get(kind === "Deployment" ? "apps/deployments" : "apps/statefulsets", ns, name)!;
    out.set(w, { replicas: o.spec.replicas, generation: o.metadata.generation!, annotations: { ...(o.metadata.annotations ?? {}) } });
  }
  return out;
}
