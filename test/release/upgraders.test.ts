// The per-version upgraders of olares-cli's 1.12 line (cli/pkg/upgrade/1_12_x.go), picked by target
// version as getUpgraderByVersion does, and the path rule of upgrade.Check (a base below the last breaking
// release under the target is refused): pure, and through the CoreServices stage.
import { expect } from "chai";
import { stageHook, type ReleaseFacts } from "../../operator/src/contract/index.js";
import { render } from "../../operator/src/render/index.js";
import { UPGRADERS_1_12, minimumUpgradableVersion, upgradePathProblem, upgraderFor, upgraderPostSteps, upgraderPreSteps, workloadChangePatch, workloadSelected } from "../../operator/src/render/releases/index.js";
import { FACTS, spec } from "../render/fixtures.js";
import { randoms, unpackFixture, type Unpacked } from "./helpers.js";
import type { KubeObject, Readiness } from "../../operator/src/contract/index.js";
import { carriesPatch, runReleaseSteps } from "../../operator/src/controller/release-steps.js";
import type { ReleaseStep } from "../../operator/src/contract/index.js";
import type { HookContext } from "../../operator/src/controller/stage-hooks.js";
import { Helm } from "../../operator/src/helm/helm-cli.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import { startSimulator, type Simulator } from "../sim/server.js";


/** What runReleaseSteps gets on the simulator: a real client (standing in for the installer identity), logs captured. */
function releaseStepContext(sim: Simulator) {
  const client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "olares-operator" });
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: () => {} };
  const ctx = { client, observed: { get: () => undefined, list: () => [] }, log, paused: false, release: { installer: new Helm({ bin: "helm" }), records: { helmSecrets: async () => [] }, client } } as unknown as HookContext;
  return { client, logs, ctx };
}

