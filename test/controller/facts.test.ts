// Fact gathering: which DNS Services the cluster has, whose they are, and whether the operator's cache
// can see Services it did not create at all (informers of owned kinds watch only our label).
import { expect } from "chai";
import { clusterDnsFacts, FACT_INFORMERS, gatherFacts } from "../../operator/src/controller/facts.js";
import { defaultedSpec } from "../../operator/src/controller/reconciler.js";
import { CacheSet } from "../../operator/src/kube/cache.js";
import { createInformer } from "../../operator/src/kube/informer.js";
import { OWNED_KINDS } from "../../operator/src/render/kinds.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { FakeCluster } from "../support/fake-cluster.js";
import { installation, kubeSystemNamespace } from "./harness.js";

function service(name: string, namespace: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace, labels }, spec: { clusterIP: "10.43.0.10" } };
}

const K3S_KUBE_DNS = service("kube-dns", "kube-system", { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS", "objectset.rio.cattle.io/hash": "abc" });
const ours = (installationName: string) => ({ "app.kubernetes.io/managed-by": "olares-operator", "olares.com/installation": installationName, "k8s-app": "kube-dns" });

function cluster(...objects: KubeObject[]): FakeCluster {
  const c = new FakeCluster(() => new Date("2026-01-01T00:00:00Z"));
  for (const o of objects) c.seed(o);
  return c;
}

describe("cluster facts: cluster DNS", () => {
  it("a bare cluster (the bootstrap's K3s runs with --disable=coredns) has no DNS Service", () => {
    expect(clusterDnsFacts(cluster(kubeSystemNamespace()).observed(), "olares")).to.deep.equal({ observable: true, foreignServices: [], ownServicePresent: false });
  });

  it("finds the distribution's DNS by label k8s-app=kube-dns or by the name kube-dns, in kube-system only", () => {
    const c = cluster(
      kubeSystemNamespace(),
      K3S_KUBE_DNS,
      service("rke2-coredns-rke2-coredns", "kube-system", { "k8s-app": "kube-dns" }),
      service("metrics-server", "kube-system", { "k8s-app": "metrics-server" }),
      service("kube-dns", "default"),
      service("dns-lookalike", "tenant", { "k8s-app": "kube-dns" }),
    );
    expect(clusterDnsFacts(c.observed(), "olares")).to.deep.equal({
      observable: true,
      foreignServices: ["kube-system/kube-dns", "kube-system/rke2-coredns-rke2-coredns"],
      ownServicePresent: false,
    });
    expect(clusterDnsFacts(cluster(kubeSystemNamespace(), service("kube-dns", "kube-system")).observed(), "olares").foreignServices).to.deep.equal(["kube-system/kube-dns"]);
  });

  it("our own kube-dns counts as ours only for this installation", () => {
    const c = cluster(kubeSystemNamespace(), service("kube-dns", "kube-system", ours("olares")), service("kube-dns-upstream", "kube-system", { "k8s-app": "kube-dns" }));
    expect(clusterDnsFacts(c.observed(), "olares")).to.deep.equal({ observable: true, foreignServices: ["kube-system/kube-dns-upstream"], ownServicePresent: true });
    expect(clusterDnsFacts(c.observed(), "other")).to.deep.equal({
      observable: true,
      foreignServices: ["kube-system/kube-dns", "kube-system/kube-dns-upstream"],
      ownServicePresent: false,
    });
  });

  it("without kube-system in view the facts say so instead of claiming there is no DNS", () => {
    expect(clusterDnsFacts(cluster(K3S_KUBE_DNS).observed(), "olares").observable).to.equal(false);
  });

  it("gatherFacts carries them to render", () => {
    const cr = { ...installation("olares"), metadata: { name: "olares", uid: "u-1" } };
    const c = cluster(kubeSystemNamespace(), K3S_KUBE_DNS);
    expect(gatherFacts(cr, defaultedSpec(cr), c.observed(), "img").clusterDNS).to.deep.equal({
      observable: true,
      foreignServices: ["kube-system/kube-dns"],
      ownServicePresent: false,
    });
  });

  describe("through the manager's informer cache", () => {
    async function cacheFacts(withFactInformers: boolean) {
      const c = cluster(kubeSystemNamespace(), { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } }, K3S_KUBE_DNS, service("web", "default"));
      const ourLabel = "app.kubernetes.io/managed-by=olares-operator";
      const cache = new CacheSet([
        ...OWNED_KINDS.map((k) => createInformer({ source: c, apiVersion: k.apiVersion, kind: k.kind, labelSelector: ourLabel, resyncPeriodMs: 0 })),
        ...(withFactInformers ? FACT_INFORMERS.map((f) => createInformer({ source: c, ...f, resyncPeriodMs: 0 })) : []),
      ]);
      cache.start();
      try {
        await cache.waitForSync();
        return { facts: clusterDnsFacts(cache, "olares"), namespaces: cache.list("v1", "Namespace").map((n) => n.metadata.name), services: cache.list("v1", "Service").map((s) => `${s.metadata.namespace}/${s.metadata.name}`) };
      } finally {
        await cache.stop();
      }
    }

    it("owned-kind informers alone (our label only) cannot see the K3s kube-dns: not observable, so Auto will not guess", async () => {
      expect((await cacheFacts(false)).facts).to.deep.equal({ observable: false, foreignServices: [], ownServicePresent: false });
    });

    it("with FACT_INFORMERS it sees the K3s kube-dns, and watches no more than kube-system's Services and that Namespace", async () => {
      const r = await cacheFacts(true);
      expect(r.facts).to.deep.equal({ observable: true, foreignServices: ["kube-system/kube-dns"], ownServicePresent: false });
      expect(r.namespaces).to.deep.equal(["kube-system"]);
      expect(r.services).to.deep.equal(["kube-system/kube-dns"]);
    });
  });
});
