import { expect } from "chai";
import { FakeCluster } from "../support/fake-cluster.js";
import { rolloutNodeConfigs } from "../../operator/src/controller/node-rollout.js";
import { forEachLimited, NodeWriteOverlay, NODE_PATCH_BUDGET } from "../../operator/src/controller/node-writes.js";
import { reconcileView } from "../../operator/src/controller/reconcile-view.js";
import { ANNOTATION_ALLOW_REBOOT, ANNOTATION_DESIRED_CONFIG, ANNOTATION_DRIFT_POLICY } from "../../operator/src/contract/index.js";
import type { KubeObject, ObservedState } from "../../operator/src/contract/index.js";
import { annotations, config, context, inFlight, node } from "./helpers.js";

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i).padStart(3, "0")}`);
const tick = () => new Promise((r) => setTimeout(r, 1));

describe("node writes: bounded concurrency, per-reconcile budget, read-your-writes", () => {
  it("forEachLimited keeps at most `limit` calls in flight and runs every item", async () => {
    let inflight = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited(Array.from({ length: 25 }, (_, i) => i), 4, async (i) => {
      inflight++;
      peak = Math.max(peak, inflight);
      await tick();
      inflight--;
      done.push(i);
    });
    expect(peak).to.equal(4);
    expect(done.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 25 }, (_, i) => i));
  });

  it("forEachLimited lets calls in flight settle, starts no new ones, then throws the first error", async () => {
    const started: number[] = [];
    let settled = 0;
    const run = forEachLimited([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      await tick();
      settled++;
      if (i === 0) throw new Error("patch 0 failed");
    });
    const err = await run.then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal("patch 0 failed");
    expect(settled).to.equal(started.length);
    expect(started.length).to.be.below(6);
  });

  it("hands out at most the budget per reconcile, policy in the same patch, and finishes over later reconciles", async () => {
    const fake = new FakeCluster();
    const all = names(NODE_PATCH_BUDGET * 2 + 5);
    all.forEach((n) => fake.seed(node(n)));
    const ctx = context(fake, { rollout: { maxUnavailable: "100%" } });
    const status = await rolloutNodeConfigs(ctx, [config("c1")]);
    const patches = fake.writes().filter((w) => w.verb === "patch");
    expect(patches).to.have.length(NODE_PATCH_BUDGET);
    expect(inFlight(fake)).to.have.length(NODE_PATCH_BUDGET);
    expect(annotations(fake, all[0]!)).to.include({ [ANNOTATION_DESIRED_CONFIG]: "c1", [ANNOTATION_DRIFT_POLICY]: "Report", [ANNOTATION_ALLOW_REBOOT]: "false" });
    expect(status.done).to.equal(false);
    expect(status.message).to.include(`${NODE_PATCH_BUDGET + 5} more node(s) get their config on the next reconcile`);

    fake.resetRequests();
    await rolloutNodeConfigs({ ...ctx, observed: fake.observed() }, [config("c1")]);
    await rolloutNodeConfigs({ ...ctx, observed: fake.observed() }, [config("c1")]);
    expect(inFlight(fake)).to.have.length(all.length);
    // one patch per node in all: the policy travelled with the hand-out
    expect(fake.writes().filter((w) => w.verb === "patch")).to.have.length(all.length - NODE_PATCH_BUDGET);
  });

  it("spends the rest of the budget on policy-only updates when few nodes may be handed out", async () => {
    const fake = new FakeCluster();
    const all = names(NODE_PATCH_BUDGET + 10);
    all.forEach((n) => fake.seed(node(n)));
    const ctx = context(fake, { rollout: { maxUnavailable: 1 } });
    await rolloutNodeConfigs(ctx, [config("c1")]);
    expect(fake.writes().filter((w) => w.verb === "patch")).to.have.length(NODE_PATCH_BUDGET);
    expect(inFlight(fake)).to.have.length(1);
    // the rest over the next reconciles, never more than the budget each
    for (let i = 0; i < 3; i++) {
      fake.resetRequests();
      await rolloutNodeConfigs({ ...ctx, observed: fake.observed() }, [config("c1")]);
      expect(fake.writes().length).to.be.at.most(NODE_PATCH_BUDGET);
    }
    for (const n of all) expect(annotations(fake, n)[ANNOTATION_DRIFT_POLICY]).to.equal("Report");
    expect(inFlight(fake)).to.have.length(1);
  });

  it("reads its own hand-outs on a cache that lags: no repeated patches, in flight stays at maxUnavailable", async () => {
    const fake = new FakeCluster();
    names(6).forEach((n) => fake.seed(node(n)));
    const overlay = new NodeWriteOverlay();
    // a cache frozen before the first reconcile's writes (the watch events are late)
    const frozen = fake.observed().list("v1", "Node").map((n) => structuredClone(n));
    const lagging: ObservedState = { get: () => undefined, list: (av, kind) => (av === "v1" && kind === "Node" ? frozen : []) };
    const ctx = { ...context(fake, { rollout: { maxUnavailable: 2 } }), recordNodeWrite: (b: KubeObject, a: KubeObject) => overlay.record(b, a) };
    await rolloutNodeConfigs({ ...ctx, observed: reconcileView(lagging, overlay) }, [config("c1")]);
    expect(overlay.size).to.equal(6); // 2 hand-outs + 4 policy-only updates
    fake.resetRequests();
    const second = await rolloutNodeConfigs({ ...ctx, observed: reconcileView(lagging, overlay) }, [config("c1")]);
    expect(fake.writes()).to.deep.equal([]);
    expect(second.message).to.match(/^0\/6 nodes updated/);
    expect(inFlight(fake)).to.have.length(2);
    // once the cache shows any newer version of a node, its record is dropped
    const fresh = fake.observed().list("v1", "Node");
    const view = reconcileView({ get: () => undefined, list: () => fresh }, overlay).list("v1", "Node");
    expect(view.filter((n) => n.metadata.annotations?.[ANNOTATION_DESIRED_CONFIG] === "c1")).to.have.length(2);
    expect(overlay.size).to.equal(0);
  });

  it("drops the record of a node that left the cluster", () => {
    const overlay = new NodeWriteOverlay();
    const before = { ...node("gone"), metadata: { ...node("gone").metadata, resourceVersion: "1" } };
    overlay.record(before, { ...before, metadata: { ...before.metadata, resourceVersion: "2" } });
    expect(overlay.apply([node("other")]).map((n) => n.metadata.name)).to.deep.equal(["other"]);
    expect(overlay.size).to.equal(0);
  });
});
