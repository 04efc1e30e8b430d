// Writes until Ready stay within objects + stages + 5: one status write per reconcile at most, none
// repeated while the informer cache still shows the CR from before our own write, and one Event per
// phase change, never the same Event twice.
import { expect } from "chai";
import { FakeCluster } from "../support/fake-cluster.js";
import { Reconciler } from "../../operator/src/controller/reconciler.js";
import { API_VERSION, KIND, type KubeObject, type ObjectRef, type ObservedState } from "../../operator/src/contract/index.js";
import { harness, installation, kubeSystemNamespace, node, TEST_IMAGE } from "./harness.js";
import { STAGE_REGISTRY } from "../../operator/src/render/index.js";

/** An informer cache that lags: the CR is served as it was until `catchUp()`. */
function laggingView(cluster: FakeCluster): ObservedState & { catchUp(): void } {
  const live = cluster.observed();
  let frozen: KubeObject | undefined;
  return {
    get(ref: ObjectRef) {
      if (ref.kind === KIND) return frozen ?? live.get(ref);
      return live.get(ref);
    },
    list: (apiVersion, kind, namespace) => (kind === KIND && frozen ? [frozen] : live.list(apiVersion, kind, namespace)),
    catchUp() {
      frozen = structuredClone(live.get({ apiVersion: API_VERSION, kind: KIND, name: "olares" }));
    },
  };
}

describe("operator writes", () => {
  it("a stale cache does not make the reconciler write the same status or Event again", async () => {
    const cluster = new FakeCluster(() => new Date("2026-01-01T00:00:00Z"));
    cluster.seed(kubeSystemNamespace());
    cluster.seed(node("node-1"));
    // paused: nothing progresses between reconciles, so every later status equals the first one
    cluster.seed(installation("olares", { version: "1.12.1", owner: { username: "alice" }, paused: true }));
    const view = laggingView(cluster);
    view.catchUp(); // the cache holds the CR without status, and keeps serving it
    const r = new Reconciler({ client: cluster, observed: view, operatorImage: TEST_IMAGE, now: () => new Date("2026-01-01T00:00:00Z") });
    await r.reconcile("olares");
    const statusWrites = () => cluster.writes().filter((w) => w.verb === "applyStatus").length;
    expect(statusWrites()).to.equal(1);
    const events = cluster.events.length;
    await r.reconcile("olares");
    await r.reconcile("olares");
    expect(statusWrites(), "no repeated status write").to.equal(1);
    expect(cluster.events.length, "no repeated Event").to.equal(events);
    view.catchUp(); // the cache catches up: still nothing to write
    await r.reconcile("olares");
    expect(statusWrites()).to.equal(1);
  });

  it("writes until Ready ≤ objects + stages + 5 (examples-like install, one node)", async () => {
    const h = harness();
    await h.converge();
    const writes = h.cluster.writes();
    const applies = writes.filter((w) => w.verb === "apply").length;
    // The release's create-only objects (SystemEnvs, user-env, the release randoms), as the installer creates them.
    // So are velero's (what `velero install` creates, its backup location, then PatchVelero once).
    const isVelero = (w: (typeof writes)[number]) => /(^|\.|-)velero(\.|-|$)/.test(w.ref.name) || w.ref.kind === "BackupStorageLocation";
    const releaseCreates = writes.filter((w) => (w.verb === "create" && (w.ref.kind === "SystemEnv" || w.ref.name === "user-env" || w.ref.name === "olares-release-randoms" || isVelero(w))) || (w.verb === "patch" && w.ref.kind === "Deployment" && w.ref.name === "velero")).length;
    // Plus one status write per wait inside the release (app-service before the launcher, bfl before the apps, activation).
    const budget = applies + STAGE_REGISTRY.length + 5 + releaseCreates + 3;
    expect(writes.length, writes.filter((w) => w.verb !== "apply").map((w) => `${w.verb} ${w.ref.kind}/${w.ref.name}`).join(", ")).to.be.at.most(budget);
    expect(h.cluster.events.map((e) => e.reason)).to.deep.equal(["Installing", "Ready"]);
  });
});
