// `plan --from current.yaml -f new.yaml`: what changes between two specs — per stage the objects and
// chart releases created, changed and deleted; per node the host tasks added, changed and removed with
// the most disruptive consequence; and for a storage type change the whole migration per node. Both
// plans come from the same render() the controller runs; the new spec is validated against the current
// one as the stored object (transition rules: no downgrade, rootPath, the JuiceFS backend, …).
import type { Disruption, HostTaskBase, KubeObject, StageName, StorageMigrationPlan } from "../contract/index.js";
import { canonicalJson } from "../contract/index.js";
import type { StorageHostTask } from "../render/stages/storage-plan.js";
import type { Plan } from "./plan-model.js";

export type ChangeKind = "created" | "changed" | "deleted";

export interface ObjectChange {
  stage: StageName;
  change: ChangeKind;
  kind: string;
  /** namespace/name, or name for cluster-scoped objects. */
  name: string;
  /** For "changed": the top-level fields that differ (spec, data, rules, …; values for a release). */
  fields?: string[];
}

export interface TaskChange {
  change: ChangeKind;
  id: string;
  kind: string;
  description: string;
  disruption: Disruption;
  /** For "changed": the task fields that differ. */
  fields?: string[];
}

export interface NodeChange {
  node: string;
  /** Node config ids before and after (undefined: none). */
  from?: string;
  to?: string;
  tasks: TaskChange[];
  /** The most disruptive consequence of applying the changes on this node. */
  disruption: Disruption;
}

export interface PlanDiff {
  installationName: string;
  from: { file: string; version: string; storageType: string };
  to: { file: string; version: string; storageType: string };
  objects: ObjectChange[];
  nodes: NodeChange[];
  /** The storage switch the edit starts, per node, with every step. */
  storageMigration?: StorageMigrationPlan;
}

const DISRUPTION_ORDER: Disruption[] = ["none", "restart-service", "drain", "reboot"];

function worst(disruptions: Disruption[]): Disruption {
  return disruptions.reduce<Disruption>((a, b) => (DISRUPTION_ORDER.indexOf(b) > DISRUPTION_ORDER.indexOf(a) ? b : a), "none");
}

/** Top-level keys whose canonical JSON differs. */
function changedFields(a: Record<string, unknown>, b: Record<string, unknown>, ignore: readonly string[] = []): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignore.includes(k)).sort();
  return keys.filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k]));
}

function objectName(o: { metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/** Every stage's objects and releases as comparable entries, keyed by stage-independent identity. */
function inventory(plan: Plan): Map<string, { stage: StageName; kind: string; name: string; body: Record<string, unknown> }> {
  const out = new Map<string, { stage: StageName; kind: string; name: string; body: Record<string, unknown> }>();
  for (const stage of plan.desired.stages) {
    for (const object of stage.objects as KubeObject[]) {
      const { metadata, ...rest } = object;
      // Labels and annotations count: a config-hash annotation that moves is a rollout of that workload.
      const body = { ...rest, labels: metadata.labels, annotations: metadata.annotations };
      out.set(`${object.apiVersion}/${object.kind}/${objectName(object)}`, { stage: stage.name, kind: object.kind, name: objectName(object), body });
    }
    for (const release of stage.releases ?? []) {
      const name = `${release.namespace}/${release.name}`;
      out.set(`HelmRelease/${name}`, { stage: stage.name, kind: "HelmRelease", name, body: { chart: release.chart, values: release.values } });
    }
    for (const secret of plan.generated.filter((g) => g.stage === stage.name)) {
      const name = `${secret.namespace}/${secret.name}`;
      out.set(`v1/Secret/${name}`, { stage: stage.name, kind: "Secret", name, body: { generatedKeys: secret.keys } });
    }
  }
  return out;
}

function diffObjects(before: Plan, after: Plan): ObjectChange[] {
  const a = inventory(before);
  const b = inventory(after);
  const changes: ObjectChange[] = [];
  for (const [key, next] of b) {
    const prev = a.get(key);
    if (!prev) changes.push({ stage: next.stage, change: "created", kind: next.kind, name: next.name });
    else {
      const fields = changedFields(prev.body, next.body);
      if (fields.length > 0) changes.push({ stage: next.stage, change: "changed", kind: next.kind, name: next.name, fields });
    }
  }
  for (const [key, prev] of a) if (!b.has(key)) changes.push({ stage: prev.stage, change: "deleted", kind: prev.kind, name: prev.name });
  const stageOrder = [...new Set([...after.desired.stages.map((s) => s.name), ...before.desired.stages.map((s) => s.name)])];
  const rank: Record<ChangeKind, number> = { created: 0, changed: 1, deleted: 2 };
  return changes.sort((x, y) => stageOrder.indexOf(x.stage) - stageOrder.indexOf(y.stage) || rank[x.change] - rank[y.change] || x.name.localeCompare(y.name));
}

/** Every host task a node runs in a plan: its node config's tasks, then its storage tasks. */
function nodeTasks(plan: Plan, node: string): { configId?: string; tasks: Map<string, HostTaskBase> } {
  const tasks = new Map<string, HostTaskBase>();
  const config = plan.nodeConfigs.find((nc) => nc.nodes.includes(node))?.config;
  for (const t of config?.tasks ?? []) tasks.set(t.id, t);
  for (const t of plan.storageTasks.find((s) => s.node === node)?.tasks ?? []) tasks.set(t.id, t as StorageHostTask & HostTaskBase);
  return { configId: config?.id, tasks };
}

function diffNodes(before: Plan, after: Plan): NodeChange[] {
  const names = [...new Set([...before.facts.nodes.map((n) => n.name), ...after.facts.nodes.map((n) => n.name)])];
  const out: NodeChange[] = [];
  for (const node of names) {
    const a = nodeTasks(before, node);
    const b = nodeTasks(after, node);
    const tasks: TaskChange[] = [];
    for (const [id, next] of b.tasks) {
      const prev = a.tasks.get(id);
      const entry = { id, kind: next.kind, description: next.description, disruption: next.disruption };
      if (!prev) tasks.push({ change: "created", ...entry });
      else {
        const fields = changedFields(prev as unknown as Record<string, unknown>, next as unknown as Record<string, unknown>);
        if (fields.length > 0) tasks.push({ change: "changed", ...entry, fields });
      }
    }
    // Removing a task undoes it on the host (files restored, units stopped): as disruptive as applying it.
    for (const [id, prev] of a.tasks) if (!b.tasks.has(id)) tasks.push({ change: "deleted", id, kind: prev.kind, description: prev.description, disruption: prev.disruption });
    if (tasks.length === 0) continue;
    out.push({ node, from: a.configId, to: b.configId, tasks, disruption: worst(tasks.map((t) => t.disruption)) });
  }
  return out;
}

export function diffPlans(before: Plan, after: Plan, files: { from: string; to: string }): PlanDiff {
  return {
    installationName: after.installationName,
    from: { file: files.from, version: before.spec.version, storageType: before.spec.storage.type },
    to: { file: files.to, version: after.spec.version, storageType: after.spec.storage.type },
    objects: diffObjects(before, after),
    nodes: diffNodes(before, after),
    ...(after.storageMigration ? { storageMigration: after.storageMigration } : {}),
  };
}
