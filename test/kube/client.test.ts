import { expect } from "chai";
import nock from "nock";
import { createClusterClient, retryOnConflict } from "../../operator/src/kube/client.js";
import { ApiError } from "../../operator/src/kube/errors.js";
import { FakeClock } from "../../operator/src/kube/clock.js";
import { createMetrics } from "../../operator/src/kube/metrics.js";
import { TEST_TOKEN, testKubeConfig } from "./helpers.js";

const SERVER = "http://kube.test";
/** Lets in-flight (mocked) HTTP exchanges finish. */
const settle = () => new Promise((r) => setTimeout(r, 30));
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "olares-system", labels: { app: "web" } },
  spec: { replicas: 1 },
};
const crDiscovery = {
  kind: "APIResourceList",
  groupVersion: "olares.com/v1alpha1",
  resources: [
    { name: "olaresinstallations", kind: "OlaresInstallation", namespaced: false, verbs: ["get", "list", "patch"] },
    { name: "olaresinstallations/status", kind: "OlaresInstallation", namespaced: false, verbs: ["get", "patch"] },
  ],
};
const status = (code: number, reason: string, message: string, causes?: unknown[]) => ({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  code,
  reason,
  message,
  ...(causes ? { details: { causes } } : {}),
});

describe("kube client (HTTP)", () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, "every mocked request was made").to.deep.equal([]);
  });

  const client = (opts = {}) => createClusterClient(testKubeConfig(SERVER), { qps: 0, ...opts });

  it("acts as another user only when asked (Impersonate-User, as kubectl --as): the release's installer client", async () => {
    const installer = "system:serviceaccount:olares-operator:olares-operator-installer";
    nock(SERVER, { reqheaders: { "impersonate-user": installer, authorization: `Bearer ${TEST_TOKEN}` } })
      .get("/apis/apps/v1/namespaces/olares-system/deployments/web")
      .reply(200, deployment);
    nock(SERVER, { badheaders: ["impersonate-user"] })
      .get("/apis/apps/v1/namespaces/olares-system/deployments/web")
      .reply(200, deployment);
    const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "olares-system" };
    expect((await client({ impersonateUser: installer }).get(ref))?.metadata.name).to.equal("web");
    expect((await client().get(ref))?.metadata.name).to.equal("web");
  });

  it("applies with PATCH application/apply-patch+yaml, fieldManager and the bearer token", async () => {
    let sent: unknown;
    nock(SERVER, { reqheaders: { "content-type": "application/apply-patch+yaml", authorization: `Bearer ${TEST_TOKEN}` } })
      .patch("/apis/apps/v1/namespaces/olares-system/deployments/web")
      .query({ fieldManager: "olares-operator" })
      .reply(200, (_uri, body) => {
        sent = JSON.parse(body as string);
        return { ...deployment, metadata: { ...deployment.metadata, resourceVersion: "7" } };
      });
    const out = await client().apply({ ...deployment, metadata: { ...deployment.metadata, managedFields: [{}], uid: "u" } });
    expect(out.metadata.resourceVersion).to.equal("7");
    expect(sent).to.deep.equal(deployment);
  });

  it("adds force=true when asked", async () => {
    nock(SERVER).patch("/apis/apps/v1/namespaces/olares-system/deployments/web").query({ fieldManager: "olares-operator", force: "true" }).reply(200, deployment);
    await client().apply(deployment, { force: true });
  });

  it("uses core paths and drops the namespace of cluster-scoped kinds", async () => {
    nock(SERVER)
      .patch("/api/v1/namespaces/olares-system/configmaps/cfg").query(true).reply(200, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" } })
      .get("/api/v1/nodes/node-1").reply(200, { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" } })
      .patch("/apis/rbac.authorization.k8s.io/v1/clusterroles/agent").query(true).reply(200, { metadata: { name: "agent" } });
    const c = client();
    await c.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "olares-system" }, data: {} });
    expect((await c.get({ apiVersion: "v1", kind: "Node", name: "node-1", namespace: "ignored" }))?.metadata.name).to.equal("node-1");
    await c.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "agent" }, rules: [] });
  });

  it("rejects a namespaced kind without namespace naming the field", async () => {
    const err = await client().apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" } }).catch((e: Error) => e);
    expect((err as Error).message).to.match(/^metadata\.namespace: required/);
  });

  it("discovers a CRD's resource once and applies status through the /status subresource", async () => {
    let statusBody: any;
    nock(SERVER)
      .get("/apis/olares.com/v1alpha1").once().reply(200, crDiscovery)
      .patch("/apis/olares.com/v1alpha1/olaresinstallations/olares/status")
      .query({ fieldManager: "olares-operator", force: "true" })
      .matchHeader("content-type", "application/apply-patch+yaml")
      .reply(200, (_u, body) => {
        statusBody = JSON.parse(body as string);
        return { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares" }, status: { phase: "Ready" } };
      })
      .get("/apis/olares.com/v1alpha1/olaresinstallations/olares").reply(200, { metadata: { name: "olares" } });
    const c = client();
    const cr = { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares", resourceVersion: "3" }, spec: { version: "1" }, status: { phase: "Ready" } };
    const out = await c.applyStatus(cr);
    expect(out["status"]).to.deep.equal({ phase: "Ready" });
    expect(statusBody).to.deep.equal({ apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares" }, status: { phase: "Ready" } });
    await c.get({ apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", name: "olares" });
    expect(c.requestCounts()).to.deep.equal({ discovery: 1, apply: 1, get: 1 });
  });

  it("reports an unknown kind clearly and refreshes discovery only after the refresh interval", async () => {
    const clock = new FakeClock();
    nock(SERVER).get("/apis/olares.com/v1alpha1").twice().reply(200, crDiscovery);
    const c = client({ clock, discoveryRefreshMs: 1000 });
    const ref = { apiVersion: "olares.com/v1alpha1", kind: "Missing", name: "x" };
    const first = await c.get(ref).catch((e: unknown) => e);
    expect(first).to.be.instanceOf(ApiError);
    expect(first).to.include({ status: 404, reason: "NoKindMatch" });
    expect((first as ApiError).message).to.match(/no kind "Missing" is served in olares.com\/v1alpha1/);
    await c.get(ref).catch((e: unknown) => e); // cached answer, no request
    expect(c.requestCounts()["discovery"]).to.equal(1);
    await clock.advance(1000);
    await c.get(ref).catch((e: unknown) => e);
    expect(c.requestCounts()["discovery"]).to.equal(2);
  });

  it("maps 404 to undefined on get and false on delete, and sends DeleteOptions", async () => {
    let deleteBody: unknown;
    nock(SERVER)
      .get("/api/v1/namespaces/ns/secrets/gone").reply(404, status(404, "NotFound", 'secrets "gone" not found'))
      .delete("/api/v1/namespaces/ns/secrets/gone").reply(404, status(404, "NotFound", "not found"))
      .delete("/apis/apps/v1/namespaces/ns/daemonsets/agent").reply(200, (_u, b) => {
        deleteBody = b;
        return status(200, "", "");
      });
    const c = client();
    expect(await c.get({ apiVersion: "v1", kind: "Secret", namespace: "ns", name: "gone" })).to.equal(undefined);
    expect(await c.delete({ apiVersion: "v1", kind: "Secret", namespace: "ns", name: "gone" })).to.equal(false);
    expect(await c.delete({ apiVersion: "apps/v1", kind: "DaemonSet", namespace: "ns", name: "agent" }, { propagationPolicy: "Foreground" })).to.equal(true);
    expect(deleteBody).to.deep.equal({ apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Foreground" });
  });

  it("lists page by page with selectors and restores apiVersion/kind on items", async () => {
    nock(SERVER)
      .get("/api/v1/pods").query({ labelSelector: "app=agent", fieldSelector: "spec.nodeName=n1", limit: "2" })
      .reply(200, { metadata: { resourceVersion: "10", continue: "tok" }, items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }] })
      .get("/api/v1/pods").query({ labelSelector: "app=agent", fieldSelector: "spec.nodeName=n1", limit: "2", continue: "tok" })
      .reply(200, { metadata: { resourceVersion: "11" }, items: [{ metadata: { name: "c" } }] });
    const res = await client({ pageSize: 2 }).listWithVersion("v1", "Pod", { labelSelector: "app=agent", fieldSelector: "spec.nodeName=n1" });
    expect(res.items.map((i) => [i.kind, i.apiVersion, i.metadata.name])).to.deep.equal([["Pod", "v1", "a"], ["Pod", "v1", "b"], ["Pod", "v1", "c"]]);
    expect(res.resourceVersion).to.equal("11");
  });

  it("restarts an expired paginated list as one full list", async () => {
    nock(SERVER)
      .get("/api/v1/namespaces/ns/configmaps").query({ limit: "1" }).reply(200, { metadata: { continue: "old" }, items: [{ metadata: { name: "a" } }] })
      .get("/api/v1/namespaces/ns/configmaps").query({ limit: "1", continue: "old" }).reply(410, status(410, "Expired", "continue token expired"))
      .get("/api/v1/namespaces/ns/configmaps").query({}).reply(200, { metadata: { resourceVersion: "5" }, items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }] });
    const items = await client({ pageSize: 1 }).list("v1", "ConfigMap", { namespace: "ns" });
    expect(items.map((i) => i.metadata.name)).to.deep.equal(["a", "b"]);
  });

  it("sends merge, json and strategic patches with their content types (and to /status)", async () => {
    const ref = { apiVersion: "v1", kind: "Node", name: "n1" };
    nock(SERVER)
      .patch("/api/v1/nodes/n1").query({ fieldManager: "olares-operator" }).matchHeader("content-type", "application/merge-patch+json").reply(200, { metadata: { name: "n1" } })
      .patch("/api/v1/nodes/n1").query(true).matchHeader("content-type", "application/json-patch+json").reply(200, { metadata: { name: "n1" } })
      .patch("/api/v1/nodes/n1").query(true).matchHeader("content-type", "application/strategic-merge-patch+json").reply(200, { metadata: { name: "n1" } })
      .patch("/api/v1/nodes/n1/status").query(true).matchHeader("content-type", "application/merge-patch+json").reply(200, { metadata: { name: "n1" } });
    const c = client();
    await c.patch(ref, { metadata: { annotations: { a: "b" } } }, "merge");
    await c.patch(ref, [{ op: "add", path: "/metadata/labels/x", value: "y" }], "json");
    await c.patch(ref, { spec: { unschedulable: true } }, "strategic");
    await c.patch(ref, { status: { conditions: [] } }, "merge", { subresource: "status" });
    expect(c.requestCounts()).to.deep.equal({ patch: 4 });
  });

  it("update() re-reads and retries on 409 Conflict", async () => {
    const puts: any[] = [];
    nock(SERVER)
      .get("/apis/coordination.k8s.io/v1/namespaces/ns/leases/l").reply(200, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "ns", resourceVersion: "1" }, spec: {} })
      .put("/apis/coordination.k8s.io/v1/namespaces/ns/leases/l").query(true).reply(409, (_u, b) => {
        puts.push(b);
        return status(409, "Conflict", "the object has been modified");
      })
      .get("/apis/coordination.k8s.io/v1/namespaces/ns/leases/l").reply(200, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "l", namespace: "ns", resourceVersion: "2" }, spec: {} })
      .put("/apis/coordination.k8s.io/v1/namespaces/ns/leases/l").query(true).reply(200, (_u, b) => {
        puts.push(b);
        return b as object;
      });
    const c = client();
    const out = await c.update({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "ns", name: "l" }, (o) => ({ ...o, spec: { holderIdentity: "me" } }), { retry: { delayMs: 1 } });
    expect(puts.map((p) => p.metadata.resourceVersion)).to.deep.equal(["1", "2"]);
    expect(out?.["spec"]).to.deep.equal({ holderIdentity: "me" });
  });

  it("does not retry SSA conflicts and keeps their causes", async () => {
    nock(SERVER)
      .patch("/apis/apps/v1/namespaces/olares-system/deployments/web").query(true)
      .reply(409, status(409, "Conflict", "Apply failed with 1 conflict", [{ reason: "FieldManagerConflict", message: 'conflict with "kubectl"', field: ".spec.replicas" }]));
    const err = (await client().apply(deployment).catch((e: unknown) => e)) as ApiError;
    expect(err).to.be.instanceOf(ApiError);
    expect(err).to.include({ status: 409, reason: "Conflict" });
    expect(err.causes).to.deep.equal([{ reason: "FieldManagerConflict", message: 'conflict with "kubectl"', field: ".spec.replicas" }]);
  });

  it("never puts secret values or credentials into errors", async () => {
    nock(SERVER)
      .patch("/api/v1/namespaces/ns/secrets/pw").query(true)
      .reply(422, status(422, "Invalid", 'Secret "pw" is invalid: data: map[password:hunter2], stringData: {"token":"abc123"}', [{ message: "password=hunter2 rejected", field: "data" }]))
      .get("/api/v1/namespaces/ns/secrets/raw").reply(500, "panic: password=hunter2");
    const c = client();
    const err = (await c.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "pw", namespace: "ns" }, stringData: { password: "hunter2" } }).catch((e: unknown) => e)) as ApiError;
    const text = JSON.stringify({ message: err.message, causes: err.causes, stack: err.stack, request: err.request });
    expect(err.status).to.equal(422);
    expect(text).to.not.include("hunter2");
    expect(text).to.not.include("abc123");
    expect(text).to.not.include(TEST_TOKEN);
    const raw = (await c.get({ apiVersion: "v1", kind: "Secret", namespace: "ns", name: "raw" }).catch((e: unknown) => e)) as ApiError;
    expect(raw).to.include({ status: 500, reason: "InternalError", message: "HTTP 500" });
  });

  it("posts evictions and events to their exact paths", async () => {
    let eviction: unknown;
    nock(SERVER)
      .post("/api/v1/namespaces/ns/pods/p/eviction").reply(201, (_u, b) => {
        eviction = b;
        return {};
      })
      .post("/api/v1/namespaces/ns/pods/gone/eviction").reply(404, status(404, "NotFound", "pods \"gone\" not found"))
      .post("/apis/events.k8s.io/v1/namespaces/ns/events").query({ fieldManager: "olares-operator" }).reply(201, {});
    const c = client();
    await c.evict("ns", "p");
    await c.evict("ns", "gone");
    expect(eviction).to.deep.equal({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p", namespace: "ns" } });
    await c.createEvent({ apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name: "e1", namespace: "ns" } });
    expect(c.requestCounts()).to.deep.equal({ evict: 2, create: 1 });
  });

  it("turns an unreachable server into ApiError status 0 and counts it", async () => {
    nock(SERVER).get("/api/v1/nodes/n").replyWithError("connect ECONNREFUSED");
    const metrics = createMetrics();
    const c = client({ metrics });
    const err = (await c.get({ apiVersion: "v1", kind: "Node", name: "n" }).catch((e: unknown) => e)) as ApiError;
    expect(err).to.include({ status: 0, reason: "ServiceUnavailable" });
    const counter = await metrics.apiRequests.get();
    expect(counter.values.map((v) => [v.labels, v.value])).to.deep.equal([[{ verb: "get", code: "0" }, 1]]);
  });

  it("exports olares_operator_api_requests_total by verb and code", async () => {
    nock(SERVER).get("/api/v1/nodes/a").reply(200, {}).get("/api/v1/nodes/b").reply(404, status(404, "NotFound", "x"));
    const metrics = createMetrics();
    const c = client({ metrics });
    await c.get({ apiVersion: "v1", kind: "Node", name: "a" });
    await c.get({ apiVersion: "v1", kind: "Node", name: "b" });
    const text = await metrics.registry.metrics();
    expect(text).to.include('olares_operator_api_requests_total{verb="get",code="200"} 1');
    expect(text).to.include('olares_operator_api_requests_total{verb="get",code="404"} 1');
  });

  it("holds requests beyond the burst until the token bucket refills (client-side QPS)", async () => {
    const clock = new FakeClock();
    nock(SERVER).get(/\/api\/v1\/nodes\/n\d/).times(4).reply(200, {});
    const c = client({ qps: 2, burst: 2, clock });
    const done: number[] = [];
    const calls = [0, 1, 2, 3].map((i) => c.get({ apiVersion: "v1", kind: "Node", name: `n${i}` }).then(() => done.push(i)));
    await settle();
    expect(done.sort()).to.deep.equal([0, 1]);
    await clock.advance(499);
    await settle();
    expect(done).to.have.length(2);
    await clock.advance(1);
    await settle();
    expect(done).to.have.length(3);
    await clock.advance(500);
    await Promise.all(calls);
    expect(done).to.have.length(4);
  });

  it("retries a throttled request after Retry-After, but hands PDB-refused evictions straight back", async () => {
    const clock = new FakeClock();
    nock(SERVER)
      .get("/api/v1/nodes/n").reply(429, status(429, "TooManyRequests", "slow down"), { "Retry-After": "2" })
      .get("/api/v1/nodes/n").reply(200, { metadata: { name: "n" } })
      .post("/api/v1/namespaces/ns/pods/p/eviction").reply(429, status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget."), { "Retry-After": "10" });
    const c = client({ clock });
    let node: unknown;
    const pending = c.get({ apiVersion: "v1", kind: "Node", name: "n" }).then((n) => (node = n));
    await settle();
    expect(node).to.equal(undefined);
    await clock.advance(2_000);
    await pending;
    expect((node as { metadata: { name: string } }).metadata.name).to.equal("n");
    const err = (await c.evict("ns", "p").catch((e: unknown) => e)) as ApiError;
    expect(err).to.include({ status: 429, retryAfterSeconds: 10 });
    expect(c.requestCounts()).to.deep.equal({ get: 2, evict: 1 });
  });

  it("retryOnConflict gives up after the configured steps and passes other errors through", async () => {
    let calls = 0;
    const conflict = new ApiError(409, "Conflict", "modified");
    const err = await retryOnConflict(async () => {
      calls++;
      throw conflict;
    }, { steps: 3, delayMs: 1 }).catch((e: unknown) => e);
    expect(err).to.equal(conflict);
    expect(calls).to.equal(3);
    calls = 0;
    const other = new ApiError(500, "InternalError", "x");
    expect(await retryOnConflict(async () => {
      calls++;
      throw other;
    }).catch((e: unknown) => e)).to.equal(other);
    expect(calls).to.equal(1);
  });
});
