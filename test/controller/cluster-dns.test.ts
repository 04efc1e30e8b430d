// ClusterDNS through the reconciler: a bootstrap-made cluster gets CoreDNS, an existing cluster's DNS is
// never touched, Managed never takes over someone else's kube-dns, External prunes ours.
import { expect } from "chai";
import { baseSpec, harness, installation, kubeSystemNamespace } from "./harness.js";
import type { Condition, InstallationStatus } from "../../operator/src/controller/status.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const cond = (cr: KubeObject, type: string): Condition | undefined => (cr.status as InstallationStatus).conditions?.find((c) => c.type === type);
const phase = (cr: KubeObject) => (cr.status as InstallationStatus).phase;

const K3S_KUBE_DNS: KubeObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" } },
  spec: { clusterIP: "10.43.0.10", selector: { "k8s-app": "kube-dns" } },
};

function withDns(clusterDNS: Record<string, unknown>): KubeObject {
  return installation("olares", { ...baseSpec(), kubernetes: { clusterDNS } });
}

const kubeSystemWrites = (h: ReturnType<typeof harness>) =>
  h.cluster.writes().filter((w) => w.ref.namespace === "kube-system" || w.ref.name === "olares-coredns").map((w) => `${w.verb} ${w.ref.kind}/${w.ref.name}`);

describe("ClusterDNS reconcile", () => {
  it("bootstrap-made cluster (no DNS): deploys CoreDNS in kube-system, waits for it, then keeps it", async () => {
    const h = harness();
    await h.converge();
    expect(kubeSystemWrites(h)).to.deep.equal([
      "apply ServiceAccount/coredns",
      "apply ClusterRole/olares-coredns",
      "apply ClusterRoleBinding/olares-coredns",
      "apply ConfigMap/coredns",
      "apply Deployment/coredns",
      "apply Service/kube-dns",
    ]);
    expect(cond(h.cr(), "ClusterDNSReady")).to.include({ status: "True", reason: "Ready" });
    expect((h.cr().status as InstallationStatus).components).to.deep.include({
      name: "coredns", stage: "ClusterDNS", kind: "Deployment", namespace: "kube-system", ready: true, message: "coredns: 1/1 ready",
    });
    // our own kube-dns now exists: Auto keeps it (no prune, no re-apply at steady state)
    h.cluster.resetRequests();
    await h.reconcile();
    expect(h.cluster.writes()).to.deep.equal([]);
    expect(h.cluster.peek({ apiVersion: "apps/v1", kind: "Deployment", name: "coredns", namespace: "kube-system" })).to.not.equal(undefined);
  });

  it("the stage blocks what follows until CoreDNS is ready", async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) {
      await h.reconcile();
      h.rollOutWorkloads({ except: ["coredns"] });
    }
    await h.reconcile();
    expect(cond(h.cr(), "ClusterDNSReady")).to.include({ status: "False", reason: "DeploymentRolling" });
    expect(cond(h.cr(), "StorageReady")).to.include({ status: "False", reason: "WaitingForPreviousStage" });
    expect((h.cr().status as InstallationStatus).message).to.match(/^ClusterDNS: coredns: /);
  });

  it("existing cluster (helm install on K3s with its own CoreDNS): Auto touches nothing in kube-system and reports the DNS it found", async () => {
    const h = harness({ seed: [kubeSystemNamespace(), K3S_KUBE_DNS] });
    await h.converge();
    expect(kubeSystemWrites(h)).to.deep.equal([]);
    const live = h.cluster.peek({ apiVersion: "v1", kind: "Service", name: "kube-dns", namespace: "kube-system" })!;
    expect(live.metadata.labels).to.deep.equal(K3S_KUBE_DNS.metadata.labels);
    expect(live.metadata.ownerReferences).to.equal(undefined);
    expect(live.spec).to.deep.equal(K3S_KUBE_DNS.spec);
    const c = cond(h.cr(), "ClusterDNSReady")!;
    expect(c).to.include({ status: "True", reason: "ExistingClusterDNS" });
    expect(c.message).to.include("kube-system/kube-dns");
  });

  it("Managed on a cluster whose kube-dns is someone else's: Degraded with the reason, nothing taken over", async () => {
    const h = harness({ crs: [withDns({ mode: "Managed" })], seed: [kubeSystemNamespace(), K3S_KUBE_DNS] });
    for (let i = 0; i < 4; i++) {
      await h.reconcile();
      h.rollOutWorkloads();
    }
    expect(kubeSystemWrites(h)).to.deep.equal([]);
    expect(phase(h.cr())).to.equal("Degraded");
    expect(cond(h.cr(), "ClusterDNSReady")).to.include({ status: "False", reason: "ClusterDNSConflict" });
    expect(cond(h.cr(), "StorageReady")).to.include({ status: "False", reason: "WaitingForPreviousStage" });
  });

  it("Managed with upstreams and a custom clusterIP on a bare cluster", async () => {
    const h = harness({ crs: [withDns({ mode: "Managed", clusterIP: "10.96.0.10", upstreamNameservers: ["1.1.1.1"] })] });
    await h.converge();
    const svc = h.cluster.peek({ apiVersion: "v1", kind: "Service", name: "kube-dns", namespace: "kube-system" }) as any;
    expect(svc.spec.clusterIP).to.equal("10.96.0.10");
    const cm = h.cluster.peek({ apiVersion: "v1", kind: "ConfigMap", name: "coredns", namespace: "kube-system" }) as any;
    expect(cm.data.Corefile).to.include("forward . 1.1.1.1\n");
  });

  it("switching to External prunes the CoreDNS Olares deployed, and only that", async () => {
    const h = harness({ seed: [kubeSystemNamespace(), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "coredns-custom", namespace: "kube-system" }, data: {} }] });
    await h.converge();
    h.cluster.seed({ ...h.cr(), spec: { ...(h.cr().spec as object), kubernetes: { clusterDNS: { mode: "External" } } } });
    h.cluster.resetRequests();
    await h.converge();
    expect(kubeSystemWrites(h).sort()).to.deep.equal(
      ["delete ClusterRole/olares-coredns", "delete ClusterRoleBinding/olares-coredns", "delete ConfigMap/coredns", "delete Deployment/coredns", "delete Service/kube-dns", "delete ServiceAccount/coredns"].sort(),
    );
    expect(h.cluster.peek({ apiVersion: "v1", kind: "ConfigMap", name: "coredns-custom", namespace: "kube-system" })).to.not.equal(undefined);
    expect(cond(h.cr(), "ClusterDNSReady")).to.include({ status: "True", reason: "Disabled" });
  });

  it("Auto refuses to guess when kube-system is not in the operator's view: Degraded, nothing applied there", async () => {
    const h = harness({ seed: [] });
    for (let i = 0; i < 4; i++) {
      await h.reconcile();
      h.rollOutWorkloads();
    }
    expect(kubeSystemWrites(h)).to.deep.equal([]);
    expect(cond(h.cr(), "ClusterDNSReady")).to.include({ status: "False", reason: "ClusterDNSUnobservable" });
    expect(phase(h.cr())).to.equal("Degraded");
  });
});

