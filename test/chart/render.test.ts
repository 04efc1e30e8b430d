// helm lint --strict and helm template of charts/olares-operator under the real Helm 4.1 and Helm 3.17,
// with default and non-default values; every object checked against upstream schemas.
import { expect } from "chai";
import { validateObject } from "./schemas.js";

import { HELMS, fetchTools, find, helmLint, helmTemplate, only, run } from "./tools.js";
import { NON_DEFAULT_VALUES } from "./values.js";

/** Rendered objects are read loosely: the schema checks above pin their shape. */
type Obj = { apiVersion: string; kind: string; metadata: Record<string, any>; [k: string]: any };

const HOOK = "helm.sh/hook";

function podSpecOf(o: Obj): any {
  return o.spec.template.spec;
}

function expectHardened(podSpec: any, where: string): void {
  expect(podSpec.securityContext, `${where} pod securityContext`).to.include({ runAsNonRoot: true, runAsUser: 65532 });
  expect(podSpec.securityContext.seccompProfile, `${where} pod seccomp`).to.deep.equal({ type: "RuntimeDefault" });
  for (const c of podSpec.containers) {
    const sc = c.securityContext;
    expect(sc, `${where}/${c.name} securityContext`).to.include({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      privileged: false,
    });
    expect(sc.capabilities.drop, `${where}/${c.name} capabilities.drop`).to.deep.equal(["ALL"]);
    expect(sc.capabilities.add, `${where}/${c.name} capabilities.add`).to.equal(undefined);
    expect(sc.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
    expect(c.resources.requests, `${where}/${c.name} requests`).to.have.keys("cpu", "memory");
    expect(c.resources.limits, `${where}/${c.name} limits`).to.have.keys("cpu", "memory");
  }
}

for (const helm of HELMS) {
  describe(`chart with ${helm.label}`, function () {
    this.timeout(180_000);
    let defaults: Obj[];
    let custom: Obj[];

    before(async function () {
      fetchTools();
      const d = await helmTemplate(helm.bin);
      expect(d.code, d.stderr).to.equal(0);
      defaults = d.objects as unknown as Obj[];
      const c = await helmTemplate(helm.bin, NON_DEFAULT_VALUES);
      expect(c.code, c.stderr).to.equal(0);
      custom = c.objects as unknown as Obj[];
    });

    it(`is the pinned ${helm.versionPrefix}x`, async () => {
      const res = await run(helm.bin, ["version", "--template", "{{ .Version }}"]);
      expect(res.stdout.trim().startsWith(helm.versionPrefix), res.stdout).to.equal(true);
    });

    it("mounts the release cache (emptyDir, or a PVC) and an airgap source read-only (PVC or hostPath); a bad hostPath is refused", async () => {
      const pvc = await helmTemplate(helm.bin, { release: { cache: { existingClaim: "olares-release-cache" }, airgap: { existingClaim: "olares-airgap" } } });
      expect(pvc.code, pvc.stderr).to.equal(0);
      const pod = podSpecOf(only(pvc.objects as unknown as Obj[], "Deployment"));
      expect(pod.volumes.filter((v: any) => v.name.startsWith("release-"))).to.deep.equal([
        { name: "release-cache", persistentVolumeClaim: { claimName: "olares-release-cache" } },
        { name: "release-airgap", persistentVolumeClaim: { claimName: "olares-airgap", readOnly: true } },
      ]);
      expect(pod.containers[0].volumeMounts).to.deep.include({ name: "release-airgap", mountPath: "/var/lib/olares-operator/airgap", readOnly: true });
      const host = await helmTemplate(helm.bin, { release: { airgap: { hostPath: "/srv/olares" } } });
      const hostPod = podSpecOf(only(host.objects as unknown as Obj[], "Deployment"));
      expect(hostPod.volumes.find((v: any) => v.name === "release-airgap")).to.deep.equal({ name: "release-airgap", hostPath: { path: "/srv/olares", type: "Directory" } });
      expect(hostPod.volumes.find((v: any) => v.name === "release-cache")).to.deep.equal({ name: "release-cache", emptyDir: { sizeLimit: "4Gi" } });
      const bad = await helmTemplate(helm.bin, { release: { airgap: { hostPath: "/srv/../etc" } } });
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.match(/release(\.|\/)airgap(\.|\/)hostPath/); // Helm 3 names it release.airgap.hostPath, Helm 4 /release/airgap/hostPath
    });

    it("serves an airgap release's files to the nodes: a selector-less Service the leader points at itself, the port and the env `run` reads", async () => {
      const svc = only(defaults, "Service", (o) => o.metadata.name === "olares-operator-release-files");
      // No selector: a standby has published nothing; the leader writes the one EndpointSlice (Role above).
      expect(svc.spec.selector).to.equal(undefined);
      expect(svc.spec.ports).to.deep.equal([{ name: "release-files", port: 8087, targetPort: 8087, protocol: "TCP" }]);
      const c = podSpecOf(only(defaults, "Deployment")).containers[0];
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      // The URL goes into the node agents' tasks; they resolve it through cluster DNS (ClusterFirstWithHostNet).
      expect(env.OLARES_RELEASE_FILES_URL).to.equal("http://olares-operator-release-files.olares-operator.svc:8087");
      expect(env.OLARES_RELEASE_FILES_ADDR).to.equal(":8087");
      expect(env.OLARES_RELEASE_FILES_SERVICE).to.equal(svc.metadata.name);
      expect(env.POD_UID).to.deep.equal({ fieldRef: { fieldPath: "metadata.uid" } });
      expect(env.POD_IP).to.deep.equal({ fieldRef: { fieldPath: "status.podIP" } });

      const moved = await helmTemplate(helm.bin, { release: { files: { port: 9443, url: "http://files.example:9443" } } });
      expect(moved.code, moved.stderr).to.equal(0);
      const mc = podSpecOf(only(moved.objects as unknown as Obj[], "Deployment")).containers[0];
      const menv = Object.fromEntries(mc.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect([menv.OLARES_RELEASE_FILES_URL, menv.OLARES_RELEASE_FILES_ADDR]).to.deep.equal(["http://files.example:9443", ":9443"]);
      expect(mc.ports.find((p: any) => p.name === "release-files").containerPort).to.equal(9443);

      const off = await helmTemplate(helm.bin, { release: { files: { enabled: false } } });
      expect(off.code, off.stderr).to.equal(0);
      const offObjs = off.objects as unknown as Obj[];
      expect(offObjs.some((o) => o.metadata.name === "olares-operator-release-files")).to.equal(false);
      const oc = podSpecOf(only(offObjs, "Deployment")).containers[0];
      expect(oc.env.map((e: any) => e.name)).to.not.include.members(["OLARES_RELEASE_FILES_URL", "OLARES_RELEASE_FILES_SERVICE"]);
      expect(oc.ports.map((p: any) => p.name)).to.deep.equal(["metrics"]);
      const offRole = only(offObjs, "Role", (o) => o.metadata.name === "olares-operator-leader-election");
      expect(offRole.rules.some((r: any) => r.apiGroups.includes("discovery.k8s.io"))).to.equal(false);

      const clash = await helmTemplate(helm.bin, { release: { files: { port: 8080 } } });
      expect(clash.code).to.not.equal(0);
      expect(clash.stderr).to.match(/release\.files\.port: 8080 is metricsPort/);
      const badUrl = await helmTemplate(helm.bin, { release: { files: { url: "ftp://files" } } });
      expect(badUrl.code).to.not.equal(0);
      expect(badUrl.stderr).to.match(/release(\.|\/)files(\.|\/)url/);
    });

    it("passes helm lint --strict with default values", async () => {
      const res = await helmLint(helm.bin);
      expect(res.code, res.stdout + res.stderr).to.equal(0);
    });

    it("passes helm lint --strict with non-default values", async () => {
      const res = await helmLint(helm.bin, NON_DEFAULT_VALUES);
      expect(res.code, res.stdout + res.stderr).to.equal(0);
    });

    it("renders the expected objects with default values", () => {
      const kinds = defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      expect(kinds).to.deep.equal(
        [
          "ClusterRole/olares-operator",
          "ClusterRole/olares-operator-crd-upgrade",
          "ClusterRoleBinding/olares-operator",
          "ClusterRoleBinding/olares-operator-crd-upgrade",
          "ClusterRoleBinding/olares-operator-installer",
          "CustomResourceDefinition/olaresinstallations.olares.com",
          "Deployment/olares-operator",
          "Job/olares-operator-crd-upgrade",
          "Role/olares-operator-impersonate-installer",
          "Role/olares-operator-leader-election",
          "RoleBinding/olares-operator-impersonate-installer",
          "RoleBinding/olares-operator-leader-election",
          "Service/olares-operator-metrics",
          "Service/olares-operator-release-files",
          "ServiceAccount/olares-operator",
          "ServiceAccount/olares-operator-crd-upgrade",
          "ServiceAccount/olares-operator-installer",
        ].sort(),
      );
    });

    it("renders objects that validate against the upstream schemas (default and non-default values)", () => {
      for (const o of [...defaults, ...custom]) validateObject(o as never);
      expect(find(custom, "ServiceMonitor")).to.have.length(1);
      expect(find(custom, "OlaresInstallation")).to.have.length(1);
      expect(find(custom, "PodDisruptionBudget")).to.have.length(1);
    });

    it("has no wildcard in any RBAC rule", () => {
      for (const o of [...defaults, ...custom].filter((x) => x.kind === "ClusterRole" || x.kind === "Role")) {
        for (const rule of o.rules as Array<Record<string, string[] | undefined>>) {
          for (const field of ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"]) {
            for (const v of rule[field] ?? []) expect(v, `${o.kind}/${o.metadata.name} ${field}`).to.not.include("*");
          }
        }
      }
    });

    it("binds the operator ServiceAccount to its ClusterRole and its leader-election Role", () => {
      const deploy = only(defaults, "Deployment");
      const sa = podSpecOf(deploy).serviceAccountName;
      const crb = only(defaults, "ClusterRoleBinding", (o) => o.metadata.name === "olares-operator");
      expect(crb.subjects).to.deep.equal([{ kind: "ServiceAccount", name: sa, namespace: "olares-operator" }]);
      expect(crb.roleRef.name).to.equal("olares-operator");
      const role = only(defaults, "Role", (o) => o.metadata.name === "olares-operator-leader-election");
      expect(role.metadata.namespace).to.equal("olares-operator");
      expect(role.rules).to.deep.equal([
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: ["olares-operator"], verbs: ["get", "update"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["create"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], resourceNames: ["olares-operator-release-files-leader"], verbs: ["get", "patch"] },
      ]);
      const rb = only(defaults, "RoleBinding", (o) => o.metadata.name === "olares-operator-leader-election");
      expect(rb.subjects[0].name).to.equal(sa);
    });

    it("lets the operator impersonate only the installer ServiceAccount, which helm runs as (--helm-as)", () => {
      const sa = podSpecOf(only(defaults, "Deployment")).serviceAccountName;
      const installer = only(defaults, "ServiceAccount", (o) => o.metadata.name === "olares-operator-installer");
      expect(installer.automountServiceAccountToken, "nothing runs as it").to.equal(false);
      const crb = only(defaults, "ClusterRoleBinding", (o) => o.metadata.name === "olares-operator-installer");
      expect(crb.roleRef.name).to.equal("cluster-admin");
      expect(crb.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "olares-operator-installer", namespace: "olares-operator" }]);
      const role = only(defaults, "Role", (o) => o.metadata.name === "olares-operator-impersonate-installer");
      expect(role.rules).to.deep.equal([{ apiGroups: [""], resources: ["serviceaccounts"], resourceNames: ["olares-operator-installer"], verbs: ["impersonate"] }]);
      const rb = only(defaults, "RoleBinding", (o) => o.metadata.name === "olares-operator-impersonate-installer");
      expect(rb.subjects).to.deep.equal([{ kind: "ServiceAccount", name: sa, namespace: "olares-operator" }]);
      expect(podSpecOf(only(defaults, "Deployment")).containers[0].args).to.include("--helm-as=system:serviceaccount:olares-operator:olares-operator-installer");
    });

    it("leaves the node agent's ServiceAccount and RBAC to the operator (no duplicates)", () => {
      for (const o of [...defaults, ...custom]) expect(o.metadata.name).to.not.equal("olares-node-agent");
      const cr = only(defaults, "ClusterRole", (o) => o.metadata.name === "olares-operator");
      const bindRule = cr.rules.find((r: any) => r.resources.includes("clusterroles") && r.verbs.includes("bind"));
      expect(bindRule.resourceNames).to.include("olares-node-agent");
    });

    it("hardens the operator Deployment and the CRD upgrade Job", () => {
      for (const objs of [defaults, custom]) {
        expectHardened(podSpecOf(only(objs, "Deployment")), "Deployment");
        expectHardened(podSpecOf(only(objs, "Job")), "Job");
      }
    });

    it("probes /healthz and /readyz on the metrics port it passes to `run`", () => {
      const c = podSpecOf(only(defaults, "Deployment")).containers[0];
      expect(c.args).to.deep.equal(["run", "--metrics-addr=:8080", "--image=ghcr.io/olares-operator/olares-operator:v0.1.0", "--leader-elect", "--qps=50", "--burst=100", "--helm-as=system:serviceaccount:olares-operator:olares-operator-installer"]);
      expect(c.ports).to.deep.equal([
        { name: "metrics", containerPort: 8080, protocol: "TCP" },
        { name: "release-files", containerPort: 8087, protocol: "TCP" },
      ]);
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: "metrics" });
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/readyz", port: "metrics" });
      // /tmp, and the unpacked Olares releases (the root filesystem is read-only).
      expect(c.volumeMounts).to.deep.equal([{ name: "tmp", mountPath: "/tmp" }, { name: "release-cache", mountPath: "/var/cache/olares-operator" }]);
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect(env.POD_NAME).to.deep.equal({ fieldRef: { fieldPath: "metadata.name" } });
      expect(env.POD_NAMESPACE).to.deep.equal({ fieldRef: { fieldPath: "metadata.namespace" } });
      expect(env.NODE_OPTIONS).to.equal("--max-old-space-size=160");
    });

    it("passes operator.qps/burst to `run` and NODE_OPTIONS from operator.nodeOptions (none when empty)", async () => {
      const res = await helmTemplate(helm.bin, { operator: { qps: 0, burst: 7, nodeOptions: "" } });
      expect(res.code, res.stderr).to.equal(0);
      const c = podSpecOf(only(res.objects as unknown as Obj[], "Deployment")).containers[0];
      expect(c.args).to.include.members(["--qps=0", "--burst=7"]);
      expect(c.env.map((e: any) => e.name)).to.not.include("NODE_OPTIONS");
      const bad = await helmTemplate(helm.bin, { operator: { burst: 0 } });
      expect(bad.code).to.not.equal(0);
      expect(bad.stderr).to.match(/burst/);
    });

    it("runs one replica without anti-affinity by default, two spread over nodes when asked", () => {
      const d = only(defaults, "Deployment");
      expect(d.spec.replicas).to.equal(1);
      expect(podSpecOf(d).affinity).to.equal(undefined);
      const c = only(custom, "Deployment");
      expect(c.spec.replicas).to.equal(2);
      expect(podSpecOf(c).containers[0].args).to.include("--leader-elect");
      const term = podSpecOf(c).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
      expect(term.topologyKey).to.equal("kubernetes.io/hostname");
      expect(term.labelSelector.matchLabels).to.deep.equal(c.spec.selector.matchLabels);
      expect(podSpecOf(c).containers[0].image).to.equal(`registry.example/olares/olares-operator@sha256:${"a".repeat(64)}`);
      expect(podSpecOf(c).containers[0].args).to.include(`--image=registry.example/olares/olares-operator@sha256:${"a".repeat(64)}`);
      expect(podSpecOf(c).priorityClassName).to.equal("system-cluster-critical");
      const pdb = only(custom, "PodDisruptionBudget");
      expect(pdb.spec.selector.matchLabels).to.deep.equal(c.spec.selector.matchLabels);
    });

    it("points the ServiceMonitor at the metrics Service (and not at the release-files one)", () => {
      const svc = only(custom, "Service", (o) => o.metadata.name === "olares-operator-metrics");
      const sm = only(custom, "ServiceMonitor");
      expect(svc.spec.selector).to.deep.equal((only(custom, "Deployment")).spec.selector.matchLabels);
      const selected = find(custom, "Service").filter((o) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels[k] === v));
      expect(selected.map((o) => o.metadata.name)).to.deep.equal(["olares-operator-metrics"]);
      expect(svc.spec.ports.map((p: any) => p.name)).to.include(sm.spec.endpoints[0].port);
      expect(sm.metadata.labels.release).to.equal("kube-prometheus-stack");
    });

    it("creates the OlaresInstallation as a kept release object after the operator (not a hook)", () => {
      const oi = only(custom, "OlaresInstallation");
      expect(oi.metadata.name).to.equal("olares");
      expect(oi.metadata.namespace).to.equal(undefined);
      expect(oi.metadata.annotations[HOOK]).to.equal(undefined);
      expect(oi.metadata.annotations["helm.sh/resource-policy"]).to.equal("keep");
      expect(oi.metadata.annotations["argocd.argoproj.io/sync-wave"]).to.equal("1");
      expect(oi.metadata.annotations["argocd.argoproj.io/sync-options"]).to.equal("SkipDryRunOnMissingResource=true");
      expect(oi.spec).to.deep.equal(NON_DEFAULT_VALUES.installation.spec);
    });

    it("runs `crd --apply` as a pre-install/pre-upgrade hook after its own RBAC hooks", () => {
      const hooks = defaults.filter((o) => o.metadata.annotations?.[HOOK]);
      expect(hooks.map((o) => o.kind).sort()).to.deep.equal(["ClusterRole", "ClusterRoleBinding", "Job", "ServiceAccount"]);
      const weight = (o: Obj) => Number(o.metadata.annotations["helm.sh/hook-weight"]);
      const job = only(hooks, "Job");
      for (const h of hooks) {
        expect(h.metadata.annotations[HOOK]).to.equal("pre-install,pre-upgrade");
        expect(h.metadata.annotations["helm.sh/hook-delete-policy"]).to.equal("before-hook-creation,hook-succeeded");
        if (h !== job) expect(weight(h)).to.be.lessThan(weight(job));
      }
      const c = podSpecOf(job).containers[0];
      expect(c.args).to.deep.equal(["crd", "--apply"]);
      expect(c.image).to.equal(podSpecOf(only(defaults, "Deployment")).containers[0].image);
      const role = only(hooks, "ClusterRole");
      const named = role.rules.find((r: any) => r.resourceNames);
      expect(named.resourceNames).to.deep.equal(["olaresinstallations.olares.com"]);
    });

    it("omits the hook when crds.upgradeJob.enabled is false", async () => {
      const res = await helmTemplate(helm.bin, { crds: { upgradeJob: { enabled: false } } });
      expect(res.code, res.stderr).to.equal(0);
      expect((res.objects as unknown as Obj[]).filter((o) => o.metadata.annotations?.[HOOK])).to.deep.equal([]);
      expect(find(res.objects, "Deployment")).to.have.length(1);
    });

    it("uses an existing ServiceAccount when serviceAccount.create is false", async () => {
      const res = await helmTemplate(helm.bin, { serviceAccount: { create: false, name: "my-operator" } });
      expect(res.code, res.stderr).to.equal(0);
      expect(find(res.objects, "ServiceAccount", (o) => o.metadata.name === "my-operator")).to.deep.equal([]);
      expect(podSpecOf(only(res.objects as unknown as Obj[], "Deployment")).serviceAccountName).to.equal("my-operator");
    });
  });
}

describe("chart under Helm 4.1 and Helm 3.17", function () {
  this.timeout(180_000);
  before(() => fetchTools());

  it("renders the same objects with both", async () => {
    for (const values of [{}, NON_DEFAULT_VALUES]) {
      const [a, b] = await Promise.all(HELMS.map((h) => helmTemplate(h.bin, values)));
      expect(a!.code, a!.stderr).to.equal(0);
      expect(b!.code, b!.stderr).to.equal(0);
      expect(a!.objects).to.deep.equal(b!.objects);
    }
  });
});
