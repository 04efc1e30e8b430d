import { expect } from "chai";
import { configMap, raw, startBed, statusOf, type Bed } from "./helpers.js";

describe("simulator: storage semantics (client-node CoreV1Api)", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ controllers: false });
  });
  after(() => bed.sim.stop());

  it("creates with uid, creationTimestamp, no generation (ConfigMaps have none, as on kube-apiserver) and a resourceVersion from one global counter", async () => {
    const a = await bed.core.createNamespacedConfigMap({ namespace: "default", body: configMap("a") as never });
    const b = await bed.core.createNamespacedConfigMap({ namespace: "default", body: configMap("b") as never });
    expect(a.metadata!.uid).to.match(/^[0-9a-f-]{36}$/);
    expect(a.metadata!.creationTimestamp).to.be.instanceOf(Date);
    expect(a.metadata!.generation).to.equal(undefined);
    expect(Number(b.metadata!.resourceVersion)).to.be.greaterThan(Number(a.metadata!.resourceVersion));
    const ns = await bed.core.createNamespace({ body: { metadata: { name: "rv-check" } } });
    expect(Number(ns.metadata!.resourceVersion)).to.be.greaterThan(Number(b.metadata!.resourceVersion));
  });

  it("answers 404 NotFound and 409 AlreadyExists with apiserver Status bodies", async () => {
    const nf = await statusOf(bed.core.readNamespacedConfigMap({ namespace: "default", name: "missing" }));
    expect(nf.code).to.equal(404);
    expect(nf.body).to.deep.equal({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: 'configmaps "missing" not found', reason: "NotFound", details: { name: "missing", kind: "configmaps" }, code: 404 });
    const dep = await raw(bed.sim, "GET", "/apis/apps/v1/namespaces/default/deployments/nope");
    expect(dep.json.message).to.equal('deployments.apps "nope" not found');
    expect(dep.json.details).to.deep.equal({ name: "nope", group: "apps", kind: "deployments" });
    const ae = await statusOf(bed.core.createNamespacedConfigMap({ namespace: "default", body: configMap("a") as never }));
    expect(ae.code).to.equal(409);
    expect(ae.body).to.include({ reason: "AlreadyExists", message: 'configmaps "a" already exists' });
  });

  it("enforces optimistic concurrency: a stale resourceVersion gets 409 Conflict", async () => {
    const cm = await bed.core.readNamespacedConfigMap({ namespace: "default", name: "a" });
    await bed.core.replaceNamespacedConfigMap({ namespace: "default", name: "a", body: { ...cm, data: { x: "1" } } });
    const stale = await statusOf(bed.core.replaceNamespacedConfigMap({ namespace: "default", name: "a", body: { ...cm, data: { x: "2" } } }));
    expect(stale.code).to.equal(409);
    expect(stale.body.reason).to.equal("Conflict");
    expect(stale.body.message).to.equal('Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again');
    const now = await bed.core.readNamespacedConfigMap({ namespace: "default", name: "a" });
    expect(now.data).to.deep.equal({ x: "1" });
  });

  it("bumps generation on spec changes only, never on metadata or status", async () => {
    const rt = bed.sim.api.registry.get("apps", "deployments")!;
    const d = bed.sim.seed({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "g", namespace: "default" }, spec: { replicas: 1, selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } } })[0];
    expect(d.metadata.generation).to.equal(1);
    const labelled = bed.sim.api.patch(rt, "default", "g", "merge", { metadata: { labels: { x: "y" } } }, {});
    expect(labelled.metadata.generation).to.equal(1);
    const status = bed.sim.api.patch(rt, "default", "g", "merge", { status: { replicas: 1 } }, {}, "status");
    expect(status.metadata.generation).to.equal(1);
    expect(status.status.replicas).to.equal(1);
    const spec = bed.sim.api.patch(rt, "default", "g", "merge", { spec: { replicas: 3 } }, {});
    expect(spec.metadata.generation).to.equal(2);
  });

  it("ignores status on the main endpoint and spec on /status for kinds with a status subresource", async () => {
    const ns = await bed.core.readNamespace({ name: "rv-check" });
    await bed.core.replaceNamespace({ name: "rv-check", body: { ...ns, metadata: { ...ns.metadata, labels: { l: "1" } }, status: { phase: "Terminating" } } });
    expect((await bed.core.readNamespace({ name: "rv-check" })).status!.phase).to.equal("Active");
    const pod = await bed.core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } } });
    await bed.core.replaceNamespacedPodStatus({ namespace: "default", name: "p", body: { ...pod, spec: { ...pod.spec!, nodeName: "elsewhere" }, status: { phase: "Running" } } });
    const after = await bed.core.readNamespacedPod({ namespace: "default", name: "p" });
    expect(after.status!.phase).to.equal("Running");
    expect(after.spec!.nodeName).to.equal(undefined);
  });

  it("does not write an update that changes nothing", async () => {
    const cm = await bed.core.readNamespacedConfigMap({ namespace: "default", name: "b" });
    const same = await bed.core.replaceNamespacedConfigMap({ namespace: "default", name: "b", body: cm });
    expect(same.metadata!.resourceVersion).to.equal(cm.metadata!.resourceVersion);
  });

  it("requires an existing namespace for namespaced objects", async () => {
    const r = await statusOf(bed.core.createNamespacedConfigMap({ namespace: "nowhere", body: configMap("x", "nowhere") as never }));
    expect(r.code).to.equal(404);
    expect(r.body.message).to.equal('namespaces "nowhere" not found');
  });

  it("honours dryRun=All for create, update and delete", async () => {
    const created = await bed.core.createNamespacedConfigMap({ namespace: "default", body: configMap("dry") as never, dryRun: "All" });
    expect(created.metadata!.name).to.equal("dry");
    expect((await statusOf(bed.core.readNamespacedConfigMap({ namespace: "default", name: "dry" }))).code).to.equal(404);
    await bed.core.deleteNamespacedConfigMap({ namespace: "default", name: "b", dryRun: "All" });
    expect((await bed.core.readNamespacedConfigMap({ namespace: "default", name: "b" })).metadata!.name).to.equal("b");
  });

  it("supports generateName and delete preconditions", async () => {
    const g = await bed.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { generateName: "gen-" } } });
    expect(g.metadata!.name).to.match(/^gen-[a-z0-9]{5}$/);
    const bad = await statusOf(bed.core.deleteNamespacedConfigMap({ namespace: "default", name: g.metadata!.name!, body: { preconditions: { uid: "other" } } }));
    expect(bad.code).to.equal(409);
    const ok = await bed.core.deleteNamespacedConfigMap({ namespace: "default", name: g.metadata!.name!, body: { preconditions: { uid: g.metadata!.uid } } });
    expect(ok).to.include({ kind: "Status", status: "Success" });
  });

  it("decodes kubectl's protobuf bodies for namespaces, configmaps and secrets (stringData → data)", async () => {
    await bed.kubectlOk(["create", "namespace", "pb"]);
    await bed.kubectlOk(["create", "configmap", "pb-cm", "-n", "pb", "--from-literal=k=v"]);
    await bed.kubectlOk(["create", "secret", "generic", "pb-s", "-n", "pb", "--from-literal=user=admin"]);
    expect((await bed.core.readNamespacedConfigMap({ namespace: "pb", name: "pb-cm" })).data).to.deep.equal({ k: "v" });
    expect((await bed.core.readNamespacedSecret({ namespace: "pb", name: "pb-s" })).data).to.deep.equal({ user: Buffer.from("admin").toString("base64") });
    const s = await bed.core.createNamespacedSecret({ namespace: "pb", body: { metadata: { name: "sd" }, stringData: { a: "b" } } });
    expect(s.data).to.deep.equal({ a: "Yg==" });
    expect(s.stringData).to.equal(undefined);
  });

  it("returns 405 for verbs it does not implement and 415 for protobuf bodies it cannot decode", async () => {
    const r = await raw(bed.sim, "POST", "/api/v1/namespaces/default/configmaps/a");
    expect(r.status).to.equal(405);
    const p = await raw(bed.sim, "POST", "/api/v1/namespaces/default/configmaps", "\u006b\u0038\u0073\u0000", { "Content-Type": "application/vnd.kubernetes.protobuf" });
    expect(p.status).to.equal(415);
  });
});
