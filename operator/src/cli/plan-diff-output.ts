// Formats a plan diff: a readable report (per stage, per node, the migration step by step) or JSON.
import { describeTask, type HostTask } from "../contract/index.js";
import type { PlanDiff } from "./plan-diff.js";
import type { Plan } from "./plan-model.js";

const MARK = { created: "+", changed: "~", deleted: "-" } as const;
const DISRUPTION_TEXT = {
  none: "no disruption",
  "restart-service": "restarts a service",
  drain: "drains the node (skipped on single-node clusters)",
  reboot: "reboots the node (only with spec.nodes.rollout.allowReboot)",
} as const;

export function formatPlanDiffTable(diff: PlanDiff, after: Plan): string {
  const out: string[] = [];
  const { from, to } = diff;
  out.push(`OlaresInstallation ${diff.installationName}: ${from.file} → ${to.file}`);
  out.push(`  version ${from.version}${from.version === to.version ? " (unchanged)" : ` → ${to.version}`}; storage ${from.storageType}${from.storageType === to.storageType ? " (unchanged)" : ` → ${to.storageType}`}`);
  if (diff.objects.length === 0 && diff.nodes.length === 0 && !diff.storageMigration) {
    out.push("");
    out.push("No changes: the operator would apply nothing and no host would change.");
    return out.join("\n") + "\n";
  }
  out.push("");
  const counts = (c: keyof typeof MARK) => diff.objects.filter((o) => o.change === c).length;
  out.push(`Objects: ${counts("created")} created, ${counts("changed")} changed, ${counts("deleted")} deleted`);
  let stage = "";
  for (const o of diff.objects) {
    if (o.stage !== stage) {
      stage = o.stage;
      out.push(`  ${stage}`);
    }
    out.push(`    ${MARK[o.change]} ${o.kind} ${o.name}${o.fields ? ` (${o.fields.join(", ")})` : ""}${o.change === "deleted" ? " (pruned)" : ""}`);
  }
  for (const n of diff.nodes) {
    out.push("");
    const configs = n.from === n.to ? "" : ` (node config ${n.from ?? "none"} → ${n.to ?? "none"})`;
    out.push(`Host changes on ${n.node}${configs}: ${DISRUPTION_TEXT[n.disruption]}`);
    for (const t of n.tasks) {
      out.push(`  ${MARK[t.change]} ${t.id}: ${t.description}${t.fields ? ` (${t.fields.join(", ")})` : ""}${t.change === "deleted" ? " (undone on the host)" : ""}`);
    }
  }
  const m = diff.storageMigration;
  if (m) {
    out.push("");
    out.push(`Storage switch ${m.from} → ${m.to} of ${m.root}/rootfs (status.storage.migration shows it as it runs; an Event at every step):`);
    out.push(`  Quiesce scales to zero the workloads with volumes under ${m.quiesce.volumesUnder} (namespaces ${m.quiesce.namespacesExcluded.join(", ")} excepted); Resume brings them back to the same replicas`);
    if (m.nodes.length === 0) out.push("  no node to run it on (no node is selected)");
    for (const node of m.nodes) {
      out.push(`  on ${node.node} (${node.role}; migration ${node.migrationId}):`);
      node.steps.forEach((step, i) => out.push(`    ${i + 1}. ${step}${STEP_NOTE[step] ? ` — ${STEP_NOTE[step](node)}` : ""}`));
      out.push(`    old data kept at ${node.keepPreviousAt}${node.retainPreviousData ? " until you remove it (docs/storage.md)" : " until Resume, then removed (retainPreviousData: false)"}`);
      const task = after.storageTasks.find((s) => s.node === node.node)?.tasks.find((t) => t.kind === "storageMigration");
      if (task) {
        out.push(`    as the node's ${task.kind} host task carries it:`);
        out.push(...describeTask(task as HostTask).slice(1).map((l) => `    ${l}`));
      }
    }
  }
  return out.join("\n") + "\n";
}

type StepNode = PlanDiff["storageMigration"] extends infer M ? (M extends { nodes: Array<infer N> } ? N : never) : never;

const STEP_NOTE: Record<string, (n: StepNode) => string> = {
  Precheck: (n) => `free space ≥ 1.1× the data${n.to === "JuiceFS" && n.backend.managedMinio ? " (managed MinIO keeps it on this disk)" : n.to === "LocalFS" ? " on the local disk" : ""}, object store and metadata probed, no other migration; a failure changes nothing`,
  Prepare: (n) => (n.to === "JuiceFS" ? `services up, volume ${n.backend.name} formatted, mounted at ${n.root}/.rootfs-migrate` : `local staging directory next to ${n.root}/rootfs`),
  Sync: () => "rsync -aHAXS --numeric-ids while Olares keeps running",
  Quiesce: () => "the workloads using the rootfs scaled to zero, replicas kept in annotations",
  FinalSync: () => "the delta, with deletions",
  Verify: () => "every file compared (content, mode, owner, mtime, links, xattrs, sparseness); a mismatch rolls back",
  Swap: (n) => `old tree kept as ${n.keepPreviousAt}, the new one at ${n.root}/rootfs, units and K3s drop-in updated, Olares told (OLARES_SYSTEM_ROOTFS_TYPE, fs_type)`,
  Resume: () => "the same workloads back to the same replicas",
};

export function formatPlanDiff(diff: PlanDiff, after: Plan, format: "table" | "json"): string {
  if (format === "json") return JSON.stringify(diff, null, 2) + "\n";
  return formatPlanDiffTable(diff, after);
}
