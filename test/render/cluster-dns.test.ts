// ClusterDNS stage: when CoreDNS is rendered (Auto / Managed / External against the cluster's DNS
// facts), what it looks like, and how its readiness is judged.
import { expect } from "chai";
import { render, allObjects, RenderError } from "../../operator/src/render/index.js";
import type { ClusterDNSFacts, ClusterFacts, KubeObject, ObservedState, Stage } from "../../operator/src/contract/index.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_RENDER_HASH } from "../../operator/src/contract/index.js";
import { COREDNS_IMAGE, corefile } from "../../operator/src/render/stages/cluster-dns.js";
import { planFor } from "../../operator/src/cli/plan-model.js";
import { formatPlan } from "../../operator/src/cli/plan-output.js";
import { FACTS, spec } from "./fixtures.js";

const NO_DNS: ClusterDNSFacts = { observable: true, foreignServices: [], ownServicePresent: false };
const K3S_DNS: ClusterDNSFacts = { observable: true, foreignServices: ["kube-system/kube-dns"], ownServicePresent: false };

function facts(clusterDNS?: ClusterDNSFacts): ClusterFacts {
  return clusterDNS ? { ...FACTS, clusterDNS } : { ...FACTS };
}

function dnsStage(clusterDNS: ClusterDNSFacts | undefined, clusterDNSSpec?: Record<string, unknown>, extra: Record<string, unknown> = {}): Stage | undefined {
  const s = spec({ ...(clusterDNSSpec ? { kubernetes: { clusterDNS: clusterDNSSpec } } : {}), ...extra });
  return render(s, facts(clusterDNS)).stages.find((st) => st.name === "ClusterDNS");
}

function find(objects: KubeObject[], kind: string, name: string): any {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o;
}

/** What the cluster holds: the given objects, with optional status per "Kind/name". */
function observedOf(objects: KubeObject[], status: Record<string, unknown> = {}): ObservedState {
  const live = objects.map((o) => ({ ...o, status: status[`${o.kind}/${o.metadata.name}`] ?? o.status }) as KubeObject);
  return {
    get: (ref) => live.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace),
    list: (_v, kind, ns) => live.filter((o) => o.kind === kind && (ns === undefined || o.metadata.namespace === ns)),
  };
}

const KINDS = ["ServiceAccount/coredns", "ClusterRole/olares-coredns", "ClusterRoleBinding/olares-coredns", "ConfigMap/coredns", "Deployment/coredns", "Service/kube-dns"];

