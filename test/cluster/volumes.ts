// kwok runs no containers, so the local-path provisioner Deployment the operator installs cannot do its
// job. This stands in for its control loop only (never for the scheduler or the PV controller, which are
// the real kube-scheduler and kube-controller-manager): for every claim of a rancher.io/local-path class
// that the scheduler has placed (volume.kubernetes.io/selected-node) it creates a node-affine PV, as
// local-path-provisioner does, and it deletes Released PVs it made (reclaimPolicy Delete).
import type { ControlPlane } from "../support/controlplane.js";

const PROVISIONER = "rancher.io/local-path";
const SELECTED_NODE = "volume.kubernetes.io/selected-node";

export interface Provisioner {
  readonly provisioned: number;
  stop(): Promise<void>;
}

export function startLocalPathStandIn(cp: ControlPlane, pollMs = 250): Provisioner {
  let provisioned = 0;
  const sync = async () => {
    const classes = (await cp.api("GET", "/apis/storage.k8s.io/v1/storageclasses")).json?.items ?? [];
    const ours = new Map<string, any>(classes.filter((c: any) => c.provisioner === PROVISIONER).map((c: any) => [c.metadata.name, c])); // eslint-disable-line @typescript-eslint/no-explicit-any
    if (ours.size > 0) {
      const claims = (await cp.api("GET", "/api/v1/persistentvolumeclaims")).json?.items ?? [];
      for (const pvc of claims) {
        const sc = ours.get(pvc.spec.storageClassName);
        const node = pvc.metadata.annotations?.[SELECTED_NODE];
        if (!sc || pvc.status?.phase !== "Pending" || pvc.spec.volumeName || !node) continue;
        const name = `pvc-${pvc.metadata.uid}`;
        const res = await cp.api("POST", "/api/v1/persistentvolumes", {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name, annotations: { "pv.kubernetes.io/provisioned-by": PROVISIONER, "local.path.provisioner/selected-node": node } },
          spec: {
            capacity: { storage: pvc.spec.resources.requests.storage },
            accessModes: pvc.spec.accessModes,
            persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? "Delete",
            storageClassName: sc.metadata.name,
            volumeMode: pvc.spec.volumeMode ?? "Filesystem",
            hostPath: { path: `/opt/local-path-provisioner/${name}_${pvc.metadata.namespace}_${pvc.metadata.name}`, type: "DirectoryOrCreate" },
            claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
            nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] } },
          },
        });
        if (res.status === 201) provisioned++;
      }
    }
    const volumes = (await cp.api("GET", "/api/v1/persistentvolumes")).json?.items ?? [];
    for (const pv of volumes) {
      if (pv.metadata.annotations?.["pv.kubernetes.io/provisioned-by"] === PROVISIONER && pv.status?.phase === "Released" && pv.spec.persistentVolumeReclaimPolicy === "Delete") {
        await cp.api("DELETE", `/api/v1/persistentvolumes/${pv.metadata.name}`);
      }
    }
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(sync).catch(() => undefined);
  }, pollMs);
  return {
    get provisioned() {
      return provisioned;
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
