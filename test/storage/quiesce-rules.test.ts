// The Quiesce rule on a fake API server (no host): DaemonSets whose pods mount <root>/rootfs — a
// hostPath there or above it, or a claim bound to a PV there — are found (Precheck refuses naming them);
// DaemonSets elsewhere and in the cluster's own namespaces are not.
import { expect } from "chai";
import { rootfsDaemonSets } from "../../operator/src/controller/storage-workloads.js";
import { QUIESCE_EXCLUDED_NAMESPACES } from "../../operator/src/render/stages/storage-plan.js";
import { FakeCluster } from "../support/fake-cluster.js";

const ds = (ns: string, name: string, volumes: unknown[]) => ({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name, namespace: ns },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "busybox" }], volumes } } },
});

describe("Quiesce rule: DaemonSets that mount the rootfs (fake API server)", () => {
  it("finds hostPath under or above <root>/rootfs and claims bound to a PV there; ignores others and the cluster's namespaces", async () => {
    const c = new FakeCluster();
    await c.apply(ds("apps", "shipper", [{ name: "d", hostPath: { path: "/olares/rootfs/local-path" } }]));
    await c.apply(ds("apps", "whole-root", [{ name: "d", hostPath: { path: "/olares" } }]));
    await c.apply(ds("apps", "elsewhere", [{ name: "d", hostPath: { path: "/var/log" } }]));
    await c.apply(ds("kube-system", "cluster-own", [{ name: "d", hostPath: { path: "/olares/rootfs" } }]));
    await c.apply({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pv-1" }, spec: { hostPath: { path: "/olares/rootfs/local-path/pv-1" }, claimRef: { namespace: "apps", name: "data" } } });
    await c.apply({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: "apps" }, spec: { volumeName: "pv-1" } });
    await c.apply(ds("apps", "by-claim", [{ name: "d", persistentVolumeClaim: { claimName: "data" } }]));
    const found = await rootfsDaemonSets(c, { namespacesExcluded: QUIESCE_EXCLUDED_NAMESPACES, volumesUnder: "/olares/rootfs" });
    expect(found.map((f) => `${f.workload.metadata.namespace}/${f.workload.metadata.name}:${f.paths.join(",")}`)).to.deep.equal([
      "apps/by-claim:/olares/rootfs/local-path/pv-1",
      "apps/shipper:/olares/rootfs/local-path",
      "apps/whole-root:/olares",
    ]);
  });
});
