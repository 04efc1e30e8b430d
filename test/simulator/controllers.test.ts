import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { GPU_PRESENT_LABEL } from "../sim/controllers/nodes.js";
import { startSimulator } from "../sim/server.js";
import type { KObj } from "../sim/types.js";
import { eventually, raw, sleep, startBed, type Bed } from "./helpers.js";

const podTemplate = (app: string, extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: app, image: `${app}:1` }], ...extra },
});
const deployment = (name: string, replicas: number, image = `${name}:1`): KObj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "default" },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } } },
});

describe("simulator: node and workload stand-ins", () => {
  let bed: Bed;
  let apps: k8s.AppsV1Api;
  before(async () => {
    bed = await startBed({ nodes: 4, gpuNodes: 2 });
    apps = bed.kc.makeApiClient(k8s.AppsV1Api);
    await bed.sim.settle();
  });
  after(() => bed.sim.stop());

  const pods = (labelSelector: string) => bed.sim.api.list(bed.sim.api.registry.get("", "pods")!, "default", { labelSelector }).items;
  const ready = (p: KObj) => (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

  it("creates N Ready nodes with capacity, GPU labels on some, and the control-plane taint on node 0", async () => {
    const nodes = (await bed.core.listNode()).items;
    expect(nodes.map((n) => n.metadata!.name)).to.deep.equal(["sim-node-0", "sim-node-1", "sim-node-2", "sim-node-3"]);
    for (const n of nodes) {
      expect(n.status!.conditions!.find((c) => c.type === "Ready")!.status).to.equal("True");
      expect(n.status!.capacity!.cpu).to.equal("8");
    }
    expect(nodes[0].spec!.taints).to.deep.equal([{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
    expect(nodes.filter((n) => n.metadata!.labels![GPU_PRESENT_LABEL] === "true").map((n) => n.metadata!.name)).to.deep.equal(["sim-node-1", "sim-node-2"]);
    expect(nodes[1].status!.capacity!["nvidia.com/gpu"], "no GPU capacity before the device plugin runs").to.equal(undefined);
  });

  it("Deployment → ReplicaSet → Pods, Ready, with the status fields the deployment controller writes", async () => {
    await bed.objects.create(deployment("web", 3) as never);
    await bed.sim.settle();
    const d = await apps.readNamespacedDeployment({ namespace: "default", name: "web" });
    expect(d.status).to.deep.include({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(d.status!.conditions!.map((c) => `${c.type}=${c.status}:${c.reason}`)).to.deep.equal(["Available=True:MinimumReplicasAvailable", "Progressing=True:NewReplicaSetAvailable"]);
    const rs = (await apps.listNamespacedReplicaSet({ namespace: "default", labelSelector: "app=web" })).items;
    expect(rs).to.have.length(1);
    expect(rs[0].metadata!.ownerReferences![0]).to.include({ kind: "Deployment", name: "web", controller: true, blockOwnerDeletion: true });
    const ps = pods("app=web");
    expect(ps).to.have.length(3);
    expect(ps.every(ready)).to.equal(true);
    expect(ps.every((p) => p.spec.nodeName && p.spec.nodeName !== "sim-node-0"), "the control-plane taint keeps pods off node 0").to.equal(true);
  });

  it("rolls a Deployment to a new template: new ReplicaSet, old scaled to 0", async () => {
    await raw(bed.sim, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", { spec: { template: { spec: { containers: [{ name: "web", image: "web:2" }] } } } }, { "Content-Type": "application/strategic-merge-patch+json" });
    await bed.sim.settle();
    const d = await apps.readNamespacedDeployment({ namespace: "default", name: "web" });
    expect(d.status).to.deep.include({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3 });
    const rs = (await apps.listNamespacedReplicaSet({ namespace: "default", labelSelector: "app=web" })).items;
    expect(rs.map((r) => r.spec!.replicas).sort()).to.deep.equal([0, 3]);
    expect(pods("app=web").every((p) => p.spec.containers[0].image === "web:2")).to.equal(true);
  });

  it("StatefulSet creates ordinal pods in order and reports revisions", async () => {
    await bed.objects.create({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "default" }, spec: { replicas: 3, serviceName: "db", selector: { matchLabels: { app: "db" } }, template: podTemplate("db") } } as never);
    await bed.sim.settle();
    const s = await apps.readNamespacedStatefulSet({ namespace: "default", name: "db" });
    expect(pods("app=db").map((p) => p.metadata.name).sort()).to.deep.equal(["db-0", "db-1", "db-2"]);
    expect(s.status).to.deep.include({ observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    expect(s.status!.currentRevision).to.equal(s.status!.updateRevision);
  });

  it("DaemonSet runs one pod per matching node, honouring nodeSelector and taints", async () => {
    await bed.objects.create({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent", namespace: "default" }, spec: { selector: { matchLabels: { app: "agent" } }, template: podTemplate("agent", { tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }] }) } } as never);
    await bed.objects.create({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "gpu", namespace: "default" }, spec: { selector: { matchLabels: { app: "gpu" } }, template: podTemplate("gpu", { nodeSelector: { [GPU_PRESENT_LABEL]: "true" } }) } } as never);
    await bed.objects.create({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "workers", namespace: "default" }, spec: { selector: { matchLabels: { app: "workers" } }, template: podTemplate("workers") } } as never);
    await bed.sim.settle();
    const nodesOf = (app: string) => pods(`app=${app}`).map((p) => p.spec.nodeName).sort();
    expect(nodesOf("agent")).to.deep.equal(["sim-node-0", "sim-node-1", "sim-node-2", "sim-node-3"]);
    expect(nodesOf("gpu")).to.deep.equal(["sim-node-1", "sim-node-2"]);
    expect(nodesOf("workers")).to.deep.equal(["sim-node-1", "sim-node-2", "sim-node-3"]);
    const ds = await apps.readNamespacedDaemonSet({ namespace: "default", name: "agent" });
    expect(ds.status).to.deep.include({ desiredNumberScheduled: 4, currentNumberScheduled: 4, numberReady: 4, updatedNumberScheduled: 4, numberAvailable: 4, numberMisscheduled: 0, observedGeneration: 1 });
    await bed.kubectlOk(["label", "node", "sim-node-3", `${GPU_PRESENT_LABEL}=true`]);
    await bed.sim.settle();
    expect(nodesOf("gpu")).to.deep.equal(["sim-node-1", "sim-node-2", "sim-node-3"]);
  });

  it("DaemonSet rolling update replaces pods and reaches updatedNumberScheduled", async () => {
    await raw(bed.sim, "PATCH", "/apis/apps/v1/namespaces/default/daemonsets/agent", { spec: { template: { metadata: { labels: { app: "agent", rev: "2" } } } } }, { "Content-Type": "application/merge-patch+json" });
    await eventually(async () => {
      await bed.sim.settle();
      const s = (await apps.readNamespacedDaemonSet({ namespace: "default", name: "agent" })).status!;
      return s.observedGeneration === 2 && s.updatedNumberScheduled === 4 && s.numberReady === 4;
    }, 3000, "rollout");
    expect(pods("app=agent").every((p) => p.metadata.labels!.rev === "2")).to.equal(true);
  });

  it("Job pods succeed and the Job gets succeeded + Complete", async () => {
    await bed.objects.create({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "once", namespace: "default" }, spec: { completions: 2, parallelism: 1, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "c:1" }] } } } } as never);
    await eventually(async () => {
      await bed.sim.settle();
      return bed.sim.api.get(bed.sim.api.registry.get("batch", "jobs")!, "default", "once").status?.succeeded === 2;
    }, 3000, "job completion");
    const job = bed.sim.api.get(bed.sim.api.registry.get("batch", "jobs")!, "default", "once");
    expect(job.status.conditions.map((c: any) => c.type)).to.deep.equal(["SuccessCriteriaMet", "Complete"]);
    expect(job.status.completionTime).to.be.a("string");
    const out = await bed.kubectlOk(["wait", "--for=condition=Complete", "job/once", "--timeout=5s"]);
    expect(out).to.contain("condition met");
  });

  it("configured failures: ImagePullBackOff stays Pending, CrashLoopBackOff restarts and never turns Ready", async () => {
    bed.sim.controllers!.setFailure("pull", "ImagePullBackOff");
    bed.sim.controllers!.setFailure("crash", "CrashLoopBackOff");
    await bed.objects.create(deployment("pull", 1) as never);
    await bed.objects.create(deployment("crash", 1) as never);
    await bed.sim.settle();
    const [pull] = pods("app=pull");
    expect(pull.status.phase).to.equal("Pending");
    expect(pull.status.containerStatuses[0].state.waiting.reason).to.equal("ImagePullBackOff");
    const [crash] = pods("app=crash");
    expect(crash.status.containerStatuses[0].state.waiting.reason).to.equal("CrashLoopBackOff");
    expect(crash.status.containerStatuses[0].restartCount).to.be.greaterThan(0);
    const d = await apps.readNamespacedDeployment({ namespace: "default", name: "crash" });
    expect(d.status!.readyReplicas ?? 0).to.equal(0);
    expect(d.status!.unavailableReplicas).to.equal(1);
    const table = await bed.kubectlOk(["get", "pods", "-l", "app=pull"]);
    expect(table).to.match(/0\/1\s+ImagePullBackOff/);
  });

  it("GPU capacity appears once a device-plugin pod runs on a GPU node", async () => {
    await bed.objects.create({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "nvidia-device-plugin", namespace: "default" }, spec: { selector: { matchLabels: { app: "dp" } }, template: { metadata: { labels: { app: "dp" } }, spec: { nodeSelector: { [GPU_PRESENT_LABEL]: "true" }, containers: [{ name: "plugin", image: "nvcr.io/nvidia/k8s-device-plugin:v0.17.0" }] } } } } as never);
    await bed.sim.settle();
    const n1 = await bed.core.readNode({ name: "sim-node-1" });
    expect(n1.status!.capacity!["nvidia.com/gpu"]).to.equal("1");
    expect(n1.status!.allocatable!["nvidia.com/gpu"]).to.equal("1");
    const n0 = await bed.core.readNode({ name: "sim-node-0" });
    expect(n0.status!.capacity!["nvidia.com/gpu"]).to.equal(undefined);
  });

  it("evicts through pods/eviction honouring PodDisruptionBudgets, and serves pods/log", async () => {
    await bed.objects.create({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "db", namespace: "default" }, spec: { minAvailable: 3, selector: { matchLabels: { app: "db" } } } } as never);
    await bed.sim.settle();
    const pdb = bed.sim.api.get(bed.sim.api.registry.get("policy", "poddisruptionbudgets")!, "default", "db");
    expect(pdb.status).to.deep.include({ currentHealthy: 3, desiredHealthy: 3, disruptionsAllowed: 0, expectedPods: 3 });
    const blocked = await raw(bed.sim, "POST", "/api/v1/namespaces/default/pods/db-1/eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "db-1", namespace: "default" } });
    expect(blocked.status).to.equal(429);
    expect(blocked.json.message).to.equal("Cannot evict pod as it would violate the pod's disruption budget.");
    const [web] = pods("app=web");
    const ok = await raw(bed.sim, "POST", `/api/v1/namespaces/default/pods/${web.metadata.name}/eviction`, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: web.metadata.name, namespace: "default" } });
    expect(ok.status).to.equal(201);
    const log = await bed.core.readNamespacedPodLog({ namespace: "default", name: "db-0" });
    expect(log).to.match(/^sim: container db of pod default\/db-0 on node sim-node-\d is Running\n$/);
  });

  it("pods become Ready only after the configured delay, and the onPod hook runs per pod", async () => {
    const started: string[] = [];
    const stopped: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bed.sim.controllers!.pods.readyDelayMs = 150;
    bed.sim.controllers!.onPod((pod, node) => {
      if (!pod.metadata.name!.startsWith("hooked")) return;
      started.push(`${pod.metadata.name}@${node.metadata.name}`);
      return { ready: gate, stop: () => void stopped.push(pod.metadata.name!) };
    });
    const t0 = Date.now();
    bed.sim.seed({ apiVersion: "v1", kind: "Pod", metadata: { name: "hooked", namespace: "default" }, spec: { nodeName: "sim-node-2", containers: [{ name: "c", image: "c" }] } });
    await eventually(() => started.length === 1, 2000, "hook start");
    expect(Date.now() - t0).to.be.greaterThan(120);
    expect(started).to.deep.equal(["hooked@sim-node-2"]);
    await sleep(30);
    const podsRt = bed.sim.api.registry.get("", "pods")!;
    expect(ready(bed.sim.api.get(podsRt, "default", "hooked")), "not Ready before the hook's ready resolves").to.equal(false);
    release();
    await eventually(() => ready(bed.sim.api.get(podsRt, "default", "hooked")), 2000, "Ready after the hook");
    bed.sim.api.delete(podsRt, "default", "hooked");
    await eventually(() => stopped.length === 1, 2000, "hook stop");
    bed.sim.controllers!.onPod(undefined);
    bed.sim.controllers!.pods.readyDelayMs = 0;
  });

  it("kubectl wait --for=condition=Ready on pods and kubectl get pods -o wide", async () => {
    const out = await bed.kubectlOk(["wait", "--for=condition=Ready", "pod", "-l", "app=db", "--timeout=5s"]);
    expect(out.trim().split("\n")).to.have.length(3);
    const wide = await bed.kubectlOk(["get", "pods", "-l", "app=db", "-o", "wide"]);
    expect(wide).to.match(/db-0\s+1\/1\s+Running\s+0\s+\d+s\s+10\.42\.\d+\.\d+\s+sim-node-\d/);
  });

  it("deleting a Deployment garbage-collects its ReplicaSets and Pods", async () => {
    await bed.kubectlOk(["delete", "deployment", "web"]);
    await bed.sim.settle();
    expect(pods("app=web")).to.have.length(0);
    expect(bed.sim.store.list("apps/replicasets", "default").filter((r) => r.metadata.labels?.app === "web")).to.have.length(0);
  });
});

describe("simulator: scale", () => {
  it("starts 1000 nodes and runs a DaemonSet on all of them quickly", async function () {
    this.timeout(20_000);
    const t0 = Date.now();
    const sim = await startSimulator({ nodes: 1000, gpuNodes: 100 });
    try {
      await sim.settle();
      const startMs = Date.now() - t0;
      expect(sim.store.count("/nodes")).to.equal(1000);
      const t1 = Date.now();
      sim.seed({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent", namespace: "default" }, spec: { selector: { matchLabels: { app: "agent" } }, template: { metadata: { labels: { app: "agent" } }, spec: { tolerations: [{ operator: "Exists" }], containers: [{ name: "a", image: "a" }] } } } });
      await eventually(async () => {
        await sim.settle();
        return sim.api.get(sim.api.registry.get("apps", "daemonsets")!, "default", "agent").status?.numberReady === 1000;
      }, 15_000, "1000 ready daemon pods");
      const dsMs = Date.now() - t1;
      expect(startMs, "1000 nodes start").to.be.lessThan(5000);
      expect(dsMs, "DaemonSet on 1000 nodes").to.be.lessThan(10_000);
    } finally {
      await sim.stop();
    }
  });
});
