// Formats a plan: a table (objects in stage order, then host tasks per node config), or a YAML / JSON
// stream of the objects exactly as the controller would apply them.
import { stringify } from "yaml";
import type { KubeObject } from "../contract/index.js";
import { describeTask, type HostTask } from "../contract/index.js";
import { planObjects, type Plan } from "./plan-model.js";

export type PlanFormat = "table" | "yaml" | "json";
export const PLAN_FORMATS: readonly PlanFormat[] = ["table", "yaml", "json"];

interface Container {
  image?: string;
}

function podContainers(obj: KubeObject): Container[] {
  const template = (obj.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template;
  return template?.spec?.containers ?? [];
}

function images(obj: KubeObject): string {
  return podContainers(obj)
    .map((c) => c.image ?? "")
    .join(", ");
}

/** One short line saying what the object is for. */
export function objectNote(obj: KubeObject): string {
  const spec = (obj.spec as Record<string, any> | undefined) ?? {};
  switch (obj.kind) {
    case "DaemonSet": {
      const selector = spec.template?.spec?.nodeSelector as Record<string, string> | undefined;
      const where = selector ? Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(",") : "all selected nodes";
      const privileged = podContainers(obj).some((c) => (c as { securityContext?: { privileged?: boolean } }).securityContext?.privileged);
      return `${images(obj)} on ${where}${privileged ? " (privileged)" : ""}`;
    }
    case "Deployment":
    case "StatefulSet":
      return `${spec.replicas ?? 1}x ${images(obj)}`;
    case "ConfigMap": {
      const group = obj.metadata.labels?.["olares.com/node-config-group"];
      if (group) {
        const tasks = (JSON.parse((obj.data as Record<string, string>)["config.json"] ?? "{}") as { tasks?: unknown[] }).tasks ?? [];
        return `node config for group ${group}: ${tasks.length} host tasks (listed below)`;
      }
      const keys = Object.keys((obj.data as Record<string, string> | undefined) ?? {});
      return `${obj.immutable ? "immutable, " : ""}keys: ${keys.join(", ")}`;
    }
    case "Service":
      return `${spec.clusterIP === "None" ? "headless, " : ""}ports: ${((spec.ports as Array<{ port: number }>) ?? []).map((p) => p.port).join(", ")}`;
    case "ClusterRole":
    case "Role":
    {
      const n = ((obj.rules as unknown[]) ?? []).length;
      return `${n} rule${n === 1 ? "" : "s"}`;
    }
    case "ClusterRoleBinding":
    case "RoleBinding": {
      const roleRef = obj.roleRef as { kind: string; name: string };
      return `grants ${roleRef.kind}/${roleRef.name}`;
    }
    case "StorageClass": {
      const isDefault = obj.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true";
      return `provisioner ${String(obj.provisioner)}${isDefault ? " (default class)" : ""}`;
    }
    default:
      return "";
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("   ").trimEnd()).join("\n");
}

export function formatPlanTable(plan: Plan): string {
  const out: string[] = [];
  const rows = [["STAGE", "KIND", "NAMESPACE/NAME", "NOTE"]];
  for (const stage of plan.desired.stages) {
    for (const object of stage.objects) {
      const where = object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
      rows.push([stage.name, object.kind, where, objectNote(object)]);
    }
    for (const r of stage.releases ?? []) {
      rows.push([stage.name, "HelmRelease", `${r.namespace}/${r.name}`, `chart ${r.chart.path}${r.chart.digest ? ` (${r.chart.digest.slice(0, 19)}…)` : " (from the release, once fetched)"}`]);
    }
    for (const g of plan.generated.filter((s) => s.stage === stage.name)) {
      rows.push([g.stage, "Secret", `${g.namespace}/${g.name}`, `generated once by the controller (keys: ${g.keys.join(", ")}; never overwritten)`]);
    }
  }
  const stages = plan.desired.stages.map((s) => s.name).join(" → ");
  out.push(`OlaresInstallation ${plan.installationName}: Olares ${plan.spec.version}, ${plan.facts.nodes.length} node(s); stages: ${stages}`);
  out.push("");
  out.push(table(rows));
  if (plan.nodeConfigs.length === 0) {
    out.push("");
    out.push("Host changes: none rendered (no stage of this build produces node configs).");
  }
  for (const nc of plan.nodeConfigs) {
    out.push("");
    const nodes = nc.nodes.length ? nc.nodes.join(", ") : "no node yet";
    const drain = nc.config.tasks.some((t) => t.disruption === "drain" || t.disruption === "reboot");
    const reboot = nc.config.tasks.some((t) => t.disruption === "reboot");
    out.push(`Host changes, node config ${nc.config.id} (group ${nc.config.group}) → ${nodes}`);
    out.push(`  drain: ${drain ? "yes (skipped on single-node clusters)" : "no"}; reboot: ${reboot ? "yes (only with spec.nodes.rollout.allowReboot)" : "no"}`);
    for (const task of nc.config.tasks as HostTask[]) out.push(...describeTask(task).map((l) => `  ${l}`));
  }
  for (const { node, tasks } of plan.storageTasks) {
    out.push("");
    out.push(`Storage on ${node} (${plan.spec.storage.type}; handed to the node by the Storage stage, secrets only from Secret references)`);
    for (const task of tasks) out.push(...describeTask(task as HostTask).map((l) => `  ${l}`));
  }
  // A JuiceFS node without a storage task is said so, not left out: it mounts at the primary's address, unknown here.
  if (plan.spec.storage.type === "JuiceFS" && !plan.storageMigration && plan.storageTasks.length > 0) {
    for (const n of plan.facts.nodes.filter((x) => !plan.storageTasks.some((t) => t.node === x.name))) {
      out.push("");
      out.push(`Storage on ${n.name}: no JuiceFS mount in this plan — workers mount the shared volume at the managed Redis/MinIO on ${plan.storageTasks[0]!.node}'s InternalIP, which this plan does not know (a live cluster's plan has it; with an External metadata engine and an external store every node mounts here too)`);
    }
  }
  return out.join("\n") + "\n";
}

export function formatPlan(plan: Plan, format: PlanFormat): string {
  const objects = planObjects(plan).map((p) => p.object);
  switch (format) {
    case "table":
      return formatPlanTable(plan);
    case "yaml":
      return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join("");
    case "json":
      return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2) + "\n";
  }
}
