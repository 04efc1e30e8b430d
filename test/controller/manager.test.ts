import { templateReleaseRuntime } from "../support/template-helm.js";
import { expect } from "chai";
import { harness } from "./harness.js";
import { Manager } from "../../operator/src/controller/manager.js";
import { API_VERSION, KIND } from "../../operator/src/contract/index.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

// The Olares release goes in through real helm rendering (10 charts): allow for it.
const TIMEOUT_MS = 30000;

async function until(what: string, fn: () => boolean, tick?: () => void): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    tick?.();
    await new Promise((r) => setTimeout(r, 10));
  }
}

const phase = (cr: KubeObject | undefined) => (cr?.status as { phase?: string } | undefined)?.phase;

describe("Manager", function () {
  this.timeout(TIMEOUT_MS * 2);

  it("informers → workqueue → reconcile: drives the CR to Ready, then stops cleanly", async () => {
    const h = harness();
    const manager = new Manager({ client: h.cluster, operatorImage: "img:test", namespace: "olares-operator", progressRequeueMs: 20, release: templateReleaseRuntime(h.cluster) });
    await manager.start();
    try {
      await until("Ready", () => phase(h.cr()) === "Ready", () => (h.rollOutWorkloads(), h.activateOwner()));
      expect(manager.isLeader()).to.equal(true);
      expect(manager.ready()).to.equal(true);
    } finally {
      await manager.stop();
    }
    const writes = h.cluster.writes().length;
    h.cluster.seed({ ...h.cr(), spec: { ...(h.cr().spec as object), gpu: { enabled: "false" } } });
    await new Promise((r) => setTimeout(r, 50));
    expect(h.cluster.writes().length, "a stopped manager writes nothing").to.equal(writes);
  });

  it("reacts to a spec change (event-driven) and to owned objects being deleted", async () => {
    const h = harness();
    const manager = new Manager({ client: h.cluster, operatorImage: "img:test", namespace: "olares-operator", progressRequeueMs: 20, release: templateReleaseRuntime(h.cluster) });
    await manager.start();
    try {
      await until("Ready", () => phase(h.cr()) === "Ready", () => (h.rollOutWorkloads(), h.activateOwner()));
      const gpuDisabled = () => ((h.cr().status as { conditions?: Array<{ type: string; reason: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "GPUReady" && c.reason === "Disabled");
      expect(gpuDisabled()).to.equal(false);
      h.cluster.seed({ ...h.cr(), spec: { ...(h.cr().spec as object), gpu: { enabled: "false" } } });
      await until("the GPU stage reported disabled", gpuDisabled);
      const cm = { apiVersion: "v1", kind: "ConfigMap", name: "local-path-config", namespace: "olares-system" };
      await h.cluster.delete(cm);
      // gpu.enabled=false changes the node config (olaresd.service.env LOCAL_GPU_ENABLE=0): the agents apply it first.
      await until("ConfigMap re-created", () => h.cluster.peek(cm) !== undefined, () => (h.agentsApply(), h.rollOutWorkloads()));
    } finally {
      await manager.stop();
    }
  });

  it("with leader election only the lease holder reconciles; a standby takes over when it stops", async () => {
    const h = harness();
    const election = { leaseDurationMs: 1000, renewDeadlineMs: 500, retryPeriodMs: 100 };
    const a = new Manager({ client: h.cluster, operatorImage: "img:test", namespace: "olares-operator", leaderElection: { identity: "a", ...election }, progressRequeueMs: 20, release: templateReleaseRuntime(h.cluster) });
    await a.start();
    await until("a leads", () => a.isLeader());
    const b = new Manager({ client: h.cluster, operatorImage: "img:test", namespace: "olares-operator", leaderElection: { identity: "b", ...election }, progressRequeueMs: 20, release: templateReleaseRuntime(h.cluster) });
    await b.start();
    try {
      await until("Ready", () => phase(h.cr()) === "Ready", () => (h.rollOutWorkloads(), h.activateOwner()));
      expect(b.isLeader()).to.equal(false);
      const lease = h.cluster.peek({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: "olares-operator", namespace: "olares-operator" });
      expect((lease?.spec as { holderIdentity?: string }).holderIdentity).to.equal("a");
      await a.stop();
      await until("b leads", () => b.isLeader());
      h.cluster.seed({ ...h.cr(), spec: { ...(h.cr().spec as object), gpu: { enabled: "false" } } });
      await until("b reconciles", () => ((h.cr().status as { conditions?: Array<{ type: string; reason: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "GPUReady" && c.reason === "Disabled"));
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("a second CR created later is Ignored; deleting the first hands over to it", async () => {
    const h = harness();
    const manager = new Manager({ client: h.cluster, operatorImage: "img:test", namespace: "olares-operator", progressRequeueMs: 20, release: templateReleaseRuntime(h.cluster) });
    await manager.start();
    try {
      await until("Ready", () => phase(h.cr()) === "Ready", () => (h.rollOutWorkloads(), h.activateOwner()));
      h.clock.t += 60_000;
      h.cluster.seed({ apiVersion: API_VERSION, kind: KIND, metadata: { name: "second", creationTimestamp: "2027-01-01T00:00:00Z" }, spec: h.cr().spec });
      await until("second Ignored", () => phase(h.cr("second")) === "Ignored");
      await h.cluster.delete({ apiVersion: API_VERSION, kind: KIND, name: "olares" });
      await until("first gone", () => h.cluster.peek({ apiVersion: API_VERSION, kind: KIND, name: "olares" }) === undefined, () => h.agentsApply());
      await until("second takes over", () => phase(h.cr("second")) === "Ready", () => (h.rollOutWorkloads(), h.activateOwner()));
    } finally {
      await manager.stop();
    }
  });
});
