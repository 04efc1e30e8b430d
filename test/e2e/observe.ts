// Reading the simulated cluster for assertions: the installation and its conditions, waits on store
// changes, owned objects against the plan, duplicates and orphans, write requests per client.
import { planFor } from "../../operator/src/cli/plan-model.js";
import { API_GROUP, PLURAL, SYSTEM_NAMESPACE } from "../../operator/src/contract/index.js";
import { RELEASE_RANDOMS_SECRET } from "../../operator/src/render/releases/index.js";
import { DEFAULT_OPERATOR_IMAGE } from "../../operator/src/render/images.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import type { Simulator } from "../sim/server.js";
import type { Json, KObj } from "../sim/types.js";

export const CR_TYPE_KEY = `${API_GROUP}/${PLURAL}`;

export function installation(sim: Simulator, name = "olares"): KObj | undefined {
  return sim.store.get(CR_TYPE_KEY, "", name);
}

export function condition(cr: KObj | undefined, type: string): Json | undefined {
  return (cr?.status?.conditions ?? []).find((c: Json) => c.type === type);
}

/** Ready=True for the current generation. */
export function isReady(cr: KObj | undefined): boolean {
  const c = condition(cr, "Ready");
  return c?.status === "True" && cr?.status?.observedGeneration === cr?.metadata.generation && c?.observedGeneration === cr?.metadata.generation;
}

/** Why an installation is not Ready: its phase and every failing condition. */
export function explainNotReady(cr: KObj | undefined): string {
  if (!cr) return "the OlaresInstallation does not exist";
  const bad = (cr.status?.conditions ?? []).filter((c: Json) => (c.type === "Degraded" ? c.status === "True" : c.status !== "True" && c.type !== "Progressing"));
  const lines = bad.map((c: Json) => `  ${c.type}=${c.status} ${c.reason}: ${c.message}`);
  return `phase ${cr.status?.phase ?? "(none)"} (generation ${cr.metadata.generation}, observed ${cr.status?.observedGeneration ?? "-"}); failing conditions:\n${lines.join("\n") || "  (no status written yet)"}`;
}

const owners = new WeakSet<Simulator>();

/**
 * The tests' Olares owner: as soon as the account chart creates their User, they finish the wizard
 * (bytetrade.io/wizard-status=completed), which is what ends AwaitingActivation. Once per simulator.
 */
export function ownerCompletesWizard(sim: Simulator): void {
  if (owners.has(sim)) return;
  owners.add(sim);
  const activate = () => {
    for (const u of sim.store.list("iam.kubesphere.io/users")) {
      if (u.metadata.annotations?.["bytetrade.io/wizard-status"] === "completed") continue;
      const next = structuredClone(u) as KObj;
      next.metadata.annotations = { ...next.metadata.annotations, "bytetrade.io/wizard-status": "completed" };
      try {
        sim.api.update(sim.api.resolve("iam.kubesphere.io/v1alpha2", "User"), undefined, u.metadata.name!, next);
      } catch {
        // a concurrent write: the next change retries
      }
    }
  };
  sim.store.subscribe("iam.kubesphere.io/users", () => setImmediate(activate));
  activate();
}

