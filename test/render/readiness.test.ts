import { expect } from "chai";
import type { KubeObject, ObservedState } from "../../operator/src/contract/index.js";
import { daemonSetVerdict, deploymentVerdict, namespaceVerdict, objectsReadiness, statefulSetVerdict } from "../../operator/src/render/readiness.js";
import { render } from "../../operator/src/render/index.js";
import { gpuLabelsReadiness } from "../../operator/src/render/stages/gpu.js";
import { FACTS, spec } from "./fixtures.js";

function workload(kind: string, status: Record<string, unknown>, opts: { generation?: number; replicas?: number } = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: { name: "w", namespace: "ns", generation: opts.generation ?? 2 },
    spec: opts.replicas === undefined ? {} : { replicas: opts.replicas },
    status,
  };
}

function observedOf(objects: KubeObject[]): ObservedState {
  const key = (o: { apiVersion: string; kind: string; name: string; namespace?: string }) => `${o.apiVersion}|${o.kind}|${o.namespace ?? ""}|${o.name}`;
  const map = new Map(objects.map((o) => [key({ ...o, name: o.metadata.name, namespace: o.metadata.namespace }), o]));
  return {
    get: (ref) => map.get(key(ref)),
    list: (apiVersion, kind) => objects.filter((o) => o.apiVersion === apiVersion && o.kind === kind),
  };
}

