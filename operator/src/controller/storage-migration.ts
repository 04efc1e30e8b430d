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
  ANNOTATION_STORAGE_REFUSAL,
  ANNOTATION_STORAGE_REPORT,
  SYSTEM_ENV_API_VERSION,
  SYSTEM_ENV_KIND,
  SYSTEM_NAMESPACE,
  encodeStorageNodeConfig,
  envNameToResourceName,
  findClaimCollisions,
  gateAck,
  gateAckState,
  migrationEventReason,
  parseStorageNodeReport,
  storageNodeConfigId,
  withCredentialsHash,
  type KubeObject,
  type Readiness,
  type StorageGateAck,
  type StorageGateRequest,
  type StorageHookData,
  type StorageMigrationStatus,
  type StorageNodeReport,
  type StoragePreviousData,
  type StorageStatusReport,
} from "../contract/index.js";
import type { HookContext } from "./stage-hooks.js";
import { DEFAULT_OPERATOR_NAMESPACE } from "./preconditions.js";
import { ensureCredentialsSecret } from "./storage-credentials.js";
import { quiesceWorkloads, resumeWorkloads, rootfsDaemonSets } from "./storage-workloads.js";
import { gunzipSync } from "node:zlib";

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

  // Hand out the configs (with the live credentials hash) and read the reports back. On a JuiceFS
  // install the workers get theirs once the primary is Done (its Redis/MinIO up, the volume formatted);
  // during a migration every node gets its walk at once and the gates keep them in step.
  const reports = new Map<string, StorageNodeReport | undefined>();
  const configIds = new Map<string, string>();
  const nodes = new Map<string, KubeObject>();
  // the storage task itself (binaries from the release manifest come before it)
  const isWorker = (n: StorageHookData["nodes"][number]) => (n.tasks as Array<{ kind?: string; role?: string }>).some((t) => (t.kind === "juicefsRootfs" || t.kind === "storageMigration") && t.role === "worker");
  const ordered = [...hook.nodes.filter((n) => !isWorker(n)), ...hook.nodes.filter(isWorker)];
  const waitingForPrimary: string[] = [];
  for (const n of ordered) {
    const node = (await ctx.client.get(nodeRef(n.node))) ?? view.get(nodeRef(n.node));
    if (!node) return { ready: false, degraded: true, reason: "StorageNodeMissing", message: `node ${n.node} is gone` };
    nodes.set(n.node, node);
    const current = node.metadata.annotations?.[ANNOTATION_STORAGE_CONFIG];
    let id = current ? safeId(current) : undefined;
    const primaryPending = !hook.migration && isWorker(n) && ordered.some((p) => !isWorker(p) && reports.get(p.node)?.state !== "Done");
    if (creds?.ready && primaryPending && !current) waitingForPrimary.push(n.node);
    if (creds?.ready && !primaryPending) {
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
  }
  if (hook.migration && !ctx.paused) {
    const refusal = await playGates(ctx, hook, nodes, configIds, reports);
    if (refusal) return { ready: false, degraded: true, reason: "StorageMigrationRefused", message: `${hook.migration.from} → ${hook.migration.to} refused at Precheck, nothing was changed: ${refusal}` };
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
    const after = waitingForPrimary.length ? ` (${waitingForPrimary.join(", ")} mount the shared volume once the primary has it)` : "";
    return { ready: false, reason: "StorageApplying", message: `${hook.specType} rootfs being set up on ${waiting.join(", ")}${after}` };
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

async function ack(ctx: HookContext, node: KubeObject, configId: string, answer: StorageGateAck, extra: Record<string, string | null> = {}): Promise<void> {
  const want = gateAck(configId, answer);
  if (node.metadata.annotations?.[ANNOTATION_STORAGE_GATE] === want && Object.keys(extra).length === 0) return;
  await ctx.client.patch(nodeRef(node.metadata.name), { metadata: { annotations: { [ANNOTATION_STORAGE_GATE]: want, ...extra } } }, "merge");
  node.metadata.annotations = { ...(node.metadata.annotations ?? {}), [ANNOTATION_STORAGE_GATE]: want };
  ctx.log.info("storage: gate answered", { node: node.metadata.name, gate: want });
}

function decodeClaims(encoded: string): string[] {
  try {
    const v = JSON.parse(gunzipSync(Buffer.from(encoded, "base64")).toString("utf8")) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/**
 * The cluster's half of every gate, across the nodes of the migration: Precheck once every node has
 * reported (collisions between the nodes' trees, DaemonSets that cannot be quiesced, the managed MinIO's
 * disk), Quiesce and Resume of the workloads (Resume only once every node is there), a worker's Merge
 * (after the primary's Swap, one at a time) and Swap (once every worker has merged), and Abort of every
 * waiting node when one has failed. Returns the refusal when Precheck refused.
 */
async function playGates(
  ctx: HookContext,
  hook: StorageHookData,
  nodes: Map<string, KubeObject>,
  configIds: Map<string, string>,
  reports: Map<string, StorageNodeReport | undefined>,
): Promise<string | undefined> {
  const plan = hook.migration!;
  const walk = plan.nodes.map((n) => ({ plan: n, node: nodes.get(n.node), id: configIds.get(n.node) ?? "", report: reports.get(n.node) }));
  const gateOf = (w: (typeof walk)[number]) => (w.report?.state === "Working" ? w.report.migration?.gate : undefined);
  const passed = (w: (typeof walk)[number], g: StorageGateRequest) => gateAckState(w.node?.metadata.annotations?.[ANNOTATION_STORAGE_GATE], w.id, g) === "passed";
  const rule = plan.quiesce ?? { namespacesExcluded: [SYSTEM_NAMESPACE], volumesUnder: `${hook.root}/rootfs` };
  const primary = walk[0];
  const key = primary?.report?.migration?.migrationId ?? plan.nodes[0]?.migrationId ?? "migration";
  const failed = walk.filter((w) => w.report?.state === "Degraded" || ["RolledBack", "Failed", "RollingBack"].includes(w.report?.migration?.phase ?? ""));

  // Precheck: every node has reported its tree (or passed already).
  const atPrecheck = walk.filter((w) => gateOf(w) === "Precheck" && w.report?.precheck);
  if (atPrecheck.length && walk.every((w) => (gateOf(w) === "Precheck" && w.report?.precheck) || passed(w, "Precheck"))) {
    const problems: string[] = [];
    for (const d of await rootfsDaemonSets(ctx.client, rule)) {
      problems.push(`DaemonSet ${d.workload.metadata.namespace}/${d.workload.metadata.name} mounts ${d.paths[0]} and cannot be scaled to zero; stop it (or move its volume off ${rule.volumesUnder}) and the migration goes on`);
    }
    if (plan.to === "JuiceFS" && walk.length > 1) {
      const byNode = walk.map((w) => ({ node: w.plan.node, claims: decodeClaims(w.report?.precheck?.claims ?? "") }));
      for (const c of findClaimCollisions(byNode).slice(0, 5)) problems.push(`${hook.root}/rootfs/${c.path} exists on node ${c.nodes[0]} and on node ${c.nodes[1]}; one shared JuiceFS volume cannot hold both (move or remove one)`);
      const minio = primary?.plan.backend.managedMinio && primary.report?.precheck;
      if (minio) {
        const need = Math.ceil(walk.reduce((sum, w) => sum + (w.report?.precheck?.totalBytes ?? 0), 0) * 1.1);
        if (minio.freeBytes < need) problems.push(`node ${primary!.plan.node} has ${minio.freeBytes} bytes free on ${hook.root} for the managed MinIO, ${need} needed (1.1× every node's rootfs)`);
      }
    }
    const message = problems.join("; ").slice(0, 4000);
    for (const w of atPrecheck) {
      if (!w.node) continue;
      if (problems.length) await ack(ctx, w.node, w.id, `Refused@${w.report!.precheck!.round}`, { [ANNOTATION_STORAGE_REFUSAL]: message });
      else await ack(ctx, w.node, w.id, "Prechecked");
    }
    if (problems.length) {
      event(ctx, `precheck/${key}`, "Warning", migrationEventReason("Failed"), `storage migration ${plan.from} → ${plan.to} refused at Precheck: ${message}`.slice(0, 1000));
      return message;
    }
  }

  // A node failed: every node still waiting is called off (each rolls back to the old type).
  if (failed.length) {
    const running = walk.filter((w) => w.report?.migration?.phase === "Running");
    for (const w of running) {
      const g = gateOf(w);
      if (w.node && (g === "Merge" || g === "Swap" || g === "Resume" || g === "Quiesce")) await ack(ctx, w.node, w.id, "Abort");
    }
  }

  for (const w of walk) {
    const g = gateOf(w);
    const m = w.report?.migration;
    if (!g || !w.node || !m) continue;
    if (g === "Quiesce" && !failed.length) {
      if (passed(w, "Quiesce")) continue;
      const outcome = await quiesceWorkloads(ctx.client, rule, m.migrationId);
      if (outcome.changed.length) event(ctx, `quiesce/${m.migrationId}`, "Normal", "StorageWorkloadsQuiesced", `scaled to 0 for the storage migration: ${outcome.changed.join(", ")}`.slice(0, 1000));
      if (outcome.done) await ack(ctx, w.node, w.id, "Quiesced");
    } else if (g === "Merge" && !failed.length) {
      // After the primary's Swap (it waits at Resume), one worker at a time.
      const primaryReady = gateOf(primary!) === "Resume" && primary!.report?.migration?.phase === "Running";
      const merging = walk.some((o) => o !== w && o.plan.role === "worker" && passed(o, "Merge") && gateOf(o) !== "Swap" && o.report?.state === "Working");
      const first = walk.find((o) => gateOf(o) === "Merge") === w;
      if (primaryReady && !merging && first) await ack(ctx, w.node, w.id, "Merge");
    } else if (g === "Swap" && !failed.length) {
      const workers = walk.filter((o) => o.plan.role === "worker");
      if (workers.every((o) => gateOf(o) === "Swap" || passed(o, "Swap"))) for (const o of workers) if (gateOf(o) === "Swap") await ack(ctx, o.node!, o.id, "Swap");
    } else if (g === "Resume") {
      if (m.phase === "RollingBack") {
        // Workloads come back once no node is still moving data.
        if (walk.some((o) => o !== w && o.report?.migration?.phase === "Running" && o.report.state === "Working" && gateOf(o) !== "Resume")) continue;
        await resume(ctx, m.migrationId);
        await ack(ctx, w.node, w.id, "Resumed");
        continue;
      }
      if (failed.length) continue;
      const others = walk.filter((o) => o !== w);
      const ready = others.every((o) =>
        plan.to === "JuiceFS" && o.plan.role === "worker" ? o.report?.state === "Done" : gateOf(o) === "Resume" || passed(o, "Resume") || o.report?.state === "Done",
      );
      if (!ready) continue;
      if (m.to !== m.from) await tellOlares(ctx, m.to);
      await resume(ctx, m.migrationId);
      for (const o of [w, ...others]) if (o.node && gateOf(o) === "Resume" && o.report?.migration?.phase === "Running") await ack(ctx, o.node, o.id, "Resumed");
    }
  }
  return undefined;
}

async function resume(ctx: HookContext, key: string): Promise<void> {
  const outcome = await resumeWorkloads(ctx.client, key);
  if (outcome.changed.length) event(ctx, `resume/${key}`, "Normal", "StorageWorkloadsResumed", `scaled back after the storage migration: ${outcome.changed.join(", ")}`.slice(0, 1000));
}
