import { expect } from "chai";
import { FakeCluster } from "../support/fake-cluster.js";
import { cleanupNodes, nodeConfigObjects, rolloutNodeConfigs, CLEANUP_AGENT_GRACE_MS } from "../../operator/src/controller/node-rollout.js";
import { resolveMaxUnavailable } from "../../operator/src/controller/node-rollout-plan.js";
import {
  ANNOTATION_ALLOW_REBOOT,
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_DESIRED_CONFIG,
  ANNOTATION_DRIFT_POLICY,
  ANNOTATION_STATE,
  ANNOTATION_WAS_UNSCHEDULABLE,
  CLEANUP_CONFIG,
  decodeNodeConfigMap,
} from "../../operator/src/contract/index.js";
import { agentsStep, annotations, config, context, inFlight, node, setAnnotations } from "./helpers.js";

const seedNodes = (fake: FakeCluster, names: string[]) => names.forEach((n) => fake.seed(node(n)));
const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i).padStart(2, "0")}`);

describe("rolloutNodeConfigs", () => {
  it("rolls 3 nodes with maxUnavailable=1, never more than one node in flight", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, ["a", "b", "c"]);
    const ctx = context(fake, { rollout: { maxUnavailable: 1 } });
    const cfg = config("abc123");
    let status = await rolloutNodeConfigs(ctx, [cfg]);
    let maxSeen = 0;
    for (let step = 0; step < 20 && !status.done; step++) {
      maxSeen = Math.max(maxSeen, inFlight(fake).length);
      expect(status.working).to.be.at.most(1);
      await agentsStep(fake);
      maxSeen = Math.max(maxSeen, inFlight(fake).length);
      status = await rolloutNodeConfigs(ctx, [cfg]);
    }
    expect(maxSeen).to.equal(1);
    expect(status).to.include({ total: 3, updated: 3, working: 0, degraded: 0, done: true, desiredConfig: "abc123" });
    for (const n of ["a", "b", "c"]) expect(annotations(fake, n)[ANNOTATION_CURRENT_CONFIG]).to.equal("abc123");
  });

  it("resolves a percentage maxUnavailable against the selected nodes (rounded down, at least 1)", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, names(10));
    await rolloutNodeConfigs(context(fake, { rollout: { maxUnavailable: "30%" } }), [config("c1")]);
    expect(inFlight(fake)).to.have.length(3);

    const small = new FakeCluster();
    seedNodes(small, names(10));
    await rolloutNodeConfigs(context(small, { rollout: { maxUnavailable: "5%" } }), [config("c1")]);
    expect(inFlight(small)).to.have.length(1);

    expect(resolveMaxUnavailable("50%", 5)).to.equal(2);
    expect(resolveMaxUnavailable(undefined, 5)).to.equal(1);
    expect(resolveMaxUnavailable(0, 5)).to.equal(1);
    expect(() => resolveMaxUnavailable("lots", 5)).to.throw(/spec\.nodes\.rollout\.maxUnavailable/);
    expect(() => resolveMaxUnavailable("150%", 5)).to.throw(/percentage/);
  });

  it("stops on a Degraded node, names it with its reason, and retargets it first when the config is fixed", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, ["a", "b", "c"]);
    const ctx = context(fake, {});
    const bad = config("bad111");
    const failB = (n: string, desired: string) => (n === "b" && desired === "bad111" ? "Task dns/resolv.conf failed: boom" : undefined);
    let status = await rolloutNodeConfigs(ctx, [bad]);
    for (let step = 0; step < 10; step++) {
      await agentsStep(fake, failB);
      status = await rolloutNodeConfigs(ctx, [bad]);
    }
    expect(status.done).to.equal(false);
    expect(status.degradedNodes).to.deep.equal([{ name: "b", reason: "Task dns/resolv.conf failed: boom" }]);
    expect(status.message).to.match(/degraded: b \(Task dns\/resolv\.conf failed: boom\)/).and.match(/rollout stopped/);
    expect(annotations(fake, "a")[ANNOTATION_CURRENT_CONFIG]).to.equal("bad111");
    expect(annotations(fake, "c")[ANNOTATION_DESIRED_CONFIG]).to.equal(undefined);

    const fixed = config("good22");
    status = await rolloutNodeConfigs(ctx, [fixed]);
    expect(["a", "b", "c"].map((n) => annotations(fake, n)[ANNOTATION_DESIRED_CONFIG])).to.deep.equal(["bad111", "good22", undefined]);
    for (let step = 0; step < 20 && !status.done; step++) {
      expect(inFlight(fake).length).to.be.at.most(1);
      await agentsStep(fake, failB);
      status = await rolloutNodeConfigs(ctx, [fixed]);
    }
    expect(status).to.include({ done: true, updated: 3, degraded: 0 });
  });

  it("hands out nothing while paused and resumes when unpaused", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, ["a", "b"]);
    const paused = await rolloutNodeConfigs(context(fake, { rollout: { paused: true } }), [config("p1")]);
    expect(inFlight(fake)).to.deep.equal([]);
    expect(paused.done).to.equal(false);
    expect(paused.message).to.match(/paused/);
    await rolloutNodeConfigs(context(fake, { rollout: { paused: false } }), [config("p1")]);
    expect(inFlight(fake)).to.deep.equal(["a"]);
  });

  it("lets nodes already handed a config finish while paused", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, ["a", "b"]);
    await rolloutNodeConfigs(context(fake, {}), [config("p2")]);
    await agentsStep(fake);
    await agentsStep(fake);
    const status = await rolloutNodeConfigs(context(fake, { rollout: { paused: true } }), [config("p2")]);
    expect(status).to.include({ updated: 1, total: 2, done: false });
    expect(annotations(fake, "b")[ANNOTATION_DESIRED_CONFIG]).to.equal(undefined);
  });

  it("leaves nodes with the skip label (default or custom) and nodes outside the selector alone", async () => {
    const fake = new FakeCluster();
    fake.seed(node("a", { labels: { role: "olares" } }));
    fake.seed(node("b", { labels: { role: "olares", "olares.com/skip-config": "true" } }));
    fake.seed(node("c", { labels: { role: "other" } }));
    fake.seed(node("d", { labels: { role: "olares", "example.com/hands-off": "true" } }));
    const status = await rolloutNodeConfigs(context(fake, { selector: { role: "olares" }, rollout: { maxUnavailable: 10 } }), [config("s1")]);
    expect(status.total).to.equal(2);
    expect(inFlight(fake)).to.deep.equal(["a", "d"]);
    expect(annotations(fake, "b")).to.deep.equal({});
    expect(annotations(fake, "c")).to.deep.equal({});

    const custom = new FakeCluster();
    custom.seed(node("a"));
    custom.seed(node("d", { labels: { "example.com/hands-off": "true" } }));
    await rolloutNodeConfigs(context(custom, { skipLabel: "example.com/hands-off", rollout: { maxUnavailable: 10 } }), [config("s1")]);
    expect(inFlight(custom)).to.deep.equal(["a"]);
  });

  it("gives NVIDIA nodes the nvidia group's config and others the default", async () => {
    const fake = new FakeCluster();
    fake.seed(node("cpu"));
    fake.seed(node("gpu", { labels: { "olares.com/gpu.nvidia": "true" } }));
    const status = await rolloutNodeConfigs(context(fake, { rollout: { maxUnavailable: 2 } }), [config("dflt1"), config("nvid1", "nvidia")]);
    expect(annotations(fake, "cpu")[ANNOTATION_DESIRED_CONFIG]).to.equal("dflt1");
    expect(annotations(fake, "gpu")[ANNOTATION_DESIRED_CONFIG]).to.equal("nvid1");
    expect(status.desiredConfig).to.equal("default=dflt1,nvidia=nvid1");
  });

  it("counts a NotReady node as unavailable", async () => {
    const fake = new FakeCluster();
    fake.seed(node("a", { ready: false }));
    fake.seed(node("b"));
    fake.seed(node("c"));
    await rolloutNodeConfigs(context(fake, { rollout: { maxUnavailable: 1 } }), [config("r1")]);
    expect(inFlight(fake)).to.deep.equal([]);
    await rolloutNodeConfigs(context(fake, { rollout: { maxUnavailable: 2 } }), [config("r1")]);
    expect(inFlight(fake)).to.deep.equal(["b"]);
  });

  it("copies drift and reboot policy onto every selected node, writing only on change", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, ["a", "b"]);
    await rolloutNodeConfigs(context(fake, { driftPolicy: "Heal", rollout: { allowReboot: true, paused: true } }), [config("x1")]);
    expect(annotations(fake, "b")).to.include({ [ANNOTATION_DRIFT_POLICY]: "Heal", [ANNOTATION_ALLOW_REBOOT]: "true" });
    fake.resetRequests();
    await rolloutNodeConfigs(context(fake, { driftPolicy: "Heal", rollout: { allowReboot: true, paused: true } }), [config("x1")]);
    expect(fake.changingWrites()).to.deep.equal([]);
    await rolloutNodeConfigs(context(fake, { rollout: { paused: true } }), [config("x1")]);
    expect(annotations(fake, "a")).to.include({ [ANNOTATION_DRIFT_POLICY]: "Report", [ANNOTATION_ALLOW_REBOOT]: "false" });
  });

  it("reports reboot-gated nodes separately and tells how to proceed", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, ["a", "b"]);
    const ctx = context(fake, {});
    const cfg = config("rb1", "default", "reboot");
    await rolloutNodeConfigs(ctx, [cfg]);
    await agentsStep(fake, () => "RebootRequired: config rb1 needs a reboot for f-rb1");
    await agentsStep(fake, () => "RebootRequired: config rb1 needs a reboot for f-rb1");
    const status = await rolloutNodeConfigs(ctx, [cfg]);
    expect(status.rebootRequired).to.deep.equal(["a"]);
    expect(status.done).to.equal(false);
    expect(status.message).to.match(/allowReboot=true/);
    expect(annotations(fake, "b")[ANNOTATION_DESIRED_CONFIG]).to.equal(undefined);
  });

  it("is done immediately with no configs and with no selected nodes", async () => {
    const fake = new FakeCluster();
    seedNodes(fake, ["a"]);
    expect((await rolloutNodeConfigs(context(fake, {}), [])).done).to.equal(true);
    expect((await rolloutNodeConfigs(context(fake, { selector: { none: "x" } }), [config("n1")])).done).to.equal(true);
  });
});

describe("nodeConfigObjects", () => {
  it("renders one immutable ConfigMap per distinct config that decodes back to it", () => {
    const a = config("aaa111");
    const objs = nodeConfigObjects([a, { ...a, group: "nvidia" }, config("bbb222", "nvidia")], { "olares.com/installation": "olares" });
    expect(objs.map((o) => o.metadata.name)).to.deep.equal(["olares-node-config-aaa111", "olares-node-config-bbb222"]);
    expect(objs[0]).to.include({ immutable: true });
    expect(objs[0]!.metadata).to.include({ namespace: "olares-system" });
    expect(objs[0]!.metadata.labels).to.include({ "olares.com/installation": "olares" });
    expect(decodeNodeConfigMap(objs[0]!, "aaa111")).to.deep.equal(a);
    expect(() => decodeNodeConfigMap(objs[0]!, "other")).to.throw(/expected "other"/);
    expect(() => nodeConfigObjects([config("Not_A_Label")])).to.throw(/lowercase DNS label/);
  });
});

describe("cleanupNodes", () => {
  it("asks configured nodes to clean up maxUnavailable at a time, then removes the handshake", async () => {
    const fake = new FakeCluster();
    const configured = { [ANNOTATION_DESIRED_CONFIG]: "c1", [ANNOTATION_CURRENT_CONFIG]: "c1", [ANNOTATION_STATE]: "Done" };
    fake.seed(node("a", { annotations: configured }));
    fake.seed(node("b", { annotations: configured }));
    fake.seed(node("fresh"));
    const ctx = context(fake, { rollout: { paused: true } });
    let result = await cleanupNodes(ctx);
    expect(result.done).to.equal(false);
    expect(inFlight(fake)).to.deep.equal(["a"]);
    for (let step = 0; step < 10 && !result.done; step++) {
      expect(inFlight(fake).length).to.be.at.most(1);
      await agentsStep(fake);
      result = await cleanupNodes(ctx);
    }
    expect(result.done).to.equal(true);
    expect(result.message).to.match(/2 node/);
    for (const n of ["a", "b", "fresh"]) expect(annotations(fake, n)).to.deep.equal({});
  });

  it("gives up on a node without an agent pod after the grace period, uncordoning only what we cordoned", async () => {
    const fake = new FakeCluster();
    fake.seed(
      node("dead", {
        ready: false,
        unschedulable: true,
        annotations: { [ANNOTATION_DESIRED_CONFIG]: "c1", [ANNOTATION_CURRENT_CONFIG]: "c0", [ANNOTATION_STATE]: "Working", [ANNOTATION_WAS_UNSCHEDULABLE]: "false" },
      }),
    );
    let now = new Date("2026-01-01T00:00:00Z");
    const ctx = context(fake, {}, () => now);
    expect((await cleanupNodes(ctx)).done).to.equal(false);
    expect(annotations(fake, "dead")[ANNOTATION_DESIRED_CONFIG]).to.equal(CLEANUP_CONFIG);
    now = new Date(now.getTime() + CLEANUP_AGENT_GRACE_MS / 2);
    expect((await cleanupNodes(ctx)).done).to.equal(false);
    now = new Date(now.getTime() + CLEANUP_AGENT_GRACE_MS);
    const result = await cleanupNodes(ctx);
    expect(result).to.deep.include({ done: true });
    expect(result.message).to.match(/gave up on dead/);
    const dead = fake.peek({ apiVersion: "v1", kind: "Node", name: "dead" })!;
    expect(dead["spec"]).to.deep.equal({});
    expect(dead.metadata.annotations ?? {}).to.deep.equal({});
  });

  it("keeps waiting while an agent pod runs on the node", async () => {
    const fake = new FakeCluster();
    fake.seed(node("a", { annotations: { [ANNOTATION_DESIRED_CONFIG]: CLEANUP_CONFIG, [ANNOTATION_CURRENT_CONFIG]: "c1", [ANNOTATION_STATE]: "Working", "olares.com/cleanup-requested-at": "2025-01-01T00:00:00Z" } }));
    fake.seed({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "olares-node-agent-x", namespace: "olares-system", labels: { "app.kubernetes.io/name": "olares-node-agent" } },
      spec: { nodeName: "a" },
    });
    const result = await cleanupNodes(context(fake, {}));
    expect(result.done).to.equal(false);
    expect(result.message).to.match(/waiting for a/);
    await setAnnotations(fake, "a", { [ANNOTATION_CURRENT_CONFIG]: CLEANUP_CONFIG, [ANNOTATION_STATE]: "Done" });
    expect((await cleanupNodes(context(fake, {}))).done).to.equal(true);
  });
});
