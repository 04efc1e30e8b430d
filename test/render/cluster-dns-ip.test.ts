// The kube-dns address when the spec gives none: the 10th address of the Service range, found from
// Service default/kubernetes (the range's 1st), as kubeadm and K3s assign it — so kubeadm's 10.96.0.0/12
// is not sent K3s's 10.43.0.10 (a 422 from the apiserver, forever).
import { expect } from "chai";
import { render } from "../../operator/src/render/index.js";
import type { ClusterDNSFacts } from "../../operator/src/contract/index.js";
import { DEFAULT_CLUSTER_DNS_IP, defaultClusterDnsIP } from "../../operator/src/render/stages/cluster-dns.js";
import { FACTS, spec } from "./fixtures.js";

const serviceIP = (clusterDNS: ClusterDNSFacts, clusterDNSSpec?: Record<string, unknown>): string => {
  const s = spec(clusterDNSSpec ? { kubernetes: { clusterDNS: clusterDNSSpec } } : {});
  const stage = render(s, { ...FACTS, clusterDNS }).stages.find((st) => st.name === "ClusterDNS")!;
  return (stage.objects.find((o) => o.kind === "Service")!.spec as { clusterIP: string }).clusterIP;
};

describe("ClusterDNS address from the Service range", () => {
  it("is the 10th address of the range whose 1st is Service default/kubernetes (kubeadm, K3s, custom, IPv6)", () => {
    expect(defaultClusterDnsIP("10.96.0.1"), "kubeadm 10.96.0.0/12").to.equal("10.96.0.10");
    expect(defaultClusterDnsIP("10.43.0.1"), "K3s 10.43.0.0/16").to.equal("10.43.0.10");
    expect(defaultClusterDnsIP("172.20.0.1"), "EKS-like 172.20.0.0/16").to.equal("172.20.0.10");
    expect(defaultClusterDnsIP("10.0.255.251"), "carries into the next octet").to.equal("10.1.0.4");
    expect(defaultClusterDnsIP("fd00:10:96::1"), "IPv6, RFC 5952 form").to.equal("fd00:10:96::a");
    expect(defaultClusterDnsIP("2001:db8:0:0:1:0:0:1")).to.equal("2001:db8::1:0:0:a");
  });

  it("falls back to K3s's 10.43.0.10 without the fact (offline plan) or with an unusable one", () => {
    for (const ip of [undefined, "", "None", "255.255.255.250", "not-an-ip"]) expect(defaultClusterDnsIP(ip), String(ip)).to.equal(DEFAULT_CLUSTER_DNS_IP);
  });

  it("renders Service kube-system/kube-dns with it; spec.kubernetes.clusterDNS.clusterIP still wins", () => {
    const kubeadm: ClusterDNSFacts = { observable: true, foreignServices: [], ownServicePresent: false, kubernetesServiceIP: "10.96.0.1" };
    expect(serviceIP(kubeadm)).to.equal("10.96.0.10");
    expect(serviceIP(kubeadm, { clusterIP: "10.96.0.53" })).to.equal("10.96.0.53");
    expect(serviceIP({ observable: true, foreignServices: [], ownServicePresent: false })).to.equal("10.43.0.10");
  });
});
