// Stage hook StorageMigration: the cluster's half of the storage walk. It builds the credentials Secret,
// hands every node its storage config (on the Node, no secret in it), and during a migration plays the
// gate: when the agent waits at Quiesce it scales the rootfs workloads to zero and acknowledges; at
// Resume it tells Olares the new rootfs type (SystemEnv OLARES_SYSTEM_ROOTFS_TYPE; the releases that take
// fs_type are upgraded by the release walk once Storage is ready) and scales them back. One Event per
// step; status.storage.migration from the nodes' reports. Level-triggered throughout: an operator
// restarted mid-way reads the same annotations and goes on.
import {
  ANNOTATION_STORAGE_CONFIG,
  ANNOTATION_STORAGE_GATE,
  ANNOTATION_STORAGE_REPORT,
  SYSTEM_ENV_API_VERSION,
  SYSTEM_ENV_KIND,
  SYSTEM_NAMESPACE,
  encodeStorageNodeConfig,
  envNameToResourceName,
  gateAck,
  migrationEventReason,
  parseStorageNodeReport,
  storageNodeConfigId,
  withCredentialsHash,
  type KubeObject,
  type Readiness,
  type StorageHookData,
  type StorageMigrationStatus,
  type StorageNodeReport,
  type StoragePreviousData,
  type StorageStatusReport,
} from "../contract/index.js";
import type { HookContext } from "./stage-hooks.js";
import { DEFAULT_OPERATOR_NAMESPACE } from "./preconditions.js";
import { ensureCredentialsSecret } from "./storage-credentials.js";
import { quiesceWorkloads, resumeWorkloads } from "./storage-workloads.js";

/** Events already sent, per installation: one per step (a restarted operator repeats the current one once). */
const sentEvents = new Map<string, string>();

function event(ctx: HookContext, key: string, type: "Normal" | "Warning", reason: string, message: string): void {
  const id = `${ctx.cr.metadata.uid ?? ctx.cr.metadata.name}/${key}`;
  if (sentEvents.get(id) === `${reason}/${message}`) return;
  sentEvents.set(id, `${reason}/${message}`);
  ctx.event?.(type, reason, message);
}

const nodeRef = (name: string) => ({ apiVersion: "v1", kind: "Node", name });

function migrationStatus(hook: StorageHookData, reports: Map<string, StorageNodeReport | undefined>): StorageMigrationStatus | undefined {
  const plan = hook.migration;
  if (!plan) return undefined;
  const nodes = plan.nodes.map((n) => {
    const m = reports.get(n.node)?.migration;
    const r = reports.get(n.node);
    return { name: n.node, phase: m?.phase ?? "Pending", ...(m ? { step: m.step } : {}), progressPercent: m?.percent ?? 0, ...(r?.message ? { message: r.message.slice(0, 1024) } : {}) };
  });
  const primary = plan.nodes[0] ? reports.get(plan.nodes[0].node)?.migration : undefined;
  const percent = primary?.percent ?? 0;
  return {
    from: plan.from,
    to: plan.to,
    phase: primary?.phase ?? "Pending",
    ...(primary ? { step: primary.step } : {}),
    progressPercent: percent,
    progress: `${percent}%`,
    filesCopied: primary?.progress.files ?? 0,
    filesTotal: primary?.progress.totalFiles ?? 0,
    bytesCopied: primary?.progress.bytes ?? 0,
    bytesTotal: primary?.progress.totalBytes ?? 0,
    ...(primary?.startedAt ? { startedAt: primary.startedAt.replace(/\.\d{3}Z$/, "Z") } : {}),
    ...(primary?.finishedAt ? { finishedAt: primary.finishedAt.replace(/\.\d{3}Z$/, "Z") } : {}),
    ...(plan.nodes[0] && reports.get(plan.nodes[0].node)?.message ? { message: reports.get(plan.nodes[0].node)!.message!.slice(0, 4096) } : {}),
    nodes,
  };
}