describe("ClusterDNS stage", () => {
  describe("when CoreDNS is rendered", () => {
    it("Auto on a cluster without DNS (and offline, where plan models a bare cluster): CoreDNS after NodeConfig", () => {
      for (const f of [NO_DNS, undefined]) {
        const names = render(spec(), facts(f)).stages.map((s) => s.name);
        expect(names.indexOf("ClusterDNS")).to.equal(names.indexOf("NodeConfig") + 1);
        expect(dnsStage(f)!.objects.map((o) => `${o.kind}/${o.metadata.name}`)).to.deep.equal(KINDS);
      }
    });

    it("Auto on a cluster with its own DNS (K3s, kubeadm, RKE2's differently named Service): nothing applied, ready while that Service exists", () => {
      for (const foreign of [["kube-system/kube-dns"], ["kube-system/rke2-coredns-rke2-coredns"]]) {
        const stage = dnsStage({ observable: true, foreignServices: foreign, ownServicePresent: false })!;
        expect(stage.objects).to.deep.equal([]);
        const [namespace, name] = foreign[0]!.split("/");
        const present = stage.ready(observedOf([{ apiVersion: "v1", kind: "Service", metadata: { name: name!, namespace } }]));
        expect(present).to.include({ ready: true, reason: "ExistingClusterDNS" });
        expect(present.message).to.include(foreign[0]);
        expect(stage.ready(observedOf([]))).to.include({ ready: false, reason: "ClusterDNSGone" });
      }
    });

    it("Auto keeps the CoreDNS it deployed when another DNS Service shows up later (e.g. NodeLocal DNSCache's kube-dns-upstream)", () => {
      const stage = dnsStage({ observable: true, foreignServices: ["kube-system/kube-dns-upstream"], ownServicePresent: true })!;
      expect(stage.objects.map((o) => `${o.kind}/${o.metadata.name}`)).to.deep.equal(KINDS);
    });

    it("Auto refuses to guess when the operator cannot see Services it did not create: Degraded, nothing applied", () => {
      const stage = dnsStage({ observable: false, foreignServices: [], ownServicePresent: false })!;
      expect(stage.objects).to.deep.equal([]);
      const r = stage.ready(observedOf([]));
      expect(r).to.include({ ready: false, degraded: true, reason: "ClusterDNSUnobservable" });
      expect(r.message).to.include("spec.kubernetes.clusterDNS.mode");
    });

    it("Managed renders CoreDNS even beside another DNS Service, but never takes over a kube-dns it does not own", () => {
      expect(dnsStage({ observable: true, foreignServices: ["kube-system/kube-dns-upstream"], ownServicePresent: false }, { mode: "Managed" })!.objects).to.have.length(6);
      expect(dnsStage({ observable: false, foreignServices: [], ownServicePresent: false }, { mode: "Managed" })!.objects).to.have.length(6);
      const conflict = dnsStage(K3S_DNS, { mode: "Managed" })!;
      expect(conflict.objects).to.deep.equal([]);
      const r = conflict.ready(observedOf([]));
      expect(r).to.include({ ready: false, degraded: true, reason: "ClusterDNSConflict" });
      expect(r.message).to.include("kube-system/kube-dns");
    });

    it("External: the stage is absent whatever the cluster holds", () => {
      for (const f of [NO_DNS, K3S_DNS, undefined]) expect(dnsStage(f, { mode: "External" })).to.equal(undefined);
    });
  });

  describe("the CoreDNS objects", () => {
    const objects = dnsStage(NO_DNS)!.objects;

    it("live in kube-system with the standard labels and owner reference", () => {
      for (const o of objects) {
        if (o.kind !== "ClusterRole" && o.kind !== "ClusterRoleBinding") expect(o.metadata.namespace).to.equal("kube-system");
        expect(o.metadata.labels).to.include({
          "app.kubernetes.io/managed-by": "olares-operator",
          "app.kubernetes.io/part-of": "olares",
          "app.kubernetes.io/name": "coredns",
          "olares.com/installation": "olares",
          "olares.com/stage": "ClusterDNS",
        });
        expect(o.metadata.ownerReferences?.[0]).to.include({ kind: "OlaresInstallation", name: "olares", uid: FACTS.ownerUid, controller: true });
        expect(o.metadata.annotations?.[ANNOTATION_RENDER_HASH]).to.match(/^[0-9a-f]{10}$/);
      }
    });

    it("RBAC is K3s's system:coredns: list/watch of endpoints, services, pods, namespaces and endpointslices, bound to the coredns ServiceAccount", () => {
      expect(find(objects, "ClusterRole", "olares-coredns").rules).to.deep.equal([
        { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ]);
      const binding = find(objects, "ClusterRoleBinding", "olares-coredns");
      expect(binding.roleRef).to.deep.equal({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "olares-coredns" });
      expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "coredns", namespace: "kube-system" }]);
    });

    it("the Corefile serves cluster.local and forwards to the node's resolv.conf by default, or to the upstreams", () => {
      const text = find(objects, "ConfigMap", "coredns").data.Corefile as string;
      for (const line of ["kubernetes cluster.local in-addr.arpa ip6.arpa {", "forward . /etc/resolv.conf", "cache 30", "loop", "reload", "health {", "ready", "prometheus :9153"]) {
        expect(text).to.include(line);
      }
      expect(text).to.equal(corefile([]));
      const upstream = dnsStage(NO_DNS, { upstreamNameservers: ["1.1.1.1", "2606:4700:4700::1111"] })!.objects;
      expect(find(upstream, "ConfigMap", "coredns").data.Corefile).to.include("forward . 1.1.1.1 2606:4700:4700::1111\n");
    });

    it("the Deployment is pinned, critical, tolerates control planes, and is ready on :8181/ready", () => {
      const d = find(objects, "Deployment", "coredns");
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      expect(c.image).to.equal(COREDNS_IMAGE).and.match(/:\d+\.\d+\.\d+$/);
      expect(pod.priorityClassName).to.equal("system-cluster-critical");
      expect(pod.dnsPolicy).to.equal("Default");
      expect(pod.serviceAccountName).to.equal("coredns");
      expect(pod.tolerations).to.deep.include({ key: "CriticalAddonsOnly", operator: "Exists" });
      expect(pod.tolerations).to.deep.include({ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" });
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/ready", port: 8181, scheme: "HTTP" });
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/health", port: 8080, scheme: "HTTP" });
      expect(c.securityContext).to.deep.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(d.spec.strategy.rollingUpdate).to.deep.equal({ maxSurge: 1, maxUnavailable: 0 });
      expect(d.spec.selector.matchLabels).to.deep.equal({ "app.kubernetes.io/name": "coredns", "k8s-app": "kube-dns", "olares.com/installation": "olares" });
      expect(d.spec.template.metadata.labels).to.deep.equal(d.spec.selector.matchLabels);
      expect(pod.volumes).to.deep.include({ name: "custom-config-volume", configMap: { name: "coredns-custom", optional: true } });
    });

    it("the Service is kube-system/kube-dns at 10.43.0.10 (or spec.clusterIP) with 53/udp, 53/tcp and 9153", () => {
      const svc = find(objects, "Service", "kube-dns");
      expect(svc.metadata.labels).to.include({ "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true" });
      expect(svc.spec.clusterIP).to.equal("10.43.0.10");
      expect(svc.spec.ports.map((p: any) => `${p.port}/${p.protocol}`)).to.deep.equal(["53/UDP", "53/TCP", "9153/TCP"]);
      expect(svc.spec.selector).to.deep.equal(find(objects, "Deployment", "coredns").spec.selector.matchLabels);
      expect(find(dnsStage(NO_DNS, { mode: "Managed", clusterIP: "10.96.0.10" })!.objects, "Service", "kube-dns").spec.clusterIP).to.equal("10.96.0.10");
    });

    it("rolls CoreDNS when its Corefile or the node name servers it forwards to change, not otherwise", () => {
      const hash = (clusterDNSSpec: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) =>
        find(dnsStage(NO_DNS, clusterDNSSpec, extra)!.objects, "Deployment", "coredns").spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH];
      const plain = hash(undefined);
      expect(hash({ mode: "Managed" })).to.equal(plain);
      expect(hash({ upstreamNameservers: ["1.1.1.1"] })).to.not.equal(plain);
      expect(hash(undefined, { os: { dns: { nameservers: ["9.9.9.9"] } } })).to.not.equal(plain);
      // with explicit upstreams the node's resolv.conf no longer matters
      expect(hash({ upstreamNameservers: ["1.1.1.1"] }, { os: { dns: { nameservers: ["9.9.9.9"] } } })).to.equal(hash({ upstreamNameservers: ["1.1.1.1"] }));
    });

    it("refuses a value that is not an IP literal (defence behind the CRD pattern), naming the field", () => {
      expect(() => dnsStage(NO_DNS, { mode: "Managed", upstreamNameservers: ["1.1.1.1", "8.8.8.8\n}"] })).to.throw(
        RenderError,
        /^spec\.kubernetes\.clusterDNS\.upstreamNameservers\[1\]: must be an IPv4 or IPv6 address literal/,
      );
      expect(() => dnsStage(NO_DNS, { clusterIP: "kube-dns" })).to.throw(RenderError, /^spec\.kubernetes\.clusterDNS\.clusterIP: /);
    });
  });

  describe("readiness", () => {
    const stage = dnsStage(NO_DNS)!;

    it("is not ready until every object is applied and the Deployment is rolled out", () => {
      expect(stage.ready(observedOf([]))).to.include({ ready: false, reason: "NotApplied" });
      expect(stage.ready(observedOf(stage.objects, { "Deployment/coredns": { observedGeneration: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1 } }))).to.include({
        ready: false,
        reason: "DeploymentRolling",
      });
      const ready = stage.ready(observedOf(stage.objects, { "Deployment/coredns": { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 } }));
      expect(ready).to.include({ ready: true });
      expect(ready.components).to.deep.equal([{ name: "coredns", stage: "ClusterDNS", kind: "Deployment", namespace: "kube-system", ready: true, message: "coredns: 1/1 ready" }]);
    });
  });

  describe("plan", () => {
    const document = {
      apiVersion: "olares.com/v1alpha1",
      kind: "OlaresInstallation",
      metadata: { name: "olares" },
      spec: { version: "1.12.1", owner: { username: "alice" } },
    };

    it("the table lists CoreDNS in its stage, after NodeConfig", () => {
      const out = formatPlan(planFor(document), "table");
      expect(out.split("\n")[0]).to.include("stages: Prerequisites → NodeAgent → NodeConfig → ClusterDNS → Storage");
      expect(out).to.match(/ClusterDNS\s+Deployment\s+kube-system\/coredns\s+1x rancher\/mirrored-coredns-coredns:\d/);
      expect(out).to.match(/ClusterDNS\s+Service\s+kube-system\/kube-dns\s+ports: 53, 53, 9153/);
      expect(out).to.match(/ClusterDNS\s+ClusterRole\s+olares-coredns\s+2 rules/);
    });

    it("External leaves it out of the plan", () => {
      const plan = planFor({ ...document, spec: { ...document.spec, kubernetes: { clusterDNS: { mode: "External" } } } });
      expect(plan.desired.stages.map((s) => s.name)).to.not.include("ClusterDNS");
      expect(allObjects(plan.desired).filter((o) => o.metadata.namespace === "kube-system")).to.deep.equal([]);
    });
  });
});