describe("per-version upgraders of the 1.12 line, picked by from → to", function () {
  this.timeout(600_000);
  it("the target's upgrader, or none (the generic walk): 1.12.2 has none on the main line, 1.12.3 to 1.12.7 each have one", () => {
    expect(upgraderFor("1.12.2")).to.equal(undefined);
    expect(UPGRADERS_1_12.map((u) => u.version)).to.deep.equal(["1.12.3", "1.12.4", "1.12.5", "1.12.6", "1.12.7"]);
    // 1.12.7 has no cluster step the operator runs: the generic walk, but it is breaking (1.12.8 starts from it)
    expect([...upgraderPreSteps("1.12.7"), ...upgraderPostSteps("1.12.7")]).to.deep.equal([]);
    expect(minimumUpgradableVersion("1.12.8")).to.equal("1.12.7");
    for (const v of ["1.12.3", "1.12.4", "1.12.5", "1.12.6", "1.12.7"]) expect(upgraderFor(v)?.version).to.equal(v);
    expect(upgraderFor("v1.12.5")?.l4BflProxyTag).to.equal("v0.3.12");
  });

  it("upgrade.Check: the base must be at least the last breaking release below the target", () => {
    expect(minimumUpgradableVersion("1.12.2")).to.equal("1.12.0");
    expect(minimumUpgradableVersion("1.12.3")).to.equal("1.12.0");
    expect(minimumUpgradableVersion("1.12.4")).to.equal("1.12.3");
    expect(minimumUpgradableVersion("1.12.6")).to.equal("1.12.5");
    expect(upgradePathProblem("1.12.1", "1.12.2")).to.equal(undefined);
    expect(upgradePathProblem("1.12.1", "1.12.3")).to.equal(undefined);
    expect(upgradePathProblem("1.12.3", "1.12.4")).to.equal(undefined);
    expect(upgradePathProblem("1.12.1", "1.12.4")).to.equal("Olares 1.12.4 upgrades from 1.12.3 or later (olares-cli's upgrade check: 1.12.3 added breaking changes); upgrade 1.12.1 to 1.12.3 first");
    expect(upgradePathProblem("1.12.2", "1.12.2")).to.equal("1.12.2 is not newer than 1.12.2");
  });

  it("steps before the system charts: UpgradeL4BFLProxy's set image for 1.12.3/1.12.4 (v0.3.9) and 1.12.5 (v0.3.12), skipped when absent; nothing for 1.12.2", () => {
    expect(upgraderPreSteps("1.12.2")).to.deep.equal([]);
    const step = upgraderPreSteps("1.12.3").find((x) => x.kind === "setImage");
    expect(step).to.deep.include({ kind: "setImage", container: "proxy", image: "beclab/l4-bfl-proxy:v0.3.9", ifPresent: true });
    expect((step as { target: unknown }).target).to.deep.equal({ apiVersion: "apps/v1", kind: "Deployment", namespace: "os-network", name: "l4-bfl-proxy" });
    expect((upgraderPreSteps("1.12.5")[0] as { image: string }).image).to.equal("beclab/l4-bfl-proxy:v0.3.12");
    // Every upgrader says what the operator leaves out, and why.
    for (const u of UPGRADERS_1_12) expect(u.notHere.length, u.version).to.be.greaterThan(0);
  });

  it("1.12.3 and 1.12.4 delete the knowledge app's argoproj.io CRDs first (DeleteArgoProjV1alpha1CRDs, PrepareForUpgrade), then set the L4 proxy's image; 1.12.5 does not", () => {
    for (const v of ["1.12.3", "1.12.4"]) {
      const steps = upgraderPreSteps(v);
      expect(steps.map((x) => x.kind), v).to.deep.equal(["deleteCRDs", "setImage"]);
      expect(steps[0]).to.deep.include({ group: "argoproj.io", annotations: { "meta.helm.sh/release-name": "knowledge" } });
    }
    expect(upgraderPreSteps("1.12.5").map((x) => x.kind)).to.deep.equal(["setImage"]);
  });

  describe("DeleteArgoProjV1alpha1CRDs on the cluster simulator, as the installer identity", () => {
    let sim: Simulator;
    before(async () => {
      sim = await startSimulator({ nodes: 1 });
    });
    after(async () => sim?.stop());
    const crd = (group: string, plural: string, release?: string): KubeObject =>
      ({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${plural}.${group}`, ...(release ? { annotations: { "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": "user-space-alice" } } : {}) },
        spec: { group, scope: "Namespaced", names: { plural, singular: plural.replace(/s$/, ""), kind: plural[0]!.toUpperCase() + plural.slice(1, -1) }, versions: [{ name: "v1alpha1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }] },
      }) as KubeObject;

    it("deletes every argoproj.io CRD Helm release knowledge brought, keeps the others, and is a logged no-op the next time", async () => {
      const client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "olares-operator" });
      for (const c of [crd("argoproj.io", "workflows", "knowledge"), crd("argoproj.io", "cronworkflows", "knowledge"), crd("argoproj.io", "applications", "argocd"), crd("argoproj.io", "appprojects"), crd("example.com", "widgets", "knowledge")]) await client.create(c);
      const logs: string[] = [];
      const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: () => {} };
      const ctx = { client, observed: { get: () => undefined, list: () => [] }, log, paused: false, release: { installer: new Helm({ bin: "helm" }), records: { helmSecrets: async () => [] }, client } } as unknown as HookContext;
      const steps = upgraderPreSteps("1.12.3").filter((x) => x.kind === "deleteCRDs");
      const ready: Readiness = { ready: true, reason: "Ready", message: "" };
      expect(await runReleaseSteps(ctx, steps, ready)).to.deep.equal(ready);
      const live = async () => (await client.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")).filter((c) => !c.metadata.deletionTimestamp).map((c) => c.metadata.name).sort();
      expect(await live()).to.deep.equal(["applications.argoproj.io", "appprojects.argoproj.io", "widgets.example.com"]);
      expect(logs.filter((m) => m.endsWith("CustomResourceDefinition deleted"))).to.have.length(2);

      logs.length = 0;
      expect(await runReleaseSteps(ctx, steps, ready)).to.deep.equal(ready);
      expect(logs).to.deep.equal([`${steps[0]!.kind === "deleteCRDs" ? steps[0]!.name : ""}: no argoproj.io CustomResourceDefinition with meta.helm.sh/release-name=knowledge, nothing to delete`]);
      expect(await live()).to.have.length(3);
    });
  });

  it("1.12.6: UpdateL4DeploymentSpec before the system charts, PatchL4BFLProxyProbePort after them; no other target patches the proxy", () => {
    expect(upgraderPreSteps("1.12.6").filter((x) => x.kind === "strategicPatch").map((x) => x.name.split(" ")[0])).to.deep.equal(["UpdateL4DeploymentSpec"]);
    expect(upgraderPostSteps("1.12.6").filter((x) => x.kind === "strategicPatch").map((x) => x.name.split(" ")[0])).to.deep.equal(["PatchL4BFLProxyProbePort"]);
    for (const v of ["1.12.2", "1.12.3", "1.12.4", "1.12.5"]) expect(upgraderPostSteps(v), v).to.deep.equal([]);
    // what "already carries the patch" means: named lists by name, null = absent, other lists whole
    const live = { spec: { template: { spec: { containers: [{ name: "other" }, { name: "proxy", command: ["/a", "b"], livenessProbe: { httpGet: { port: 18081, path: "/healthz" } } }] } } } };
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "proxy", livenessProbe: { tcpSocket: null, httpGet: { port: 18081 } } }] } } } })).to.equal(true);
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "proxy", livenessProbe: { httpGet: { port: 8081 } } }] } } } })).to.equal(false);
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "proxy", command: ["/a"] }] } } } })).to.equal(false);
    expect(carriesPatch(live, { spec: { template: { spec: { containers: [{ name: "missing" }] } } } })).to.equal(false);
    expect(carriesPatch({ a: { tcpSocket: { port: 1 } } }, { a: { tcpSocket: null } })).to.equal(false);
  });

  it("1.12.6 walks workloads as olares-cli: PatchNodeAffinityToRequired right after UpdateL4DeploymentSpec, PatchWorkloadPriorityClassName after PatchL4BFLProxyProbePort; no other target does", () => {
    const names = (steps: ReleaseStep[]) => steps.map((x) => `${x.kind}:${"name" in x ? x.name.split(" ")[0] : ""}`);
    expect(names(upgraderPreSteps("1.12.6"))).to.deep.equal(["strategicPatch:UpdateL4DeploymentSpec", "patchWorkloads:PatchNodeAffinityToRequired"]);
    expect(names(upgraderPostSteps("1.12.6"))).to.deep.equal(["strategicPatch:PatchL4BFLProxyProbePort", "patchWorkloads:PatchWorkloadPriorityClassName"]);
    for (const v of ["1.12.2", "1.12.3", "1.12.4", "1.12.5", "1.12.7"]) expect([...upgraderPreSteps(v), ...upgraderPostSteps(v)].filter((x) => x.kind === "patchWorkloads"), v).to.deep.equal([]);
    const affinity = upgraderPreSteps("1.12.6").find((x) => x.kind === "patchWorkloads")!;
    expect(affinity).to.deep.include({ select: [{ kinds: ["StatefulSet"], labels: { "managed-by": "citus-operator" } }, { kinds: ["StatefulSet"], labels: { "managed-by": "kvrocks-operator" } }, { kinds: ["Deployment"], namespaces: ["os-network"], name: "l4-bfl-proxy" }] });
    const priority = upgraderPostSteps("1.12.6").find((x) => x.kind === "patchWorkloads")!;
    expect(priority).to.deep.include({ change: { kind: "priorityClassName", value: "system-cluster-critical" } });
    expect((priority as { select: Array<{ namespaces: string[]; userNamespaces: string[] }> }).select[0]).to.deep.include({
      kinds: ["Deployment", "DaemonSet", "StatefulSet"],
      namespaces: ["kube-system", "kubesphere-monitoring-system", "kubesphere-system", "os-framework", "os-gateway", "os-mesh", "os-gpu", "os-network", "os-protected"],
      userNamespaces: ["user-space-", "user-system-"],
      skipHelmManaged: true,
    });
  });

  it("the pure selector and changes: preferred terms become required (weights dropped, master → control-plane), only with no required term; a class only where none is set; Helm's label or annotations skip", () => {
    const change = { kind: "nodeAffinityRequired", renameKeys: { "node-role.kubernetes.io/master": "node-role.kubernetes.io/control-plane" } } as const;
    const sts = (affinity: unknown, extra: Record<string, unknown> = {}) => ({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "x", namespace: "n", ...extra }, spec: { template: { spec: { affinity } } } }) as unknown as KubeObject;
    const preferred = [
      { weight: 10, preference: { matchExpressions: [{ key: "node-role.kubernetes.io/master", operator: "Exists" }, { key: "disk", operator: "In", values: ["ssd"] }] } },
      { weight: 1, preference: { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] } },
    ];
    expect(workloadChangePatch(change, sts({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred } }))).to.deep.equal({
      spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }, { key: "disk", operator: "In", values: ["ssd"] }] }, { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }] }, preferredDuringSchedulingIgnoredDuringExecution: null } } } } },
    });
    expect(workloadChangePatch(change, sts({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } })), "a required term already").to.equal(undefined);
    expect(workloadChangePatch(change, sts({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } }))).to.equal(undefined);
    expect(workloadChangePatch(change, sts(undefined))).to.equal(undefined);
    const pc = { kind: "priorityClassName", value: "system-cluster-critical" } as const;
    expect(workloadChangePatch(pc, sts(undefined))).to.deep.equal({ spec: { template: { spec: { priorityClassName: "system-cluster-critical" } } } });
    const withClass = { ...sts(undefined), spec: { template: { spec: { priorityClassName: "system-node-critical" } } } } as unknown as KubeObject;
    expect(workloadChangePatch(pc, withClass)).to.equal(undefined);
    const q = { kinds: ["StatefulSet" as const], skipHelmManaged: true };
    expect(workloadSelected(q, sts(undefined))).to.equal("yes");
    expect(workloadSelected(q, sts(undefined, { labels: { "app.kubernetes.io/managed-by": "Helm" } }))).to.equal("helm");
    expect(workloadSelected(q, sts(undefined, { annotations: { "meta.helm.sh/release-namespace": "os-framework" } }))).to.equal("helm");
    expect(workloadSelected({ ...q, skipHelmManaged: false }, sts(undefined, { annotations: { "meta.helm.sh/release-name": "x" } }))).to.equal("yes");
    expect(workloadSelected({ kinds: ["StatefulSet"], name: "y" }, sts(undefined))).to.equal("no");
    expect(workloadSelected({ kinds: ["StatefulSet"], labels: { "managed-by": "citus-operator" } }, sts(undefined, { labels: { "managed-by": "kvrocks-operator" } }))).to.equal("no");
  });

  describe("1.12.6's workload walks on the cluster simulator, as the installer identity", () => {
    let sim: Simulator;
    before(async () => {
      sim = await startSimulator({ nodes: 1 });
    });
    after(async () => sim?.stop());

    it("changes only the workloads olares-cli's walks select, writes nothing the second time, and skips absent namespaces with a log line", async () => {
      const { client, logs, ctx } = releaseStepContext(sim);
      const ready: Readiness = { ready: true, reason: "Ready", message: "" };
      const walks = [...upgraderPreSteps("1.12.6"), ...upgraderPostSteps("1.12.6")].filter((x) => x.kind === "patchWorkloads");
      expect(walks).to.have.length(2);

      // Nothing there yet (no User kind, no namespace): logged no-ops.
      expect(await runReleaseSteps(ctx, walks, ready)).to.deep.equal(ready);
      expect(logs.filter((m) => m.includes("namespace os-framework not found, skipped"))).to.have.length(1);
      expect(logs.filter((m) => m.endsWith("no workload to change"))).to.have.length(2);

      await client.create({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "users.iam.kubesphere.io" },
        spec: { group: "iam.kubesphere.io", scope: "Cluster", names: { plural: "users", singular: "user", kind: "User" }, versions: [{ name: "v1alpha2", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }] },
      } as unknown as KubeObject);
      (client as { invalidateDiscovery?: () => void }).invalidateDiscovery?.();
      for (const u of ["alice", "bob"]) await client.create({ apiVersion: "iam.kubesphere.io/v1alpha2", kind: "User", metadata: { name: u } } as KubeObject);
      // bob's user-system namespace is missing: skipped; "db" is no system namespace (the priority walk leaves it).
      for (const ns of ["os-framework", "os-network", "user-space-alice", "user-system-alice", "user-space-bob", "db"]) await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as KubeObject);
      const preferred = [{ weight: 100, preference: { matchExpressions: [{ key: "node-role.kubernetes.io/master", operator: "Exists" }] } }];
      const workload = (kind: string, ns: string, name: string, o: { labels?: Record<string, string>; annotations?: Record<string, string>; affinity?: unknown; priorityClassName?: string } = {}) =>
        ({
          apiVersion: "apps/v1",
          kind,
          metadata: { name, namespace: ns, ...(o.labels ? { labels: o.labels } : {}), ...(o.annotations ? { annotations: o.annotations } : {}) },
          spec: {
            selector: { matchLabels: { app: name } },
            ...(kind === "StatefulSet" ? { serviceName: name } : {}),
            template: { metadata: { labels: { app: name } }, spec: { ...(o.affinity ? { affinity: o.affinity } : {}), ...(o.priorityClassName ? { priorityClassName: o.priorityClassName } : {}), containers: [{ name: "c", image: "busybox" }] } },
          },
        }) as unknown as KubeObject;
      const objects = [
        workload("StatefulSet", "db", "citus", { labels: { "managed-by": "citus-operator" }, affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred } } }),
        workload("StatefulSet", "os-framework", "kvrocks", { labels: { "managed-by": "kvrocks-operator" }, affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred } } }),
        workload("StatefulSet", "db", "other-db", { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred } } }),
        workload("Deployment", "os-network", "l4-bfl-proxy", { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: preferred } } }),
        workload("Deployment", "os-framework", "app-service", { labels: { "app.kubernetes.io/managed-by": "Helm" }, annotations: { "meta.helm.sh/release-name": "os-framework" } }),
        workload("DaemonSet", "os-framework", "critical", { priorityClassName: "system-node-critical" }),
        workload("Deployment", "user-space-alice", "files"),
        workload("StatefulSet", "user-system-alice", "citus-alice", { annotations: { "meta.helm.sh/release-namespace": "user-system-alice" } }),
        workload("DaemonSet", "user-space-bob", "agent"),
        workload("Deployment", "db", "plain"),
      ];
      for (const o of objects) await client.create(o);
      const read = async (kind: string, ns: string, name: string) => (await client.get({ apiVersion: "apps/v1", kind, namespace: ns, name })) as unknown as { metadata: { generation: number; resourceVersion: string }; spec: { template: { spec: { affinity?: { nodeAffinity: Record<string, unknown> }; priorityClassName?: string } } } };
      const before = new Map<string, string>();
      for (const o of objects) before.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, (await read(o.kind, o.metadata.namespace!, o.metadata.name)).metadata.resourceVersion);

      logs.length = 0;
      expect(await runReleaseSteps(ctx, walks, ready)).to.deep.equal(ready);
      const required = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }] }] } };
      for (const [kind, ns, name] of [["StatefulSet", "db", "citus"], ["StatefulSet", "os-framework", "kvrocks"], ["Deployment", "os-network", "l4-bfl-proxy"]] as const) {
        expect((await read(kind, ns, name)).spec.template.spec.affinity?.nodeAffinity, `${ns}/${name}`).to.deep.equal(required);
      }
      expect((await read("StatefulSet", "db", "other-db")).spec.template.spec.affinity?.nodeAffinity, "not a citus/kvrocks operator's").to.deep.equal({ preferredDuringSchedulingIgnoredDuringExecution: preferred });
      const classes: Record<string, string | undefined> = {};
      for (const o of objects) classes[`${o.metadata.namespace}/${o.metadata.name}`] = (await read(o.kind, o.metadata.namespace!, o.metadata.name)).spec.template.spec.priorityClassName;
      expect(classes).to.deep.equal({
        "db/citus": undefined, // not in a system or user namespace
        "os-framework/kvrocks": "system-cluster-critical",
        "db/other-db": undefined,
        "os-network/l4-bfl-proxy": "system-cluster-critical",
        "os-framework/app-service": undefined, // Helm's
        "os-framework/critical": "system-node-critical", // a class already set is kept
        "user-space-alice/files": "system-cluster-critical",
        "user-system-alice/citus-alice": undefined, // Helm's annotation
        "user-space-bob/agent": "system-cluster-critical",
        "db/plain": undefined,
      });
      expect(logs.filter((m) => m.endsWith(": patched")), "citus, kvrocks, the proxy; then kvrocks, the proxy, files, agent").to.have.length(7);
      expect(logs).to.include.members([`${walks[1]!.kind === "patchWorkloads" ? walks[1]!.name : ""}: namespace user-system-bob not found, skipped`]);
      expect(logs.filter((m) => m.endsWith("is Helm-managed, skipped"))).to.have.length(2);

      // The second walk: nothing left to change, no write.
      const after = new Map<string, string>();
      for (const o of objects) after.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, (await read(o.kind, o.metadata.namespace!, o.metadata.name)).metadata.resourceVersion);
      logs.length = 0;
      expect(await runReleaseSteps(ctx, walks, ready)).to.deep.equal(ready);
      expect(logs.filter((m) => m.endsWith(": patched"))).to.deep.equal([]);
      expect(logs.filter((m) => m.endsWith("no workload to change"))).to.have.length(2);
      for (const o of objects) {
        const key = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
        expect((await read(o.kind, o.metadata.namespace!, o.metadata.name)).metadata.resourceVersion, key).to.equal(after.get(key));
      }
      // and the untouched ones were never written
      for (const key of ["StatefulSet/db/other-db", "Deployment/os-framework/app-service", "DaemonSet/os-framework/critical", "Deployment/db/plain"]) expect(after.get(key), key).to.equal(before.get(key));
    });
  });

  describe("1.12.6's l4-bfl-proxy patches on the cluster simulator", () => {
    let sim: Simulator;
    before(async () => {
      sim = await startSimulator({ nodes: 1 });
    });
    after(async () => sim?.stop());

    it("patches the live Deployment as olares-cli (probes on 8081 with the new flags, then 18081), writes nothing once it carries them, skips a missing proxy with a log line", async () => {
      const { client, logs, ctx } = releaseStepContext(sim);
      const ready: Readiness = { ready: true, reason: "Ready", message: "" };
      const pre = upgraderPreSteps("1.12.6");
      const post = upgraderPostSteps("1.12.6");
      expect(await runReleaseSteps(ctx, [...pre, ...post], ready)).to.deep.equal(ready);
      expect(logs.filter((m) => m.endsWith("not present, skipped"))).to.have.length(2);

      await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "os-network" } } as KubeObject);
      const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: "os-network", name: "l4-bfl-proxy" };
      await client.create({
        ...ref,
        metadata: { name: ref.name, namespace: ref.namespace },
        spec: { selector: { matchLabels: { app: "l4-bfl-proxy" } }, template: { metadata: { labels: { app: "l4-bfl-proxy" } }, spec: { containers: [{ name: "proxy", image: "beclab/l4-bfl-proxy:v0.3.12", command: ["/l4-bfl-proxy", "-v", "2"], livenessProbe: { tcpSocket: { port: 443 }, periodSeconds: 10 }, readinessProbe: { tcpSocket: { port: 443 } } }] } } },
      } as unknown as KubeObject);
      const proxy = async () => ((await client.get(ref)) as unknown as { metadata: { generation: number }; spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ command: string[]; livenessProbe: Record<string, any>; readinessProbe: Record<string, any> }> } } } });

      expect(await runReleaseSteps(ctx, pre, ready)).to.deep.equal(ready);
      let d = await proxy();
      expect(d.spec.template.metadata.labels).to.deep.equal({ app: "l4-bfl-proxy", tier: "bfl" });
      const c = d.spec.template.spec.containers[0]!;
      expect(c.command).to.deep.equal(["/l4-bfl-proxy", "-v", "4", "-xds-tcp-idle-timeout", "1h", "-xds-http-stream-idle-timeout", "1h", "-xds-connect-timeout", "5s"]);
      expect(c.livenessProbe.tcpSocket, "the TCP probe is replaced by the HTTP one").to.equal(undefined);
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: 8081, scheme: "HTTP" });
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/readyz", port: 8081, scheme: "HTTP" });

      expect(await runReleaseSteps(ctx, post, ready)).to.deep.equal(ready);
      d = await proxy();
      expect(d.spec.template.spec.containers[0]!.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: 18081, scheme: "HTTP" });
      expect(d.spec.template.spec.containers[0]!.readinessProbe.httpGet.port).to.equal(18081);
      const generation = d.metadata.generation;
      logs.length = 0;
      expect(await runReleaseSteps(ctx, [...post], ready)).to.deep.equal(ready);
      expect((await proxy()).metadata.generation, "carries the patch: no write").to.equal(generation);
      expect(logs.filter((m) => m.endsWith(": patched"))).to.deep.equal([]);
    });
  });

  describe("in the CoreServices stage", () => {
    let rel: Unpacked;
    before(async () => {
      rel = await unpackFixture();
    });
    after(() => rel?.cleanup());
    const facts = (installedVersion: string): ReleaseFacts => ({
      cdn: "https://cdn.olares.com",
      source: { installerDir: rel.installerDir, charts: rel.charts },
      manifest: rel.manifest,
      passwordLocation: "Secret olares-system/olares-owner-password, key password",
      ownerPassword: "pw-123456",
      randoms: randoms(),
      nodeAddress: "10.0.0.10",
      installedVersion,
    });
    const stage = (version: string, installed: string) => render(spec({ version }), { ...FACTS, release: facts(installed) }).stages.find((x) => x.name === "CoreServices")!;

    it("every other user's launcher and apps follow the owner's, as upgradeUserComponents: launcher-<u> re-fed its own bfl's names, <app>-<u> with --reuse-values and no values, the wizard only while that user has not completed it", () => {
      const bfl = { annotations: { userspace_pv: "pv-alice", userspace_rand16: "a".repeat(16) }, nodeName: "n1", nodeAddress: "10.0.0.10" };
      const withUsers = render(spec({ version: "1.12.2" }), {
        ...FACTS,
        release: {
          ...facts("1.12.1"),
          bfl,
          otherUsers: [
            { name: "carol", bflAnnotations: { userspace_rand16: "c".repeat(16), userspace_pv: "pv-carol" }, wizardCompleted: false },
            { name: "bob", bflAnnotations: { userspace_rand16: "b".repeat(16), userspace_pv: "pv-bob" }, wizardCompleted: true },
          ],
        },
      }).stages.find((x) => x.name === "CoreServices")!;
      const charts = (stageHook(withUsers, "OlaresRelease")?.steps ?? []).flatMap((x) => (x.kind === "chart" ? [x.release] : []));
      const names = charts.map((r) => `${r.namespace}/${r.name}`);
      const apps = rel.charts ? Object.keys(rel.charts).filter((d) => d.startsWith("wizard/config/apps/")).map((d) => d.split("/").pop()!).sort() : [];
      expect(apps).to.include.members(["desktop", "wizard"]);
      const at = (n: string) => names.indexOf(n);
      expect(at("user-space-bob/launcher-bob")).to.be.greaterThan(at("user-space-alice/launcher-alice"));
      expect(at("user-space-carol/launcher-carol")).to.be.greaterThan(at("user-space-bob/launcher-bob"));
      expect(names.at(-1)).to.equal("default/settings");
      for (const app of apps) {
        expect(names.includes(`user-space-carol/${app}-carol`), `carol ${app}`).to.equal(true);
        expect(names.includes(`user-space-bob/${app}-bob`), `bob ${app}`).to.equal(app !== "wizard");
      }
      const bobLauncher = charts.find((r) => r.name === "launcher-bob")!;
      expect(bobLauncher.reuseValues).to.equal(true);
      expect((bobLauncher.values.bfl as Record<string, string>).userspace_rand16).to.equal("b".repeat(16));
      expect((bobLauncher.values.bfl as Record<string, string>).userspace_pv).to.equal("pv-bob");
      expect(charts.find((r) => r.name === "desktop-carol")).to.deep.include({ values: {}, reuseValues: true });
    });

    it("an unsupported path is Degraded naming the version to go through, and applies nothing", () => {
      const st = stage("1.12.4", "1.12.1");
      expect(st.hooks ?? []).to.deep.equal([]);
      const r = st.ready({ get: () => undefined, list: () => [] });
      expect(r).to.include({ ready: false, degraded: true, reason: "UpgradePathUnsupported" });
      expect(r.message).to.equal("upgrading Olares 1.12.1 to 1.12.4: Olares 1.12.4 upgrades from 1.12.3 or later (olares-cli's upgrade check: 1.12.3 added breaking changes); upgrade 1.12.1 to 1.12.3 first; nothing is applied");
    });

    it("the target's upgrader runs first in the upgrade walk (1.12.3: set image of l4-bfl-proxy, then hami/settings…); 1.12.2 has no extra step", () => {
      const kinds = (version: string, installed: string) => (stageHook(stage(version, installed), "OlaresRelease")?.steps ?? []).map((s) => (s.kind === "chart" ? s.release.name : s.kind));
      expect(kinds("1.12.3", "1.12.2").slice(0, 3)).to.deep.equal(["deleteCRDs", "setImage", "settings"]);
      expect(kinds("1.12.2", "1.12.1")[0]).to.equal("settings");
      // 1.12.6 (from 1.12.5): UpdateL4DeploymentSpec first; PatchL4BFLProxyProbePort right after os-framework (and the user-env when the release has one)
      const k6 = kinds("1.12.6", "1.12.5");
      expect(k6.slice(0, 2)).to.deep.equal(["strategicPatch", "patchWorkloads"]);
      const fw = k6.indexOf("os-framework");
      expect(k6.slice(fw, fw + 3)).to.deep.equal(["os-framework", "strategicPatch", "patchWorkloads"]);
    });
  });
});
