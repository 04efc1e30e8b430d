import { expect } from "chai";
import { FakeCluster } from "./fake-cluster.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import type { WatchEvent } from "../../operator/src/kube/types.js";
import { ApiError } from "../../operator/src/kube/errors.js";

const cm = (data: Record<string, string>, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cfg", namespace: "olares-system", labels },
  data,
});

const deploy = (replicas: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "ns", labels: { app: "web" } },
  spec: { replicas },
});

describe("FakeCluster", () => {
  it("creates on apply with uid, resourceVersion and generation 1", async () => {
    const fake = new FakeCluster();
    const out = await fake.apply(deploy(1));
    expect(out.metadata.uid).to.be.a("string");
    expect(out.metadata.resourceVersion).to.equal("1");
    expect(out.metadata.generation).to.equal(1);
    expect(fake.requests.map((r) => r.verb)).to.deep.equal(["apply"]);
  });

  it("does not bump resourceVersion for a no-op apply, bumps generation only on spec change", async () => {
    const fake = new FakeCluster();
    const first = await fake.apply(deploy(1));
    const same = await fake.apply(deploy(1));
    expect(same.metadata.resourceVersion).to.equal(first.metadata.resourceVersion);
    expect(fake.requests[1]!.changed).to.equal(false);

    const labelled = deploy(1);
    labelled.metadata.labels = { app: "web", tier: "x" };
    const relabelled = await fake.apply(labelled);
    expect(relabelled.metadata.generation).to.equal(1);
    expect(relabelled.metadata.resourceVersion).to.not.equal(first.metadata.resourceVersion);

    const scaled = await fake.apply(deploy(3));
    expect(scaled.metadata.generation).to.equal(2);
    expect(scaled["spec"]).to.deep.equal({ replicas: 3 });
    // the label dropped from the applied config is released, like SSA does
    expect(scaled.metadata.labels).to.deep.equal({ app: "web" });
    expect(fake.changingWrites()).to.have.length(3);
  });

  it("keeps fields set by other actors and ignores status on the main resource", async () => {
    const fake = new FakeCluster();
    await fake.apply(deploy(1));
    await fake.patch({ apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "ns" }, { metadata: { annotations: { a: "1" } } }, "merge");
    const withStatus = { ...deploy(1), status: { readyReplicas: 9 } };
    const out = await fake.apply(withStatus);
    expect(out.metadata.annotations).to.deep.equal({ a: "1" });
    expect(out["status"]).to.equal(undefined);
  });

  it("applyStatus touches only status and never generation", async () => {
    const fake = new FakeCluster();
    await fake.apply(deploy(1));
    const out = await fake.applyStatus({ ...deploy(99), status: { readyReplicas: 1 } });
    expect(out["spec"]).to.deep.equal({ replicas: 1 });
    expect(out["status"]).to.deep.equal({ readyReplicas: 1 });
    expect(out.metadata.generation).to.equal(1);
    const again = await fake.applyStatus({ ...deploy(1), status: { readyReplicas: 1 } });
    expect(again.metadata.resourceVersion).to.equal(out.metadata.resourceVersion);
  });

  it("applyStatus on a missing object is a 404", async () => {
    const fake = new FakeCluster();
    const err = await fake.applyStatus({ ...deploy(1), status: {} }).catch((e: unknown) => e);
    expect(err).to.include({ status: 404, reason: "NotFound" });
  });

  it("lists with label selectors", async () => {
    const fake = new FakeCluster();
    await fake.apply(cm({ a: "1" }, { tier: "db" }));
    await fake.apply({ ...cm({}, { tier: "web" }), metadata: { name: "other", namespace: "olares-system", labels: { tier: "web" } } });
    expect((await fake.list("v1", "ConfigMap", { labelSelector: "tier=db" })).map((o) => o.metadata.name)).to.deep.equal(["cfg"]);
    expect((await fake.list("v1", "ConfigMap", { labelSelector: "tier in (db,web)" })).length).to.equal(2);
    expect((await fake.list("v1", "ConfigMap", { labelSelector: "tier!=db" })).map((o) => o.metadata.name)).to.deep.equal(["other"]);
  });

  it("honours finalizers on delete, then removes once they are cleared, and collects dependents", async () => {
    const fake = new FakeCluster();
    fake.registerClusterScoped("olares.com/v1alpha1", "OlaresInstallation");
    const cr = await fake.apply({
      apiVersion: "olares.com/v1alpha1",
      kind: "OlaresInstallation",
      metadata: { name: "olares", finalizers: ["olares.com/cleanup"] },
      spec: { version: "1.12.1" },
    });
    await fake.apply({
      ...cm({ a: "1" }),
      metadata: { name: "cfg", namespace: "olares-system", ownerReferences: [{ apiVersion: cr.apiVersion, kind: cr.kind, name: "olares", uid: cr.metadata.uid! }] },
    });
    const ref = { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", name: "olares" };
    expect(await fake.delete(ref)).to.equal(true);
    expect((await fake.get(ref))?.metadata.deletionTimestamp).to.be.a("string");
    await fake.patch(ref, [{ op: "remove", path: "/metadata/finalizers" }], "json");
    expect(await fake.get(ref)).to.equal(undefined);
    expect(fake.peek({ apiVersion: "v1", kind: "ConfigMap", name: "cfg", namespace: "olares-system" })).to.equal(undefined);
    expect(await fake.delete(ref)).to.equal(false);
  });

  it("rejects stale resourceVersions with 409 and create of an existing object with AlreadyExists", async () => {
    const fake = new FakeCluster();
    const lease = await fake.create({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "ns" }, spec: {} });
    await fake.replace({ ...lease, spec: { holderIdentity: "a" } });
    const err = await fake.replace({ ...lease, spec: { holderIdentity: "b" } }).catch((e: unknown) => e);
    expect(err).to.include({ status: 409, reason: "Conflict" });
    const exists = await fake.create(lease).catch((e: unknown) => e);
    expect(exists).to.include({ status: 409, reason: "AlreadyExists" });
  });

  it("patch on status subresource only changes status; evict deletes the pod; events are recorded", async () => {
    const fake = new FakeCluster();
    await fake.apply(deploy(1));
    const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "ns" };
    const out = await fake.patch(ref, { spec: { replicas: 5 }, status: { replicas: 1 } }, "merge", { subresource: "status" });
    expect(out["spec"]).to.deep.equal({ replicas: 1 });
    expect(out["status"]).to.deep.equal({ replicas: 1 });

    fake.seed({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns" }, spec: {} });
    await fake.evict("ns", "p");
    expect(fake.peek({ apiVersion: "v1", kind: "Pod", name: "p", namespace: "ns" })).to.equal(undefined);
    await fake.createEvent({ apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name: "e", namespace: "ns" }, reason: "Applied" });
    expect(fake.events).to.have.length(1);
    expect(fake.writes().map((r) => r.verb)).to.deep.equal(["apply", "patch", "evict", "createEvent"]);
  });

  it("injects faults and exposes an ObservedState view and watches", async () => {
    const fake = new FakeCluster();
    const seen: WatchEvent[] = [];
    const handle = await fake.watch("v1", "ConfigMap", { resourceVersion: fake.resourceVersion }, (e) => seen.push(e), () => undefined);
    fake.injectFault({ verb: "apply", kind: "ConfigMap" }, new ApiError(500, "InternalError", "boom"));
    await fake.apply(cm({})).then(
      () => expect.fail("fault expected"),
      (e: Error) => expect(e.message).to.equal("boom"),
    );
    await fake.apply(cm({ a: "1" }));
    expect(fake.observed().get({ apiVersion: "v1", kind: "ConfigMap", name: "cfg", namespace: "olares-system" })?.["data"]).to.deep.equal({ a: "1" });
    expect(fake.observed().list("v1", "ConfigMap")).to.have.length(1);
    expect(seen.map((e) => e.type)).to.deep.equal(["ADDED"]);
    handle.stop();
  });

  it("replays watch events after a resourceVersion and answers 410 for a compacted one", async () => {
    const fake = new FakeCluster();
    await fake.apply(cm({ a: "1" }));
    const rv = fake.resourceVersion;
    await fake.apply(cm({ a: "2" }));
    await fake.delete({ apiVersion: "v1", kind: "ConfigMap", name: "cfg", namespace: "olares-system" });
    const seen: string[] = [];
    const h = await fake.watch("v1", "ConfigMap", { resourceVersion: rv }, (e) => seen.push(`${e.type} ${e.object.metadata.resourceVersion}`), () => undefined);
    await new Promise((r) => setImmediate(r));
    expect(seen).to.deep.equal(["MODIFIED 2", "DELETED 3"]);
    h.stop();
    const listed = await fake.listWithVersion("v1", "ConfigMap");
    expect(listed).to.deep.equal({ items: [], resourceVersion: "3" });
    fake.compact();
    const errors: unknown[] = [];
    await fake.watch("v1", "ConfigMap", { resourceVersion: rv }, () => undefined, (err) => errors.push(err));
    await new Promise((r) => setImmediate(r));
    expect(errors[0]).to.include({ status: 410, reason: "Expired" });
  });

  it("requires a namespace for namespaced kinds", async () => {
    const fake = new FakeCluster();
    const err = await fake.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }).catch((e: unknown) => e);
    expect(err).to.include({ status: 400 });
    expect((err as Error).message).to.match(/metadata\.namespace/);
  });
});
