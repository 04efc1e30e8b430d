import { expect } from "chai";
import { FakeCluster } from "../support/fake-cluster.js";
import { ApiError } from "../../operator/src/kube/errors.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { cordonNode, drainNode, releaseCordon } from "../../operator/src/agent/drain.js";
import { ANNOTATION_WAS_UNSCHEDULABLE } from "../../operator/src/contract/index.js";
import { node } from "./helpers.js";

function pod(name: string, namespace: string, nodeName: string, extra: { owner?: string; mirror?: boolean } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace,
      ...(extra.owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: extra.owner, name: `${name}-owner`, uid: `uid-${name}`, controller: true }] } : {}),
      ...(extra.mirror ? { annotations: { "kubernetes.io/config.mirror": "abc" } } : {}),
    },
    spec: { nodeName },
    status: { phase: "Running" },
  };
}

const nodeObj = (fake: FakeCluster, name: string) => fake.peek({ apiVersion: "v1", kind: "Node", name })!;
const podNames = (fake: FakeCluster) =>
  fake
    .observed()
    .list("v1", "Pod")
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();

describe("drain", () => {
  it("evicts only what kubectl drain would: not DaemonSet, mirror or agent-namespace pods, not other nodes' pods", async () => {
    const fake = new FakeCluster();
    fake.seed(node("a"));
    fake.seed(pod("web", "apps", "a", { owner: "ReplicaSet" }));
    fake.seed(pod("bare", "apps", "a"));
    fake.seed(pod("ds", "kube-system", "a", { owner: "DaemonSet" }));
    fake.seed(pod("etcd-a", "kube-system", "a", { mirror: true }));
    fake.seed(pod("olares-node-agent-x", "olares-system", "a", { owner: "DaemonSet" }));
    fake.seed(pod("plugin", "olares-system", "a", { owner: "ReplicaSet" }));
    fake.seed(pod("elsewhere", "apps", "b", { owner: "ReplicaSet" }));
    const result = await drainNode(fake, "a", { skipNamespaces: ["olares-system"], pollMs: 1 });
    expect(result.evicted).to.deep.equal(["apps/bare", "apps/web"]);
    expect(result.skipped.map((s) => s.pod).sort()).to.deep.equal(["kube-system/ds", "kube-system/etcd-a", "olares-system/olares-node-agent-x", "olares-system/plugin"]);
    expect(fake.requests.filter((r) => r.verb === "evict").map((r) => r.ref.name).sort()).to.deep.equal(["bare", "web"]);
    expect(podNames(fake)).to.deep.equal(["apps/elsewhere", "kube-system/ds", "kube-system/etcd-a", "olares-system/olares-node-agent-x", "olares-system/plugin"]);
  });

  it("retries evictions refused by a PodDisruptionBudget (429) until they pass", async () => {
    const fake = new FakeCluster();
    fake.seed(pod("db", "apps", "a", { owner: "StatefulSet" }));
    fake.injectFault({ verb: "evict", name: "db" }, new ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget."), 3);
    const result = await drainNode(fake, "a", { skipNamespaces: [], retryDelayMs: 1, pollMs: 1 });
    expect(result.evicted).to.deep.equal(["apps/db"]);
    expect(fake.requests.filter((r) => r.verb === "evict")).to.have.length(4);
  });

  it("fails with the blocked pod named when the budget never allows it within the timeout", async () => {
    const fake = new FakeCluster();
    fake.seed(pod("db", "apps", "a", { owner: "StatefulSet" }));
    fake.injectFault({ verb: "evict", name: "db" }, new ApiError(429, "TooManyRequests", "disruption budget"), 1000);
    let error: Error | undefined;
    await drainNode(fake, "a", { skipNamespaces: [], retryDelayMs: 5, timeoutMs: 40 }).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/drain of node a incomplete: evicting apps\/db: blocked by a PodDisruptionBudget/);
    expect(podNames(fake)).to.deep.equal(["apps/db"]);
  });

  it("waits until an evicted pod is really gone", async () => {
    const fake = new FakeCluster();
    fake.seed(pod("slow", "apps", "a", { owner: "ReplicaSet" }));
    // Eviction accepted, but the pod terminates later (grace period): the fake deletes it after a few polls.
    const original = fake.evict.bind(fake);
    let gets = 0;
    fake.evict = async () => undefined;
    const realList = fake.list.bind(fake);
    fake.list = async (apiVersion, kind, opts) => {
      if (kind === "Pod" && opts?.fieldSelector === "metadata.name=slow" && ++gets === 3) await original("apps", "slow");
      return realList(apiVersion, kind, opts);
    };
    const result = await drainNode(fake, "a", { skipNamespaces: [], pollMs: 1 });
    expect(result.evicted).to.deep.equal(["apps/slow"]);
    expect(gets).to.equal(3);
  });

  it("cordon records prior schedulability; release uncordons only a node we cordoned", async () => {
    const fake = new FakeCluster();
    fake.seed(node("ours"));
    fake.seed(node("theirs", { unschedulable: true }));
    for (const name of ["ours", "theirs"]) await cordonNode(fake, nodeObj(fake, name));
    expect(nodeObj(fake, "ours").metadata.annotations?.[ANNOTATION_WAS_UNSCHEDULABLE]).to.equal("false");
    expect(nodeObj(fake, "theirs").metadata.annotations?.[ANNOTATION_WAS_UNSCHEDULABLE]).to.equal("true");
    // A second cordon (agent restarted mid-drain) must not overwrite the record with "true".
    await cordonNode(fake, nodeObj(fake, "ours"));
    expect(nodeObj(fake, "ours").metadata.annotations?.[ANNOTATION_WAS_UNSCHEDULABLE]).to.equal("false");

    expect(await releaseCordon(fake, nodeObj(fake, "ours"))).to.equal(true);
    expect(await releaseCordon(fake, nodeObj(fake, "theirs"))).to.equal(false);
    expect(nodeObj(fake, "ours")["spec"]).to.deep.equal({});
    expect(nodeObj(fake, "theirs")["spec"]).to.deep.equal({ unschedulable: true });
    expect(nodeObj(fake, "ours").metadata.annotations ?? {}).to.not.have.property(ANNOTATION_WAS_UNSCHEDULABLE);
    // Without our record, release never touches the node.
    expect(await releaseCordon(fake, nodeObj(fake, "theirs"))).to.equal(false);
    expect(nodeObj(fake, "theirs")["spec"]).to.deep.equal({ unschedulable: true });
  });
});