/** Resolves when `check` returns a value other than undefined/false; re-checked on every store change. */
export async function waitFor<T>(sim: Simulator, check: () => T | undefined | false, timeoutMs: number, what: string | (() => string)): Promise<T> {
  ownerCompletesWizard(sim);
  const first = check();
  if (first !== undefined && first !== false) return first;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      unsub();
      fn();
    };
    const test = () => {
      try {
        const v = check();
        if (v !== undefined && v !== false) finish(() => resolve(v));
      } catch (err) {
        finish(() => reject(err));
      }
    };
    const unsub = subscribeAll(sim, test);
    const poll = setInterval(test, 100);
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`))), timeoutMs);
  });
}

/** Calls `fn` after any change in the store (kinds the e2e cares about). */
export function subscribeAll(sim: Simulator, fn: () => void): () => void {
  const keys = [CR_TYPE_KEY, "/nodes", "/pods", "/configmaps", "apps/daemonsets", "apps/deployments", "apps/statefulsets"];
  const unsubs = keys.map((k) => sim.store.subscribe(k, () => fn()));
  return () => unsubs.forEach((u) => u());
}

/** Kinds the built-in controllers create from the operator's templates (they inherit its labels). */
const CONTROLLER_CREATED = new Set(["Pod", "ReplicaSet", "ControllerRevision"]);

/**
 * Every object in the store carrying the operator's managed-by label, as "Kind namespace/name" (pods and
 * ReplicaSets made from its templates excluded: duplicatesAndOrphans() checks those).
 */
export function managedObjects(sim: Simulator): string[] {
  const out: string[] = [];
  for (const rt of sim.api.registry.all()) {
    if (CONTROLLER_CREATED.has(rt.kind)) continue;
    for (const o of sim.store.list(sim.api.typeKey(rt))) {
      if (o.metadata.labels?.["app.kubernetes.io/managed-by"] === "olares-operator") out.push(objectId(o));
    }
  }
  return out.sort();
}

export const objectId = (o: { kind: string; metadata: { namespace?: string; name?: string } }): string => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** What the operator should own for this CR on `nodes` nodes without GPUs: the plan's objects. */
export function plannedObjects(cr: KObj, nodes: number): string[] {
  const plan = planFor(cr as unknown as KubeObject, { nodes, gpuNodes: 0, image: DEFAULT_OPERATOR_IMAGE });
  const secrets = plan.generated.map((g) => objectId({ kind: "Secret", metadata: { namespace: g.namespace, name: g.name } }));
  // The Olares release's randoms (bfl/app keys, the launcher's *_rand16), generated once by the controller.
  const releaseRandoms = objectId({ kind: "Secret", metadata: { namespace: SYSTEM_NAMESPACE, name: RELEASE_RANDOMS_SECRET } });
  return [...plan.desired.stages.flatMap((s) => s.objects.map(objectId)), ...secrets, releaseRandoms].sort();
}

/**
 * Duplicates a controller would leave: pods beyond a workload's replicas (or more than one per node
 * for a DaemonSet), and pods or ReplicaSets whose owner is gone.
 */
export function duplicatesAndOrphans(sim: Simulator): string[] {
  const problems: string[] = [];
  const uids = new Set<string>();
  for (const rt of sim.api.registry.all()) for (const o of sim.store.list(sim.api.typeKey(rt))) uids.add(o.metadata.uid!);
  for (const key of ["/pods", "apps/replicasets", "apps/controllerrevisions"]) {
    for (const o of sim.store.list(key)) {
      for (const ref of o.metadata.ownerReferences ?? []) if (!uids.has(ref.uid)) problems.push(`${objectId(o)}: owner ${ref.kind}/${ref.name} is gone`);
    }
  }
  const live = sim.store.list("/pods").filter((p) => !p.metadata.deletionTimestamp);
  const podsOf = (uid: string) => live.filter((p) => (p.metadata.ownerReferences ?? []).some((r) => r.uid === uid));
  for (const ds of sim.store.list("apps/daemonsets")) {
    const perNode = new Map<string, number>();
    for (const p of podsOf(ds.metadata.uid!)) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    for (const [node, n] of perNode) if (n > 1) problems.push(`${objectId(ds)}: ${n} pods on ${node}`);
  }
  for (const sts of sim.store.list("apps/statefulsets")) {
    const n = podsOf(sts.metadata.uid!).length;
    if (n !== (sts.spec.replicas ?? 1)) problems.push(`${objectId(sts)}: ${n} pods for ${sts.spec.replicas ?? 1} replicas`);
  }
  for (const d of sim.store.list("apps/deployments")) {
    const rs = sim.store.list("apps/replicasets").filter((r) => (r.metadata.ownerReferences ?? []).some((ref) => ref.uid === d.metadata.uid));
    const n = rs.reduce((sum, r) => sum + podsOf(r.metadata.uid!).length, 0);
    if (n !== (d.spec.replicas ?? 1)) problems.push(`${objectId(d)}: ${n} pods for ${d.spec.replicas ?? 1} replicas`);
  }
  return problems;
}

/** Write requests by a user agent prefix, from the simulator's request log. */
export function writesBy(sim: Simulator, userAgentPrefix: string, since = 0): Array<{ verb: string; path: string; code: number }> {
  const writes = new Set(["create", "update", "patch", "delete", "deletecollection"]);
  return sim.requests
    .slice(since)
    .filter((r) => writes.has(r.verb) && (r.userAgent ?? "").startsWith(userAgentPrefix))
    .map((r) => ({ verb: r.verb, path: r.path, code: r.code }));
}
