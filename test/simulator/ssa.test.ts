import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { raw, startBed, statusOf, type Bed } from "./helpers.js";

const cm = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa", namespace: "default", ...extra }, data });
const applyPath = (manager: string, force = false) => `/api/v1/namespaces/default/configmaps/ssa?fieldManager=${manager}${force ? "&force=true" : ""}`;
const APPLY = { "Content-Type": "application/apply-patch+yaml" };

describe("simulator: server-side apply", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ nodes: 1 });
  });
  after(() => bed.sim.stop());

  it("creates on apply and records the manager's fields in managedFields", async () => {
    const out: k8s.KubernetesObject = await bed.objects.patch(cm({ a: "1", b: "2" }) as never, undefined, undefined, "alice", undefined, k8s.PatchStrategy.ServerSideApply);
    expect(out.metadata!.managedFields).to.have.length(1);
    const entry = out.metadata!.managedFields![0];
    expect(entry).to.include({ manager: "alice", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1" });
    expect(entry.fieldsV1).to.deep.equal({ "f:data": { "f:a": {}, "f:b": {} } });
  });

  it("does not write when an apply changes nothing", async () => {
    const before = (await raw(bed.sim, "GET", "/api/v1/namespaces/default/configmaps/ssa")).json;
    const again = await raw(bed.sim, "PATCH", applyPath("alice"), cm({ a: "1", b: "2" }), APPLY);
    expect(again.status).to.equal(200);
    expect(again.json.metadata.resourceVersion).to.equal(before.metadata.resourceVersion);
  });

  it("reports conflicts with the owning manager as 409 unless force=true", async () => {
    const c = await raw(bed.sim, "PATCH", applyPath("bob"), cm({ a: "9" }), APPLY);
    expect(c.status).to.equal(409);
    expect(c.json.message).to.equal('Apply failed with 1 conflict: conflict with "alice" using v1: .data.a');
    expect(c.json.details.causes).to.deep.equal([{ type: "FieldManagerConflict", message: 'conflict with "alice" using v1', field: ".data.a" }]);
    const same = await raw(bed.sim, "PATCH", applyPath("bob"), cm({ b: "2" }), APPLY);
    expect(same.status, "co-owning a field with the same value is not a conflict").to.equal(200);
    const forced = await raw(bed.sim, "PATCH", applyPath("bob", true), cm({ a: "9", b: "2" }), APPLY);
    expect(forced.status).to.equal(200);
    const owners = Object.fromEntries(forced.json.metadata.managedFields.map((e: any) => [e.manager, e.fieldsV1]));
    expect(owners.alice).to.deep.equal({ "f:data": { "f:b": {} } });
    expect(owners.bob).to.deep.equal({ "f:data": { "f:a": {}, "f:b": {} } });
  });

  it("removes fields a manager stops applying unless another manager owns them", async () => {
    await raw(bed.sim, "PATCH", applyPath("carol"), cm({ c: "3", d: "4" }), APPLY);
    const dropped = await raw(bed.sim, "PATCH", applyPath("carol"), cm({ c: "3" }), APPLY);
    expect(dropped.json.data).to.deep.equal({ a: "9", b: "2", c: "3" });
    const shared = await raw(bed.sim, "PATCH", applyPath("alice"), cm({}), APPLY);
    expect(shared.json.data.b, "still owned by bob").to.equal("2");
  });

  it("an applier that drops a whole map or nested object it owned leaves no empty husk (as kube-apiserver v1.33)", async () => {
    const path = "/api/v1/namespaces/default/configmaps/husk?fieldManager=first";
    await raw(bed.sim, "PATCH", path, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "husk", labels: { a: "b" } }, data: { x: "1" } }, APPLY);
    const dropped = await raw(bed.sim, "PATCH", path, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "husk", annotations: { keep: "k" } } }, APPLY);
    expect(dropped.json.data, "data emptied by the drop is gone").to.equal(undefined);
    expect(dropped.json.metadata.labels, "labels emptied by the drop are gone").to.equal(undefined);
    // kept: an explicit {} the applier still sends, and what another manager owns
    await raw(bed.sim, "PATCH", "/api/v1/namespaces/default/configmaps/husk?fieldManager=other", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "husk" }, data: { y: "2" } }, APPLY);
    await raw(bed.sim, "PATCH", path, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "husk" }, data: { x: "1", y: "2" } }, APPLY);
    const shared = await raw(bed.sim, "PATCH", path, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "husk" } }, APPLY);
    expect(shared.json.data, "y is still other's").to.deep.equal({ y: "2" });
  });

  it("tracks keyed list items (containers by name) so managers can own different containers", async () => {
    const dep = (containers: unknown[]) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "multi", namespace: "default" }, spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers } } } });
    const path = (m: string) => `/apis/apps/v1/namespaces/default/deployments/multi?fieldManager=${m}`;
    await raw(bed.sim, "PATCH", path("one"), dep([{ name: "a", image: "a:1" }]), APPLY);
    const two = await raw(bed.sim, "PATCH", path("two"), { ...dep([{ name: "b", image: "b:1" }]), spec: { template: { spec: { containers: [{ name: "b", image: "b:1" }] } } } }, APPLY);
    expect(two.status).to.equal(200);
    expect(two.json.spec.template.spec.containers.map((c: any) => c.name)).to.deep.equal(["a", "b"]);
    const mf = two.json.metadata.managedFields.find((e: any) => e.manager === "two");
    expect(mf.fieldsV1["f:spec"]["f:template"]["f:spec"]["f:containers"]).to.have.key('k:{"name":"b"}');
  });

  it("removes a keyed list item a manager stops applying as a whole (no empty item left behind)", async () => {
    const path = "/api/v1/namespaces/default/status?fieldManager=reporter";
    const ns = (conditions: unknown[]) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" }, status: { conditions } });
    const a = { type: "A", status: "True", reason: "R", message: "m" };
    const b = { type: "B", status: "False", reason: "R", message: "m" };
    const first = await raw(bed.sim, "PATCH", path, ns([a, b]), APPLY);
    expect(first.status, first.text).to.equal(200);
    const second = await raw(bed.sim, "PATCH", path, ns([a]), APPLY);
    expect(second.json.status.conditions).to.deep.equal([a]);
    const third = await raw(bed.sim, "PATCH", path, ns([{ ...a, message: "changed" }, b]), APPLY);
    expect(third.json.status.conditions).to.deep.equal([{ ...a, message: "changed" }, b]);
    const fourth = await raw(bed.sim, "PATCH", path, ns([{ type: "A", status: "True" }, b]), APPLY);
    expect(fourth.json.status.conditions, "dropped fields of a kept item go, its key stays").to.deep.equal([{ type: "A", status: "True" }, b]);
  });

  it("applies to the status subresource without touching spec, and ignores status on the main resource", async () => {
    const apps = "/apis/apps/v1/namespaces/default/deployments/multi";
    const main = await raw(bed.sim, "PATCH", `${apps}?fieldManager=status-on-main`, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "multi" }, status: { replicas: 42 } }, APPLY);
    expect(main.json.status?.replicas).to.not.equal(42);
    const st = await raw(bed.sim, "PATCH", `${apps}/status?fieldManager=reporter`, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "multi" }, status: { collisionCount: 7 } }, APPLY);
    expect(st.status).to.equal(200);
    expect(st.json.status.collisionCount).to.equal(7);
    expect(st.json.metadata.generation, "status never bumps generation").to.equal(main.json.metadata.generation);
    expect(st.json.metadata.managedFields.find((e: any) => e.manager === "reporter").subresource).to.equal("status");
  });

  it("requires a fieldManager for apply and honours dryRun", async () => {
    const r = await raw(bed.sim, "PATCH", "/api/v1/namespaces/default/configmaps/ssa", cm({ a: "1" }), APPLY);
    expect(r.status).to.equal(400);
    const dry = await raw(bed.sim, "PATCH", `${applyPath("dan")}&dryRun=All`, cm({ z: "1" }), APPLY);
    expect(dry.json.data.z).to.equal("1");
    expect((await bed.core.readNamespacedConfigMap({ namespace: "default", name: "ssa" })).data!.z).to.equal(undefined);
  });

  it("kubectl apply --server-side creates, is idempotent, and reports conflicts", async () => {
    const file = bed.writeFile("ssa.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k, namespace: default}\ndata: {x: '1'}\n");
    expect(await bed.kubectlOk(["apply", "--server-side", "-f", file])).to.contain("configmap/k serverside-applied");
    const rv = (await bed.core.readNamespacedConfigMap({ namespace: "default", name: "k" })).metadata!.resourceVersion;
    await bed.kubectlOk(["apply", "--server-side", "-f", file]);
    expect((await bed.core.readNamespacedConfigMap({ namespace: "default", name: "k" })).metadata!.resourceVersion).to.equal(rv);
    const other = bed.writeFile("ssa2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: k, namespace: default}\ndata: {x: '2'}\n");
    const r = await bed.kubectl(["apply", "--server-side", "--field-manager=other", "-f", other]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.contain('conflict with "kubectl"');
    await bed.kubectlOk(["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", other]);
    expect((await bed.core.readNamespacedConfigMap({ namespace: "default", name: "k" })).data).to.deep.equal({ x: "2" });
    expect((await statusOf(bed.core.readNamespacedConfigMap({ namespace: "default", name: "absent" }))).code).to.equal(404);
  });
});
