// Shared set-up for reconcile tests: a FakeCluster with nodes, a CR, and a stand-in for the built-in
// controllers that reports workloads as rolled out.
import { FakeCluster } from "../support/fake-cluster.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { API_VERSION, KIND } from "../../operator/src/contract/index.js";
import { Reconciler, type ReconcileResult } from "../../operator/src/controller/reconciler.js";
import { fixtureAirgapDir, templateReleaseRuntime } from "../support/template-helm.js";

export const TEST_IMAGE = "ghcr.io/olares-operator/olares-operator:test";

/** The fixture Olares release is the airgap source: no test reaches a CDN. */
export function baseSpec(): Record<string, unknown> {
  return { version: "1.12.1", owner: { username: "alice" }, storage: { type: "LocalFS" }, release: { airgapDir: fixtureAirgapDir() } };
}

export function installation(name: string, spec: Record<string, unknown> = baseSpec(), creationTimestamp?: string): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec,
  };
}

export function node(name: string, labels: Record<string, string> = {}, allocatable: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    status: { allocatable: { cpu: "8", memory: "16Gi", ...allocatable }, conditions: [{ type: "Ready", status: "True" }] },
  };
}

export interface Harness {
  cluster: FakeCluster;
  reconciler: Reconciler;
  clock: { t: number };
  reconcile(name?: string): Promise<ReconcileResult>;
  /**
   * Marks every DaemonSet/Deployment/StatefulSet as fully rolled out (what kubelet + controllers do) and
   * lets every node agent report its desired config as applied (current-config, state Done).
   */
  rollOutWorkloads(opts?: { except?: string[]; daemonSetDesired?: number }): void;
  /** The node-agent side of the handshake: nodes report their desired config as Done. */
  agentsApply(): void;
  /** The owner finishes the wizard: their User gets bytetrade.io/wizard-status=completed. */
  activateOwner(): void;
  /** Reconcile, roll out, repeat until Ready (or `max` rounds). Returns the rounds used. */
  converge(name?: string, max?: number): Promise<number>;
  cr(name?: string): KubeObject;
}

/** Every cluster has kube-system (the ClusterDNS facts look for it and for DNS Services in it). */
export function kubeSystemNamespace(): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } };
}

export function harness(opts: { nodes?: KubeObject[]; crs?: KubeObject[]; seed?: KubeObject[] } = {}): Harness {
  const clock = { t: Date.parse("2026-01-01T00:00:00Z") };
  const now = () => new Date(clock.t);
  const cluster = new FakeCluster(now);
  for (const obj of opts.seed ?? [kubeSystemNamespace()]) cluster.seed(obj);
  for (const n of opts.nodes ?? [node("node-1")]) cluster.seed(n);
  for (const cr of opts.crs ?? [installation("olares")]) cluster.seed(cr);
  const reconciler = new Reconciler({ client: cluster, observed: cluster.observed(), operatorImage: TEST_IMAGE, now, release: templateReleaseRuntime(cluster) });
  const h: Harness = {
    cluster,
    reconciler,
    clock,
    reconcile: (name = "olares") => reconciler.reconcile(name),
    agentsApply() {
      for (const n of cluster.observed().list("v1", "Node")) {
        const a = n.metadata.annotations ?? {};
        const desired = a["olares.com/desired-config"];
        if (!desired || (a["olares.com/current-config"] === desired && a["olares.com/state"] === "Done")) continue;
        n.metadata.annotations = { ...a, "olares.com/current-config": desired, "olares.com/state": "Done", "olares.com/reason": "" };
        cluster.seed(n);
      }
    },
    activateOwner() {
      for (const u of cluster.observed().list("iam.kubesphere.io/v1alpha2", "User")) {
        if (u.metadata.annotations?.["bytetrade.io/wizard-status"] === "completed") continue;
        cluster.seed({ ...u, metadata: { ...u.metadata, annotations: { ...u.metadata.annotations, "bytetrade.io/wizard-status": "completed" } } });
      }
    },
    rollOutWorkloads(o = {}) {
      h.agentsApply();
      const nodes = cluster.observed().list("v1", "Node").length;
      for (const kind of ["DaemonSet", "Deployment", "StatefulSet"]) {
        for (const w of cluster.observed().list("apps/v1", kind)) {
          if (o.except?.includes(w.metadata.name)) continue;
          const generation = w.metadata.generation ?? 1;
          const replicas = (w.spec as { replicas?: number }).replicas ?? 1;
          const ref = { apiVersion: "apps/v1", kind, name: w.metadata.name, namespace: w.metadata.namespace! };
          if (kind === "DaemonSet") {
            const selector = ((w.spec as any).template.spec.nodeSelector ?? {}) as Record<string, string>;
            const matching = cluster
              .observed()
              .list("v1", "Node")
              .filter((n) => Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v)).length;
            const desired = o.daemonSetDesired ?? (Object.keys(selector).length ? matching : nodes);
            cluster.setStatus(ref, {
              observedGeneration: generation,
              desiredNumberScheduled: desired,
              currentNumberScheduled: desired,
              numberReady: desired,
              updatedNumberScheduled: desired,
              numberAvailable: desired,
            });
          } else {
            cluster.setStatus(ref, { observedGeneration: generation, replicas, readyReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas });
          }
        }
      }
    },
    async converge(name = "olares", max = 20) {
      for (let round = 1; round <= max; round++) {
        await h.reconcile(name);
        if ((h.cr(name).status as { phase?: string } | undefined)?.phase === "Ready") return round;
        h.rollOutWorkloads();
        h.activateOwner();
        clock.t += 1000;
      }
      throw new Error(`not Ready after ${max} rounds: ${JSON.stringify((h.cr(name).status as { message?: string })?.message)}`);
    },
    cr: (name = "olares") => cluster.peek({ apiVersion: API_VERSION, kind: KIND, name })!,
  };
  return h;
}