describe("readiness", () => {
  describe("DaemonSet", () => {
    const ready = { observedGeneration: 2, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberUnavailable: 0 };
    it("is ready when every scheduled pod is ready and updated", () => {
      expect(daemonSetVerdict(workload("DaemonSet", ready)).ready).to.equal(true);
    });
    it("waits for pods that are not ready or not updated", () => {
      expect(daemonSetVerdict(workload("DaemonSet", { ...ready, numberReady: 2 }))).to.include({ ready: false, reason: "DaemonSetRolling" });
      expect(daemonSetVerdict(workload("DaemonSet", { ...ready, updatedNumberScheduled: 1 })).message).to.include("1/3 updated");
    });
    it("waits until the controller observed the latest generation", () => {
      expect(daemonSetVerdict(workload("DaemonSet", { ...ready, observedGeneration: 1 })).ready).to.equal(false);
    });
    it("treats zero scheduled pods as not ready only when required", () => {
      const none = workload("DaemonSet", { observedGeneration: 2, desiredNumberScheduled: 0 });
      expect(daemonSetVerdict(none).ready).to.equal(true);
      expect(daemonSetVerdict(none, { requireScheduled: true })).to.include({ ready: false, reason: "NoNodesScheduled" });
    });
  });

  describe("Deployment", () => {
    // As `kubectl rollout status` decides, on statuses shaped like kube-controller-manager's (absent = 0).
    const done = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };
    it("is ready when every replica is updated and available and no old one is left, for the observed generation", () => {
      expect(deploymentVerdict(workload("Deployment", done, { replicas: 2 }))).to.include({ ready: true, message: "w: 2/2 ready" });
      expect(deploymentVerdict(workload("Deployment", { ...done, observedGeneration: 1 }, { replicas: 2 }))).to.include({ ready: false, message: "w: generation not observed yet" });
    });
    it("waits for new replicas, for old ones a surge keeps, and for availability (minReadySeconds), not just readiness", () => {
      const updating = { observedGeneration: 2, replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 };
      expect(deploymentVerdict(workload("Deployment", updating, { replicas: 2 }))).to.include({ ready: false, message: "w: 1 of 2 new replicas updated" });
      const surged = { observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 };
      expect(deploymentVerdict(workload("Deployment", surged, { replicas: 2 }))).to.include({ ready: false, message: "w: 1 old replicas pending termination" });
      const warming = { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 1 };
      expect(deploymentVerdict(workload("Deployment", warming, { replicas: 2 }))).to.include({ ready: false, message: "w: 1 of 2 updated replicas available" });
      // availableReplicas is omitempty: absent means none yet
      expect(deploymentVerdict(workload("Deployment", { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1 }, { replicas: 1 })).ready).to.equal(false);
    });
    it("a ProgressDeadlineExceeded left from the previous generation does not count until the controller observes the new one", () => {
      const stale = { ...done, observedGeneration: 1, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] };
      expect(deploymentVerdict(workload("Deployment", stale, { replicas: 2 }))).to.include({ ready: false, reason: "DeploymentRolling" });
    });
    it("reports an exceeded progress deadline as degraded", () => {
      const v = deploymentVerdict(
        workload("Deployment", { observedGeneration: 2, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] }),
      );
      expect(v).to.include({ ready: false, degraded: true, reason: "ProgressDeadlineExceeded" });
    });
  });

  describe("StatefulSet", () => {
    it("needs ready replicas and a finished revision update", () => {
      expect(statefulSetVerdict(workload("StatefulSet", { observedGeneration: 2, readyReplicas: 1 })).ready).to.equal(true);
      expect(statefulSetVerdict(workload("StatefulSet", { observedGeneration: 2, readyReplicas: 0 })).ready).to.equal(false);
      expect(
        statefulSetVerdict(workload("StatefulSet", { observedGeneration: 2, readyReplicas: 1, currentRevision: "a", updateRevision: "b" })).ready,
      ).to.equal(false);
    });
  });

  it("Namespace: Active is ready, Terminating is not", () => {
    const ns = (phase: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" }, status: { phase } });
    expect(namespaceVerdict(ns("Active")).ready).to.equal(true);
    expect(namespaceVerdict(ns("Terminating"))).to.include({ ready: false, reason: "NamespaceNotActive" });
  });

  describe("a stage", () => {
    const stage = () => render(spec(), FACTS).stages.find((s) => s.name === "NodeAgent")!;
    it("is not ready while its objects are missing", () => {
      expect(stage().ready(observedOf([]))).to.include({ ready: false, reason: "NotApplied" });
    });
    it("is not ready while an object is at older content (render hash differs)", () => {
      const ds = structuredClone(stage().objects[0]!);
      ds.metadata.annotations = { "olares.com/render-hash": "0000000000" };
      expect(stage().ready(observedOf([ds]))).to.include({ ready: false, reason: "Applying" });
    });
    it("reports each workload as a component", () => {
      const ds = structuredClone(stage().objects[0]!);
      ds.metadata.generation = 1;
      ds.status = { observedGeneration: 1, desiredNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1 };
      const r = stage().ready(observedOf([ds]));
      expect(r.ready).to.equal(true);
      expect(r.components).to.deep.equal([
        { name: "olares-node-agent", stage: "NodeAgent", kind: "DaemonSet", namespace: "olares-system", ready: true, message: "olares-node-agent: 1/1 ready" },
      ]);
    });
    it("objectsReadiness names the first blocking object", () => {
      const objects = render(spec(), FACTS).stages[0]!.objects;
      expect(objectsReadiness("Prerequisites", objects, observedOf([])).message).to.equal("Namespace olares-system not present yet");
    });
  });

  describe("GPU nodes", () => {
    const gpuNode = (name: string, cudaSupported?: "true" | "false"): KubeObject => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "olares.com/gpu.nvidia": "true", ...(cudaSupported ? { "gpu.bytetrade.io/cuda-supported": cudaSupported } : {}) } },
    });
    it("waits until every NVIDIA node carries gpu.bytetrade.io/cuda-supported (what the release's hami selects)", () => {
      expect(gpuLabelsReadiness(observedOf([gpuNode("a", "true"), gpuNode("b")]), false)).to.include({ ready: false, reason: "GPULabelsPending" });
      const r = gpuLabelsReadiness(observedOf([gpuNode("a", "true"), gpuNode("b", "false")]), false);
      expect(r).to.include({ ready: true, reason: "GPUNodesLabelled" });
      expect(r.message).to.equal("1 GPU node(s) labelled for the release's hami: a; b gpu.bytetrade.io/cuda-supported=false (hami skips them)");
    });
    it("gpu.enabled=true with no node whose CUDA is supported is Degraded", () => {
      expect(gpuLabelsReadiness(observedOf([gpuNode("b", "false")]), true)).to.include({ ready: false, reason: "CUDANotSupported", degraded: true });
    });
    it("without GPU nodes: fine for auto, not ready for enabled=true", () => {
      expect(gpuLabelsReadiness(observedOf([]), false).ready).to.equal(true);
      expect(gpuLabelsReadiness(observedOf([]), true)).to.include({ ready: false, reason: "NoGPUNodes" });
    });
  });
});
