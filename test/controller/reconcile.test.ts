import { expect } from "chai";
import { harness, installation, node, baseSpec, TEST_IMAGE } from "./harness.js";
import { templateReleaseRuntime } from "../support/template-helm.js";
import { releaseRandomKeys } from "../../operator/src/render/releases/index.js";
import { Reconciler } from "../../operator/src/controller/reconciler.js";
import type { Condition, InstallationStatus } from "../../operator/src/controller/status.js";
import { API_VERSION, FINALIZER, KIND } from "../../operator/src/contract/index.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import type { OlaresInstallationSpec } from "../../operator/src/api/index.js";
import { secretPreconditions } from "../../operator/src/controller/preconditions.js";
import { stageSecretReferences } from "../../operator/src/api/index.js";
import { FakeCluster } from "../support/fake-cluster.js";

const crRef = (name = "olares") => ({ apiVersion: API_VERSION, kind: KIND, name });
const statusOf = (cr: KubeObject) => cr.status as InstallationStatus;
const cond = (cr: KubeObject, type: string): Condition | undefined => statusOf(cr).conditions?.find((c) => c.type === type);

describe("Reconciler", () => {
  it("first reconcile applies Prerequisites, adds the finalizer and the generated Secrets, then stops at the not-ready NodeAgent", async () => {
    const h = harness();
    const result = await h.reconcile();
    expect(result.requeueAfterMs).to.be.greaterThan(0);
    const applied = h.cluster.writes().filter((w) => w.verb === "apply").map((w) => `${w.ref.kind}/${w.ref.name}`);
    expect(applied).to.deep.equal([
      "Namespace/olares-system",
      "ServiceAccount/olares-node-agent",
      "ClusterRole/olares-node-agent",
      "ClusterRoleBinding/olares-node-agent",
      "Role/olares-node-agent",
      "RoleBinding/olares-node-agent",
      "DaemonSet/olares-node-agent",
    ]);
    expect(h.cr().metadata.finalizers).to.deep.equal([FINALIZER]);
    expect(h.cluster.peek({ apiVersion: "v1", kind: "Secret", name: "olares-owner-password", namespace: "olares-system" })).to.not.equal(undefined);
    const s = statusOf(h.cr());
    expect(s.phase).to.equal("Installing");
    expect(s.message).to.match(/^NodeAgent: /);
    expect(cond(h.cr(), "PrerequisitesReady")?.status).to.equal("True");
    expect(cond(h.cr(), "NodeAgentReady")).to.include({ status: "False", reason: "DaemonSetRolling" });
    expect(cond(h.cr(), "StorageReady")).to.include({ status: "False", reason: "WaitingForPreviousStage" });
    expect(cond(h.cr(), "Ready")).to.include({ status: "False", reason: "NodeAgentNotReady" });
    expect(cond(h.cr(), "Progressing")).to.include({ status: "True" });
  });

  it("gates stages in order: a stage is applied only after the previous one is ready", async () => {
    const h = harness();
    const stagesApplied: string[][] = [];
    const releasesApplied: string[][] = [];
    for (let round = 0; round < 10; round++) {
      h.cluster.resetRequests();
      await h.reconcile();
      const stages = new Set<string>();
      const releases = new Set<string>();
      for (const w of h.cluster.writes().filter((x) => x.verb === "apply")) {
        const labels = (w.body as KubeObject).metadata.labels ?? {};
        if (labels["olares.com/stage"]) stages.add(labels["olares.com/stage"]);
        if (labels.owner === "helm") releases.add(labels.name!);
      }
      stagesApplied.push([...stages]);
      releasesApplied.push([...releases]);
      h.rollOutWorkloads();
      h.activateOwner();
    }
    // GPU renders no object of ours (the release's hami is the device plugin) and olaresd is host work.
    expect(stagesApplied.slice(0, 4)).to.deep.equal([["Prerequisites", "NodeAgent"], ["NodeConfig"], ["ClusterDNS"], ["Storage"]]);
    // CoreServices is the Olares release: its charts go in after the host stages, in the installer's order,
    // each waiting for the workloads the next one needs (app-service before the launcher, bfl before the apps).
    expect(releasesApplied.slice(0, 4).flat()).to.deep.equal([]);
    expect(releasesApplied.flat()).to.deep.equal(["account", "settings", "os-platform", "os-framework", "launcher-alice", "desktop", "files", "settings", "wizard"]);
    const round = (name: string) => releasesApplied.findIndex((r) => r.includes(name));
    expect(round("launcher-alice")).to.be.greaterThan(round("os-framework"));
    expect(round("desktop")).to.be.greaterThan(round("launcher-alice"));
    expect(statusOf(h.cr()).phase).to.equal("Ready");
  });

  it("converges to Ready with every condition carrying observedGeneration, and the version recorded", async () => {
    const h = harness();
    await h.converge();
    const cr = h.cr();
    const s = statusOf(cr);
    expect(s.phase).to.equal("Ready");
    expect(s.version).to.equal("1.12.1");
    expect(s.observedGeneration).to.equal(cr.metadata.generation);
    const types = s.conditions!.map((c) => c.type);
    expect(types).to.deep.equal([
      "Ready",
      "Progressing",
      "Degraded",
      "SpecValid",
      "PrerequisitesReady",
      "NodeAgentReady",
      "NodeConfigReady",
      "ClusterDNSReady",
      "StorageReady",
      "GPUReady",
      "CoreServicesReady",
    ]);
    for (const c of s.conditions!) {
      expect(c.observedGeneration, c.type).to.equal(cr.metadata.generation);
      expect(c.lastTransitionTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    expect(cond(cr, "Ready")).to.include({ status: "True", reason: "AllStagesReady" });
    expect(cond(cr, "Degraded")?.status).to.equal("False");
    expect(s.components!.map((c) => c.name)).to.include.members(["olares-node-agent", "account", "launcher-alice", "citus", "app-service", "bfl", "system-server"]);
    expect(s.storage).to.deep.equal({ activeType: "LocalFS", rootPath: "/olares" });
  });

  it("makes zero writes over 10 resyncs at steady state", async () => {
    const h = harness();
    await h.converge();
    h.cluster.resetRequests();
    for (let i = 0; i < 10; i++) {
      h.clock.t += 60_000;
      const r = await h.reconcile();
      expect(r.requeueAfterMs).to.equal(undefined);
    }
    expect(h.cluster.writes()).to.deep.equal([]);
  });

  it("lists Nodes from the cache once per reconcile (facts, rollout and pruning share the list)", async () => {
    const h = harness({ nodes: [node("node-1"), node("node-2")] });
    const observed = h.cluster.observed();
    let nodeLists = 0;
    const counting = {
      get: observed.get.bind(observed),
      list(apiVersion: string, kind: string, namespace?: string) {
        if (apiVersion === "v1" && kind === "Node") nodeLists++;
        return observed.list(apiVersion, kind, namespace);
      },
    };
    const reconciler = new Reconciler({ client: h.cluster, observed: counting, operatorImage: TEST_IMAGE, now: () => new Date(h.clock.t), release: templateReleaseRuntime(h.cluster) });
    for (let round = 0; round < 10; round++) {
      nodeLists = 0;
      await reconciler.reconcile("olares");
      expect(nodeLists, `round ${round}`).to.equal(1);
      h.rollOutWorkloads();
      h.activateOwner();
    }
    expect((h.cr().status as { phase?: string }).phase).to.equal("Ready");
    expect(h.cluster.peek({ apiVersion: "v1", kind: "Node", name: "node-2" })?.metadata.annotations?.["olares.com/state"]).to.equal("Done");
  });

  it("a restarted operator computes the identical status and writes nothing", async () => {
    const h = harness();
    await h.converge();
    const before = structuredClone(h.cr().status);
    h.cluster.resetRequests();
    h.clock.t += 3_600_000;
    const restarted = new Reconciler({ client: h.cluster, observed: h.cluster.observed(), operatorImage: TEST_IMAGE, now: () => new Date(h.clock.t), release: templateReleaseRuntime(h.cluster) });
    await restarted.reconcile("olares");
    expect(h.cluster.writes()).to.deep.equal([]);
    expect(h.cr().status).to.deep.equal(before);
  });

  it("keeps lastTransitionTime while a condition's status is unchanged and bumps observedGeneration on spec change", async () => {
    const h = harness();
    await h.converge();
    const readyAt = cond(h.cr(), "Ready")!.lastTransitionTime;
    const cr = h.cr();
    // a spec change that renders the same objects and values (an empty values override)
    h.cluster.seed({ ...cr, spec: { ...baseSpec(), coreServices: { "os-framework": { values: {} } } } });
    expect(h.cr().metadata.generation).to.equal(2);
    h.clock.t += 10_000;
    await h.reconcile();
    const after = h.cr();
    expect(statusOf(after).observedGeneration).to.equal(2);
    expect(cond(after, "Ready")).to.include({ status: "True", observedGeneration: 2, lastTransitionTime: readyAt });
  });

  it("reports Upgrading while a new version rolls out, then records it", async () => {
    const h = harness();
    await h.converge();
    h.cluster.seed({ ...h.cr(), spec: { ...baseSpec(), version: "1.12.2" } });
    await h.reconcile();
    expect(statusOf(h.cr()).phase).to.equal("Upgrading");
    expect(statusOf(h.cr()).version).to.equal("1.12.1");
    expect(cond(h.cr(), "NodeConfigReady")).to.include({ status: "False", reason: "RollingOut" });
    await h.converge();
    expect(statusOf(h.cr()).version).to.equal("1.12.2");
    // The 1.12.2 release's own chart is what runs now (the fixture's images carry the release version).
    const app = h.cluster.peek({ apiVersion: "apps/v1", kind: "StatefulSet", name: "app-service", namespace: "os-framework" }) as any;
    expect(app.spec.template.spec.containers[0].image).to.equal("docker.io/olares-fixture/app-service:v1.12.2");
  });

  it("GPU disabled: the release's hami is uninstalled and the releases whose values carry gpu are upgraded", async () => {
    const h = harness({ nodes: [node("node-1", { "olares.com/gpu.nvidia": "true", "gpu.bytetrade.io/cuda-supported": "true" })] });
    await h.converge();
    const hamiRecords = () => h.cluster.list("v1", "Secret", { namespace: "kube-system", labelSelector: "owner=helm,name=hami" });
    expect(await hamiRecords()).to.not.deep.equal([]);
    h.cluster.seed({ ...h.cr(), spec: { ...baseSpec(), gpu: { enabled: "false" } } });
    h.cluster.resetRequests();
    await h.reconcile();
    expect(cond(h.cr(), "GPUReady")).to.include({ status: "True", reason: "Disabled", observedGeneration: 2 });
    // The GPU node's config changes first; then the walk upgrades and, last, uninstalls hami.
    await h.converge();
    const upgraded = h.cluster.writes().filter((w) => w.verb === "apply" && (w.body as KubeObject).metadata.labels?.owner === "helm" && (w.body as KubeObject).metadata.labels?.status === "deployed").map((w) => w.ref.name);
    expect(upgraded).to.include.members(["sh.helm.release.v1.os-platform.v2", "sh.helm.release.v1.os-framework.v2"]);
    expect(await hamiRecords()).to.deep.equal([]);
    expect(statusOf(h.cr()).phase).to.equal("Ready");
  });

  it("never prunes objects it does not own", async () => {
    const h = harness();
    h.cluster.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "user-data", namespace: "olares-system", labels: { app: "x" } } });
    await h.converge();
    expect(h.cluster.peek({ apiVersion: "v1", kind: "ConfigMap", name: "user-data", namespace: "olares-system" })).to.not.equal(undefined);
  });

  it("never prunes an object that only copies our labels (no ownerReference to this installation)", async () => {
    const h = harness();
    await h.converge();
    const labels = (h.cluster.peek({ apiVersion: "apps/v1", kind: "DaemonSet", name: "olares-node-agent", namespace: "olares-system" }) as any).metadata.labels;
    const lookalike = { apiVersion: "v1", kind: "ConfigMap", name: "copied-manifest", namespace: "olares-system" };
    h.cluster.seed({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: lookalike.name, namespace: lookalike.namespace, labels: { ...labels } }, data: { a: "1" } });
    h.cluster.resetRequests();
    await h.reconcile();
    expect(h.cluster.peek(lookalike), "labelled like ours but not owned: kept").to.not.equal(undefined);
    expect(h.cluster.writes().filter((w) => w.verb === "delete")).to.deep.equal([]);
  });

  it("re-applies an object someone changed behind its back", async () => {
    const h = harness();
    await h.converge();
    const ref = { apiVersion: "apps/v1", kind: "DaemonSet", name: "olares-node-agent", namespace: "olares-system" };
    const agent = h.cluster.peek(ref) as any;
    agent.spec.template.spec.containers[0].image = "example.com/not-ours:1";
    h.cluster.seed(agent);
    h.cluster.resetRequests();
    await h.reconcile();
    expect(h.cluster.writes().map((w) => `${w.verb} ${w.ref.name}`)).to.include("apply olares-node-agent");
    expect((h.cluster.peek(ref) as any).spec.template.spec.containers[0].image).to.equal(TEST_IMAGE);
  });

  it("honours only the oldest OlaresInstallation; a second one is Ignored with a reason", async () => {
    const h = harness({
      crs: [installation("olares", baseSpec(), "2026-01-01T00:00:00Z"), installation("second", baseSpec(), "2026-01-02T00:00:00Z")],
    });
    await h.reconcile("second");
    const second = h.cr("second");
    expect(statusOf(second).phase).to.equal("Ignored");
    expect(statusOf(second).message).to.include('"olares"');
    expect(cond(second, "Ready")).to.include({ status: "False", reason: "Ignored", observedGeneration: 1 });
    expect(second.metadata.finalizers ?? []).to.deep.equal([]);
    expect(h.cluster.writes().filter((w) => w.verb === "apply")).to.deep.equal([]);
    h.cluster.resetRequests();
    await h.reconcile("second");
    expect(h.cluster.writes()).to.deep.equal([]);
    await h.converge("olares");
    expect(statusOf(h.cr("olares")).phase).to.equal("Ready");
  });

  it("breaks a creationTimestamp tie by name", async () => {
    const h = harness({ crs: [installation("zeta", baseSpec(), "2026-01-01T00:00:00Z"), installation("alpha", baseSpec(), "2026-01-01T00:00:00Z")] });
    await h.reconcile("zeta");
    expect(statusOf(h.cr("zeta")).phase).to.equal("Ignored");
  });

  it("paused: changes nothing, still writes status that says Paused", async () => {
    const h = harness({ crs: [installation("olares", { ...baseSpec(), paused: true })] });
    await h.reconcile();
    expect(h.cluster.writes().map((w) => w.verb)).to.deep.equal(["applyStatus", "createEvent"]);
    expect(cond(h.cr(), "Progressing")).to.include({ status: "False", reason: "Paused" });
    expect(statusOf(h.cr()).phase).to.equal("Pending");
    expect(h.cr().metadata.finalizers ?? []).to.deep.equal([]);
  });

  it("paused after install: a spec change is not applied until unpaused", async () => {
    const h = harness({ nodes: [node("node-1", { "olares.com/gpu.nvidia": "true", "gpu.bytetrade.io/cuda-supported": "true" })] });
    await h.converge();
    h.cluster.seed({ ...h.cr(), spec: { ...baseSpec(), paused: true, gpu: { enabled: "false" } } });
    h.cluster.resetRequests();
    await h.reconcile();
    expect(h.cluster.writes().filter((w) => w.verb !== "applyStatus" && w.verb !== "createEvent")).to.deep.equal([]);
    const hami = () => h.cluster.list("v1", "Secret", { namespace: "kube-system", labelSelector: "owner=helm,name=hami" });
    expect(await hami()).to.not.deep.equal([]);
    h.cluster.seed({ ...h.cr(), spec: { ...baseSpec(), paused: false, gpu: { enabled: "false" } } });
    await h.converge();
    expect(await hami()).to.deep.equal([]);
  });

  it("deletion: phase Deleting, host cleanup, then the finalizer goes and owned objects are garbage-collected", async () => {
    const h = harness();
    await h.converge();
    await h.cluster.delete(crRef());
    expect(h.cr().metadata.deletionTimestamp).to.be.a("string");
    await h.reconcile();
    expect(statusOf(h.cr()).phase).to.equal("Deleting");
    h.agentsApply(); // the agent undoes its host changes and reports the cleanup config Done
    await h.reconcile();
    expect(h.cluster.peek(crRef())).to.equal(undefined);
    const applyStatus = h.cluster.writes().filter((w) => w.verb === "applyStatus").pop()!;
    expect((applyStatus.body as any).status.phase).to.equal("Deleting");
    expect(h.cluster.peek({ apiVersion: "apps/v1", kind: "DaemonSet", name: "olares-node-agent", namespace: "olares-system" })).to.equal(undefined);
    expect(h.cluster.peek({ apiVersion: "v1", kind: "Namespace", name: "olares-system" })).to.equal(undefined);
  });

  it("deletion waits for the node agents to undo host changes on configured nodes", async () => {
    const configured = node("node-1");
    configured.metadata.annotations = { "olares.com/current-config": "abc1234567", "olares.com/state": "Done" };
    const h = harness({ nodes: [configured] });
    await h.converge();
    await h.cluster.delete(crRef());
    const r = await h.reconcile();
    expect(r.requeueAfterMs).to.be.greaterThan(0);
    expect(h.cr().metadata.finalizers).to.deep.equal([FINALIZER]);
    expect(statusOf(h.cr()).phase).to.equal("Deleting");
    expect(h.cluster.peek({ apiVersion: "v1", kind: "Node", name: "node-1" })!.metadata.annotations!["olares.com/desired-config"]).to.equal("cleanup");
    const n = h.cluster.peek({ apiVersion: "v1", kind: "Node", name: "node-1" })!;
    n.metadata.annotations = { ...n.metadata.annotations, "olares.com/current-config": "cleanup", "olares.com/state": "Done" };
    h.cluster.seed(n);
    await h.reconcile();
    expect(h.cluster.peek(crRef())).to.equal(undefined);
  });

  it("generates the owner password Secret once and never overwrites it", async () => {
    const h = harness();
    await h.reconcile();
    const ref = { apiVersion: "v1", kind: "Secret", name: "olares-owner-password", namespace: "olares-system" };
    const first = h.cluster.peek(ref) as any;
    expect(first.stringData.password).to.match(/^[A-Za-z0-9]{24}$/);
    await h.converge();
    await h.reconcile();
    expect((h.cluster.peek(ref) as any).stringData.password).to.equal(first.stringData.password);
    expect(h.cluster.writes().filter((w) => w.ref.kind === "Secret" && w.ref.name === "olares-owner-password")).to.have.length(1);
  });

  it("never logs a generated secret value", async () => {
    const h = harness();
    const lines: string[] = [];
    const record = (message: string, meta?: Record<string, unknown>) => lines.push(`${message} ${JSON.stringify(meta ?? {})}`);
    const logged = new Reconciler({
      client: h.cluster,
      observed: h.cluster.observed(),
      operatorImage: TEST_IMAGE,
      log: { info: record, warn: record, error: record, debug: record },
      release: templateReleaseRuntime(h.cluster),
    });
    await logged.reconcile("olares");
    expect(lines.some((l) => l.startsWith("generated secret"))).to.equal(true);
    const secrets = h.cluster.all().filter((o) => o.kind === "Secret");
    const values = secrets.flatMap((o) => Object.values((o as { stringData?: Record<string, string> }).stringData ?? {}));
    // the owner's password and the release randoms (bfl and app keys, the launcher's *_rand16)
    expect(values).to.have.length(1 + releaseRandomKeys().length);
    for (const v of values) expect(lines.join("\n")).to.not.include(v);
  });

  it("does not generate an owner password when the spec references one, and waits for that Secret", async () => {
    const spec = { ...baseSpec(), owner: { username: "alice", passwordSecretRef: { name: "alice-pw" } } };
    const h = harness({ crs: [installation("olares", spec)] });
    await h.reconcile();
    expect(h.cluster.peek({ apiVersion: "v1", kind: "Secret", name: "olares-owner-password", namespace: "olares-system" })).to.equal(undefined);
    expect(cond(h.cr(), "PrerequisitesReady")).to.include({ status: "False", reason: "SecretNotFound" });
    expect(cond(h.cr(), "PrerequisitesReady")!.message).to.include("spec.owner.passwordSecretRef: Secret olares-operator/alice-pw not found");
    h.cluster.seed({ apiVersion: "v1", kind: "Secret", metadata: { name: "alice-pw", namespace: "olares-operator" }, data: { password: "c2VjcmV0" } });
    await h.converge();
  });

  it("JuiceFS on S3: the node gets its storage config (no secret in it), the agent reads the one credentials Secret; not Ready until the node reports", async () => {
    const spec = {
      ...baseSpec(),
      // a spec the API server admits (bucket of 3+ characters, a region for S3): the controller validates too
      storage: { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares-data", region: "us-east-1", credentialsSecretRef: { name: "s3" } } } },
    };
    const h = harness({ crs: [installation("olares", spec)] });
    const secretKey = "s3-secret-key-0123456789";
    h.cluster.seed({ apiVersion: "v1", kind: "Secret", metadata: { name: "s3", namespace: "olares-operator" }, data: { AWS_ACCESS_KEY_ID: Buffer.from("AKIAEXAMPLE").toString("base64"), AWS_SECRET_ACCESS_KEY: Buffer.from(secretKey).toString("base64") } });
    for (let i = 0; i < 6; i++) {
      await h.reconcile();
      h.rollOutWorkloads();
    }
    expect(cond(h.cr(), "StorageReady"), JSON.stringify(cond(h.cr(), "StorageReady"))).to.include({ status: "False", reason: "StorageApplying" });
    const creds = h.cluster.peek({ apiVersion: "v1", kind: "Secret", name: "olares-storage-credentials", namespace: "olares-system" })!;
    const data = Object.fromEntries(Object.entries(creds["data"] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));
    expect(data).to.include({ "access-key": "AKIAEXAMPLE", "secret-key": secretKey });
    expect(data["meta-password"]).to.have.length(24);
    const nodes = await h.cluster.list("v1", "Node");
    const config = nodes[0]!.metadata.annotations?.["olares.com/storage-config"];
    expect(config).to.include('"kind":"juicefsRootfs"');
    for (const v of [secretKey, data["meta-password"]!]) {
      expect(config).to.not.include(v);
      expect(JSON.stringify(h.cr().status)).to.not.include(v);
    }
  });

  it("JuiceFS on S3: the Storage precondition names the missing credentials Secret, then its missing key", async () => {
    const spec = {
      ...baseSpec(),
      storage: { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "b", credentialsSecretRef: { name: "s3" } } } },
    } as OlaresInstallationSpec;
    const cluster = new FakeCluster();
    expect(await secretPreconditions(cluster, stageSecretReferences(spec, "Storage"))).to.include({ ready: false, reason: "SecretNotFound" });
    cluster.seed({ apiVersion: "v1", kind: "Secret", metadata: { name: "s3", namespace: "olares-operator" }, data: { AWS_ACCESS_KEY_ID: "YQ==" } });
    const missing = await secretPreconditions(cluster, stageSecretReferences(spec, "Storage"));
    expect(missing).to.include({ ready: false, reason: "SecretKeyMissing" });
    expect(missing!.message).to.equal("spec.storage.juicefs.objectStore.credentialsSecretRef: Secret olares-operator/s3 has no key AWS_SECRET_ACCESS_KEY");
    cluster.seed({ apiVersion: "v1", kind: "Secret", metadata: { name: "s3", namespace: "olares-operator" }, data: { AWS_ACCESS_KEY_ID: "YQ==", AWS_SECRET_ACCESS_KEY: "Yg==" } });
    expect(await secretPreconditions(cluster, stageSecretReferences(spec, "Storage"))).to.include({ ready: true });
  });

  it("an invalid spec is reported as Degraded/InvalidSpec naming the field, without applying anything", async () => {
    const h = harness({ crs: [installation("olares", { ...baseSpec(), coreServices: { nosuch: { enabled: true } } })] });
    const r = await h.reconcile();
    expect(r.requeueAfterMs).to.equal(undefined);
    expect(statusOf(h.cr()).phase).to.equal("Degraded");
    expect(cond(h.cr(), "Ready")).to.include({ status: "False", reason: "InvalidSpec" });
    expect(cond(h.cr(), "Ready")!.message).to.include("spec.coreServices.nosuch");
    expect(h.cluster.writes().filter((w) => w.verb === "apply")).to.deep.equal([]);
  });

  it("reports a failing rollout as Degraded", async () => {
    const h = harness();
    await h.converge();
    const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "authelia-backend", namespace: "os-framework" };
    const d = h.cluster.peek(ref)!;
    h.cluster.setStatus(ref, {
      ...(d.status as object),
      readyReplicas: 0,
      conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
    });
    await h.reconcile();
    expect(statusOf(h.cr()).phase).to.equal("Degraded");
    expect(cond(h.cr(), "Degraded")).to.include({ status: "True", reason: "ProgressDeadlineExceeded" });
    const warnings = h.cluster.events.filter((e) => e.type === "Warning");
    expect(warnings.map((e) => e.reason)).to.include("Degraded");
  });

  it("aggregates node configs into status.nodes and reports a failing node as Degraded", async () => {
    const h = harness({ nodes: [node("node-1"), node("node-2")] });
    await h.converge();
    expect(statusOf(h.cr()).nodes).to.deep.include({ total: 2, updated: 2, working: 0, degraded: 0 });
    expect(statusOf(h.cr()).nodes!.desiredConfig).to.match(/^[0-9a-f]{10}$/);
    // a new spec changes the host config; node-1 fails to apply it
    h.cluster.seed({ ...h.cr(), spec: { ...baseSpec(), os: { timezone: "Europe/Berlin" } } });
    await h.reconcile();
    const n1 = h.cluster.peek({ apiVersion: "v1", kind: "Node", name: "node-1" })!;
    n1.metadata.annotations = { ...n1.metadata.annotations, "olares.com/state": "Degraded", "olares.com/reason": "timezone: zoneinfo missing" };
    h.cluster.seed(n1);
    await h.reconcile();
    const s = statusOf(h.cr());
    expect(s.phase).to.equal("Degraded");
    expect(s.nodes).to.deep.include({ total: 2, degraded: 1 });
    expect(s.nodes!.degradedNodes).to.deep.equal([{ name: "node-1", reason: "timezone: zoneinfo missing" }]);
    expect(cond(h.cr(), "NodeConfigReady")).to.include({ status: "False", reason: "NodesDegraded" });
    expect(cond(h.cr(), "Degraded")).to.include({ status: "True" });
    expect(cond(h.cr(), "StorageReady")).to.include({ reason: "WaitingForPreviousStage" });
  });

  it("emits one Event per phase change (stage progress is in the conditions), none at steady state", async () => {
    const h = harness();
    await h.converge();
    const reasons = h.cluster.events.map((e) => e.reason);
    expect(reasons).to.deep.equal(["Installing", "Ready"]);
    for (const e of h.cluster.events) {
      expect((e as any).involvedObject).to.include({ kind: KIND, name: "olares" });
      expect(e.metadata.namespace).to.equal("default");
    }
    const count = h.cluster.events.length;
    await h.reconcile();
    expect(h.cluster.events.length).to.equal(count);
  });

  it("never writes the spec", async () => {
    const h = harness();
    const spec = structuredClone(h.cr().spec);
    await h.converge();
    expect(h.cr().spec).to.deep.equal(spec);
    for (const w of h.cluster.writes().filter((x) => x.ref.kind === KIND)) {
      expect(JSON.stringify(w.body ?? {})).to.not.include('"spec"');
    }
  });

  it("does nothing for a CR that is gone", async () => {
    const h = harness({ crs: [] });
    expect(await h.reconcile("missing")).to.deep.equal({});
    expect(h.cluster.writes()).to.deep.equal([]);
  });
});
