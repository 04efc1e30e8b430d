import { expect } from "chai";
import { configMap, eventually, raw, startBed, type Bed } from "./helpers.js";
import type { KObj } from "../sim/types.js";

describe("simulator: deletion, finalizers, garbage collection, namespaces", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ controllers: false });
  });
  after(() => bed.sim.stop());

  const cmRt = () => bed.sim.api.registry.get("", "configmaps")!;
  const get = (name: string, ns = "default") => bed.sim.api.tryGet(cmRt(), ns, name);
  const ownedBy = (owner: KObj, name: string, extra: Record<string, unknown> = {}, ns = "default"): KObj => ({
    ...configMap(name, ns),
    metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, ...extra }] },
  });

  it("keeps an object with finalizers (deletionTimestamp set, 200 as kube-apiserver answers) until they are removed", async () => {
    bed.sim.seed({ ...configMap("fin"), metadata: { name: "fin", namespace: "default", finalizers: ["example.com/hold"] } });
    const del = await raw(bed.sim, "DELETE", "/api/v1/namespaces/default/configmaps/fin");
    expect(del.status).to.equal(200);
    expect(del.json.metadata.deletionTimestamp).to.be.a("string");
    expect(del.json.metadata.deletionGracePeriodSeconds).to.equal(0);
    const add = await raw(bed.sim, "PATCH", "/api/v1/namespaces/default/configmaps/fin", { metadata: { finalizers: ["example.com/hold", "example.com/new"] } }, { "Content-Type": "application/merge-patch+json" });
    expect(add.status, "no new finalizers while deleting").to.equal(422);
    await raw(bed.sim, "PATCH", "/api/v1/namespaces/default/configmaps/fin", { metadata: { finalizers: null } }, { "Content-Type": "application/merge-patch+json" });
    expect(get("fin")).to.equal(undefined);
  });

  it("background propagation deletes dependents after the owner is gone (also across namespaces for cluster-scoped owners)", async () => {
    const [owner] = bed.sim.seed({ apiVersion: "v1", kind: "Namespace", metadata: { name: "owner-ns" } });
    const [cmOwner] = bed.sim.seed(configMap("owner"));
    bed.sim.seed(ownedBy(cmOwner, "dep-1"), ownedBy(cmOwner, "dep-2"), ownedBy(owner, "dep-of-cluster-owner"));
    await raw(bed.sim, "DELETE", "/api/v1/namespaces/default/configmaps/owner?propagationPolicy=Background");
    await bed.sim.settle();
    expect(get("dep-1")).to.equal(undefined);
    expect(get("dep-2")).to.equal(undefined);
    expect(get("dep-of-cluster-owner")).to.not.equal(undefined);
    await raw(bed.sim, "DELETE", "/api/v1/namespaces/owner-ns");
    await bed.sim.settle();
    expect(get("dep-of-cluster-owner")).to.equal(undefined);
  });

  it("foreground propagation: the owner waits (foregroundDeletion) until blocking dependents are gone", async () => {
    const [owner] = bed.sim.seed(configMap("fg-owner"));
    bed.sim.seed({ ...ownedBy(owner, "fg-dep", { blockOwnerDeletion: true }), metadata: { ...ownedBy(owner, "fg-dep", { blockOwnerDeletion: true }).metadata, finalizers: ["example.com/slow"] } });
    const del = await raw(bed.sim, "DELETE", "/api/v1/namespaces/default/configmaps/fg-owner", { propagationPolicy: "Foreground" });
    expect(del.status).to.equal(200);
    expect(del.json.metadata.finalizers).to.include("foregroundDeletion");
    await bed.sim.settle();
    expect(get("fg-dep")!.metadata.deletionTimestamp, "dependent is being deleted").to.be.a("string");
    expect(get("fg-owner"), "owner waits for the blocking dependent").to.not.equal(undefined);
    await raw(bed.sim, "PATCH", "/api/v1/namespaces/default/configmaps/fg-dep", { metadata: { finalizers: null } }, { "Content-Type": "application/merge-patch+json" });
    await bed.sim.settle();
    expect(get("fg-dep")).to.equal(undefined);
    expect(get("fg-owner")).to.equal(undefined);
  });

  it("orphan propagation removes the owner reference and keeps dependents", async () => {
    const [owner] = bed.sim.seed(configMap("or-owner"));
    bed.sim.seed(ownedBy(owner, "or-dep"));
    await raw(bed.sim, "DELETE", "/api/v1/namespaces/default/configmaps/or-owner", { propagationPolicy: "Orphan" });
    await bed.sim.settle();
    expect(get("or-owner")).to.equal(undefined);
    expect(get("or-dep")!.metadata.ownerReferences).to.equal(undefined);
  });

  it("collects dependents whose owner never existed and keeps dependents with another live owner", async () => {
    bed.sim.seed({ ...configMap("dangling"), metadata: { name: "dangling", namespace: "default", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "ghost", uid: "00000000-0000-0000-0000-000000000000" }] } });
    const [a] = bed.sim.seed(configMap("owner-a"));
    const [b] = bed.sim.seed(configMap("owner-b"));
    bed.sim.seed({ ...configMap("two-owners"), metadata: { name: "two-owners", namespace: "default", ownerReferences: [...ownedBy(a, "x").metadata.ownerReferences!, ...ownedBy(b, "x").metadata.ownerReferences!] } });
    bed.sim.api.delete(cmRt(), "default", "owner-a");
    await bed.sim.settle();
    expect(get("dangling")).to.equal(undefined);
    const kept = get("two-owners")!;
    expect(kept.metadata.ownerReferences!.map((r) => r.name)).to.deep.equal(["owner-b"]);
  });

  it("namespace deletion: Terminating, contents deleted (waiting for finalizers), then the namespace is gone", async () => {
    bed.sim.seed({ apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
    bed.sim.seed(configMap("c1", "doomed"), { ...configMap("c2", "doomed"), metadata: { name: "c2", namespace: "doomed", finalizers: ["example.com/x"] } });
    const del = await raw(bed.sim, "DELETE", "/api/v1/namespaces/doomed");
    expect(del.json.status.phase).to.equal("Terminating");
    await bed.sim.settle();
    expect(get("c1", "doomed")).to.equal(undefined);
    const ns = await bed.core.readNamespace({ name: "doomed" });
    expect(ns.status!.phase).to.equal("Terminating");
    const create = await raw(bed.sim, "POST", "/api/v1/namespaces/doomed/configmaps", configMap("late", "doomed"));
    expect(create.status).to.equal(403);
    expect(create.json.message).to.contain("because it is being terminated");
    await raw(bed.sim, "PATCH", "/api/v1/namespaces/doomed/configmaps/c2", { metadata: { finalizers: null } }, { "Content-Type": "application/merge-patch+json" });
    await eventually(() => bed.sim.store.get("/namespaces", "", "doomed") === undefined, 2000, "namespace removal");
  });

  it("kubectl delete waits for the object to disappear", async () => {
    bed.sim.seed(configMap("k-del"));
    const out = await bed.kubectlOk(["delete", "configmap", "k-del"]);
    expect(out).to.contain('configmap "k-del" deleted');
    expect(get("k-del")).to.equal(undefined);
    bed.sim.seed({ apiVersion: "v1", kind: "Namespace", metadata: { name: "k-ns" } });
    bed.sim.seed(configMap("inside", "k-ns"));
    await bed.kubectlOk(["delete", "namespace", "k-ns", "--timeout=5s"]);
    expect(bed.sim.store.get("/namespaces", "", "k-ns")).to.equal(undefined);
  });
});