/** SystemEnv OLARES_SYSTEM_ROOTFS_TYPE → jfs or fs, as enable-juicefs leaves it (absent before the release is installed). */
async function tellOlares(ctx: HookContext, to: "LocalFS" | "JuiceFS"): Promise<void> {
  const ref = { apiVersion: SYSTEM_ENV_API_VERSION, kind: SYSTEM_ENV_KIND, name: envNameToResourceName("OLARES_SYSTEM_ROOTFS_TYPE") };
  const value = to === "JuiceFS" ? "jfs" : "fs";
  const current = await ctx.client.get(ref).catch(() => undefined);
  if (!current || current["value"] === value) return;
  await ctx.client.patch(ref, { value }, "merge");
  event(ctx, "systemenv", "Normal", "StorageSystemEnvUpdated", `SystemEnv OLARES_SYSTEM_ROOTFS_TYPE set to ${value}`);
}

export async function runStorageMigration(ctx: HookContext, hook: StorageHookData, readiness: Readiness): Promise<Readiness> {
  if (hook.nodes.length === 0 && !hook.migration) {
    ctx.reportStorage?.({ activeType: hook.activeType });
    return readiness;
  }
  if (!readiness.ready) return readiness;
  const view = ctx.view ?? ctx.observed;
  const namespace = SYSTEM_NAMESPACE;
  const creds = ctx.paused ? undefined : await ensureCredentialsSecret(ctx.client, hook, namespace, ctx.operatorNamespace ?? DEFAULT_OPERATOR_NAMESPACE);
  if (creds && !creds.ready) return { ready: false, reason: "WaitingForStorageCredentials", message: creds.message };

  // Hand out the configs (with the live credentials hash) and read the reports back.
  const reports = new Map<string, StorageNodeReport | undefined>();
  const configIds = new Map<string, string>();
  for (const n of hook.nodes) {
    const node = (await ctx.client.get(nodeRef(n.node))) ?? view.get(nodeRef(n.node));
    if (!node) return { ready: false, degraded: true, reason: "StorageNodeMissing", message: `node ${n.node} is gone` };
    const current = node.metadata.annotations?.[ANNOTATION_STORAGE_CONFIG];
    let id = current ? safeId(current) : undefined;
    if (creds?.ready) {
      const tasks = withCredentialsHash(n.tasks, creds.hash);
      id = storageNodeConfigId(tasks);
      const raw = encodeStorageNodeConfig(tasks);
      if (current !== raw) {
        await ctx.client.patch(nodeRef(n.node), { metadata: { annotations: { [ANNOTATION_STORAGE_CONFIG]: raw } } }, "merge");
        ctx.log.info("storage: node config handed out", { node: n.node, config: id });
      }
    }
    configIds.set(n.node, id ?? "");
    const report = parseStorageNodeReport(node.metadata.annotations?.[ANNOTATION_STORAGE_REPORT]);
    reports.set(n.node, report?.configId === id ? report : undefined);
    if (report && report.configId === id && report.migration?.gate && !ctx.paused) await playGate(ctx, hook, n.node, id, report, node);
  }

  const migration = migrationStatus(hook, reports);
  const previous = previousData(hook, reports);
  const all = [...reports.values()];
  const degraded = hook.nodes.map((n) => [n.node, reports.get(n.node)] as const).filter(([, r]) => r?.state === "Degraded");
  const done = all.every((r) => r?.state === "Done");

  if (hook.migration) {
    const m = hook.migration;
    const primary = m.nodes[0] ? reports.get(m.nodes[0].node) : undefined;
    const pm = primary?.migration;
    if (pm) {
      const key = `migration/${pm.migrationId}`;
      if (pm.phase === "Running" || pm.phase === "RollingBack") event(ctx, key, pm.phase === "RollingBack" ? "Warning" : "Normal", migrationEventReason(pm.step), `storage migration ${m.from} → ${m.to}: ${pm.step}${pm.step === "Sync" || pm.step === "Verify" ? "" : ""} on ${m.nodes[0]!.node}`);
    }
    if (done && pm?.phase === "Succeeded") {
      event(ctx, `migration/${pm.migrationId}`, "Normal", migrationEventReason("Succeeded"), `storage migration ${m.from} → ${m.to} succeeded: ${pm.progress.totalFiles} entries, ${pm.progress.totalBytes} bytes; previous data at ${pm.previous?.path ?? "-"}`);
      ctx.reportStorage?.({ activeType: m.to, ...(migration ? { migration } : {}), ...(previous ? { previousData: previous } : {}) });
      return readiness;
    }
    ctx.reportStorage?.({ activeType: m.from, ...(migration ? { migration } : {}) });
    if (degraded.length) {
      const [name, r] = degraded[0]!;
      const phase = r?.migration?.phase;
      const end = phase === "RolledBack" ? `rolled back; storage stays ${m.from}` : phase === "Failed" && r?.migration?.step === "Precheck" ? `nothing was changed; storage stays ${m.from}` : "stopped";
      event(ctx, `migration/${r?.migration?.migrationId ?? "?"}`, "Warning", migrationEventReason(phase === "RolledBack" ? "RolledBack" : "Failed"), `storage migration ${m.from} → ${m.to} on ${name}: ${r?.message ?? "failed"}`);
      return { ready: false, degraded: true, reason: "StorageMigrationFailed", message: `${m.from} → ${m.to} on node ${name} ${end}: ${r?.message ?? "no message"}` };
    }
    const where = pm ? `${pm.step}${pm.gate ? ` (waiting for ${pm.gate})` : ""} ${pm.percent}% — ${pm.progress.files}/${pm.progress.totalFiles} files, ${pm.progress.bytes}/${pm.progress.totalBytes} bytes` : "waiting for the node agent";
    return { ready: false, reason: "Migrating", message: `storage ${m.from} → ${m.to}: ${where}` };
  }

  ctx.reportStorage?.({ activeType: done ? hook.specType : hook.activeType, ...(previous ? { previousData: previous } : {}) });
  if (degraded.length) {
    const [name, r] = degraded[0]!;
    return { ready: false, degraded: true, reason: "StorageNodeDegraded", message: `node ${name}: ${r?.message ?? "storage config failed"}` };
  }
  if (!done) {
    const waiting = hook.nodes.filter((n) => reports.get(n.node)?.state !== "Done").map((n) => n.node);
    return { ready: false, reason: "StorageApplying", message: `${hook.specType} rootfs being set up on ${waiting.join(", ")}` };
  }
  return readiness;
}

