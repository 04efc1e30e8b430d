// Every status the controller writes is accepted by the API server: the statuses of each phase and of
// partial states (paused, mid-rollout, degraded node, all nodes skipped, invalid spec, Ignored,
// Deleting, upgrade) are captured from the reconciler, then server-side applied in the same order
// through the status subresource of the cluster simulator, whose CRD validation rejects what the real
// apiserver rejects (e.g. 422 status.nodes.total: Required value).
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { harness, installation, node, baseSpec, type Harness } from "./harness.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import type { KubeClient } from "../../operator/src/kube/types.js";
import { API_VERSION, KIND, type KubeObject } from "../../operator/src/contract/index.js";
import { startSimulator, type Simulator } from "../sim/server.js";

const ROOT = join(import.meta.dirname, "../..");
const CRD = parse(readFileSync(join(ROOT, "crds/olares.com_olaresinstallations.yaml"), "utf8")) as KubeObject;

function statusWrites(h: Harness): Array<Record<string, unknown>> {
  return h.cluster
    .writes()
    .filter((w) => w.verb === "applyStatus")
    .map((w) => (w.body as KubeObject)["status"] as Record<string, unknown>);
}

function editSpec(h: Harness, edit: (spec: Record<string, any>) => void, name = "olares"): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const cr = h.cr(name);
  const spec = structuredClone(cr.spec) as Record<string, unknown>;
  edit(spec);
  cr.spec = spec;
  cr.metadata.generation = (cr.metadata.generation ?? 1) + 1;
  h.cluster.seed(cr);
}

async function rounds(h: Harness, n: number, name = "olares"): Promise<void> {
  for (let i = 0; i < n; i++) {
    await h.reconcile(name);
    h.rollOutWorkloads();
  }
}

/** Scenario → the statuses the reconciler wrote, in order. */
const SCENARIOS: Record<string, () => Promise<{ name: string; spec: Record<string, unknown>; statuses: Array<Record<string, unknown>> }>> = {
  "install to Ready, then an NTP edit rolled out to the nodes (Updating)": async () => {
    const h = harness({ nodes: [node("node-1"), node("node-2")] });
    await h.converge();
    editSpec(h, (s) => { s.os = { ntp: { servers: ["time.example.com"] } }; });
    await h.reconcile();
    await h.converge();
    return { name: "olares", spec: baseSpec(), statuses: statusWrites(h) };
  },
  "paused from the start, then resumed": async () => {
    const h = harness({ crs: [installation("olares", { ...baseSpec(), paused: true })] });
    await rounds(h, 3);
    editSpec(h, (s) => { s.paused = false; });
    await h.converge();
    return { name: "olares", spec: baseSpec(), statuses: statusWrites(h) };
  },
  "paused after Ready with a node-config edit pending": async () => {
    const h = harness();
    await h.converge();
    editSpec(h, (s) => { s.paused = true; s.os = { timezone: "Europe/Berlin" }; });
    await rounds(h, 3);
    return { name: "olares", spec: baseSpec(), statuses: statusWrites(h) };
  },
  "a degraded node": async () => {
    const h = harness({ nodes: [node("node-1"), node("node-2")] });
    await h.converge();
    const n = h.cluster.peek({ apiVersion: "v1", kind: "Node", name: "node-2" })!;
    editSpec(h, (s) => { s.os = { timezone: "Asia/Tokyo" }; });
    await h.reconcile();
    n.metadata.annotations = { ...h.cluster.peek({ apiVersion: "v1", kind: "Node", name: "node-2" })!.metadata.annotations, "olares.com/state": "Degraded", "olares.com/reason": "apply failed: disk full" };
    h.cluster.seed(n);
    await h.reconcile();
    await h.reconcile();
    return { name: "olares", spec: baseSpec(), statuses: statusWrites(h) };
  },
  "every node skipped by the skip label": async () => {
    const h = harness({ nodes: [node("node-1", { "olares.com/skip-config": "true" })] });
    await rounds(h, 8);
    return { name: "olares", spec: baseSpec(), statuses: statusWrites(h) };
  },
  "an invalid spec after Ready, then fixed": async () => {
    const h = harness();
    await h.converge();
    editSpec(h, (s) => { s.os = { packages: ["docker.io"] }; });
    await h.reconcile();
    editSpec(h, (s) => { s.os = {}; });
    await h.converge();
    return { name: "olares", spec: baseSpec(), statuses: statusWrites(h) };
  },
  "an upgrade (Upgrading)": async () => {
    const h = harness();
    await h.converge();
    editSpec(h, (s) => { s.version = "1.12.2"; });
    await rounds(h, 2);
    await h.converge();
    return { name: "olares", spec: { ...baseSpec(), version: "1.12.2" }, statuses: statusWrites(h) };
  },
  "a second installation (Ignored)": async () => {
    const h = harness({ crs: [installation("olares", baseSpec(), "2026-01-01T00:00:00Z"), installation("second", baseSpec(), "2026-01-02T00:00:00Z")] });
    await h.reconcile("second");
    return { name: "second", spec: baseSpec(), statuses: statusWrites(h) };
  },
  "deletion (Deleting, host cleanup)": async () => {
    const h = harness();
    await h.converge();
    const cr = h.cr();
    cr.metadata.deletionTimestamp = "2026-01-01T01:00:00Z";
    h.cluster.seed(cr);
    await h.reconcile();
    h.agentsApply();
    await h.reconcile();
    return { name: "olares", spec: baseSpec(), statuses: statusWrites(h).filter((s) => s.phase === "Deleting") };
  },
};

describe("every status the controller writes is valid (applied through the simulator's status subresource)", function () {
  this.timeout(60_000);
  let sim: Simulator;
  let client: KubeClient;

  before(async () => {
    sim = await startSimulator({ nodes: 1 });
    client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "status-schema-test", qps: 0 });
    await client.apply(CRD, { force: true });
    for (let i = 0; i < 50 && !(await client.list(API_VERSION, KIND).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  });
  after(async () => sim?.stop());

  for (const [scenario, run] of Object.entries(SCENARIOS)) {
    it(scenario, async () => {
      const { name, spec, statuses } = await run();
      expect(statuses.length, "the scenario wrote status").to.be.greaterThan(0);
      const crName = `${name}-${Object.keys(SCENARIOS).indexOf(scenario)}`;
      await client.create({ apiVersion: API_VERSION, kind: KIND, metadata: { name: crName }, spec });
      const phases: string[] = [];
      for (const [i, status] of statuses.entries()) {
        try {
          await client.applyStatus({ apiVersion: API_VERSION, kind: KIND, metadata: { name: crName }, status });
        } catch (err) {
          throw new Error(`status write ${i + 1}/${statuses.length} (phase ${String(status.phase)}) rejected: ${(err as Error).message}\n${JSON.stringify(status)}`);
        }
        phases.push(String(status.phase));
      }
      const stored = await client.get({ apiVersion: API_VERSION, kind: KIND, name: crName });
      expect((stored?.["status"] as { phase?: string } | undefined)?.phase).to.equal(statuses.at(-1)!.phase);
    });
  }
});