function safeId(raw: string): string | undefined {
  try {
    return (JSON.parse(raw) as { id?: string }).id;
  } catch {
    return undefined;
  }
}

function previousData(hook: StorageHookData, reports: Map<string, StorageNodeReport | undefined>): StoragePreviousData | undefined {
  for (const n of hook.nodes) {
    const p = reports.get(n.node)?.migration?.previous;
    if (p) return { type: p.type, path: p.path.slice(0, 1024), node: n.node, bytes: p.bytes, files: p.files };
  }
  return undefined;
}

/** The agent waits at Quiesce or Resume: do the cluster's part, then acknowledge on the Node. */
async function playGate(ctx: HookContext, hook: StorageHookData, nodeName: string, configId: string, report: StorageNodeReport, node: KubeObject): Promise<void> {
  const m = report.migration!;
  const want = gateAck(configId, m.gate === "Quiesce" ? "Quiesced" : "Resumed");
  if (node.metadata.annotations?.[ANNOTATION_STORAGE_GATE] === want) return;
  const rule = hook.migration?.quiesce ?? { namespacesExcluded: [SYSTEM_NAMESPACE], volumesUnder: `${hook.root}/rootfs` };
  if (m.gate === "Quiesce") {
    const outcome = await quiesceWorkloads(ctx.client, rule, m.migrationId);
    if (outcome.changed.length) event(ctx, `quiesce/${m.migrationId}`, "Normal", "StorageWorkloadsQuiesced", `scaled to 0 for the storage migration: ${outcome.changed.join(", ")}`.slice(0, 1000));
    if (!outcome.done) return;
  } else {
    if (m.phase === "Running" && m.to !== m.from) await tellOlares(ctx, m.to);
    const outcome = await resumeWorkloads(ctx.client, m.migrationId);
    if (outcome.changed.length) event(ctx, `resume/${m.migrationId}`, "Normal", "StorageWorkloadsResumed", `scaled back after the storage migration: ${outcome.changed.join(", ")}`.slice(0, 1000));
  }
  await ctx.client.patch(nodeRef(nodeName), { metadata: { annotations: { [ANNOTATION_STORAGE_GATE]: want } } }, "merge");
  ctx.log.info("storage: gate acknowledged", { node: nodeName, gate: want });
}
