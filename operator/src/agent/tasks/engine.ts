// Applies a node config task by task (check → apply → verify), rolls the applied ones back when one
// fails, holds reboot tasks back unless reboots are allowed, undoes the tasks the new config dropped,
// undoes everything on cleanup and reports drift of the files we own.
import { validateHostTasks, type HostTask, type TypedNodeConfig } from "../../contract/index.js";
import type { Host } from "../host/types.js";
import { ORIGINAL_SCOPE, sha256 } from "./common.js";
import { moduleFor } from "./registry.js";
import { undoRemovedTasks } from "./removed-tasks.js";
import type { ApplyOptions, ApplyResult, DriftEntry, TaskContext, TaskLog } from "./types.js";

export type { TypedNodeConfig } from "../../contract/index.js";

const CONFIG_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Rejects a config with any invalid task before anything touches the host. */
function invalidTask(config: TypedNodeConfig): { taskId: string; message: string } | undefined {
  if (!CONFIG_ID.test(config.id)) return { taskId: "config", message: `config id ${JSON.stringify(config.id)} is not valid` };
  const errors = validateHostTasks(config.tasks);
  if (errors.length === 0) return undefined;
  const first = errors[0]!;
  const taskId = config.tasks.find((t) => first.startsWith(`${t.id}.`))?.id ?? "config";
  return { taskId, message: `rejected invalid task values: ${errors.join("; ")}` };
}

export async function applyNodeConfig(host: Host, config: TypedNodeConfig, opts: ApplyOptions): Promise<ApplyResult> {
  const result: ApplyResult = { changed: [], rebootRequired: false, rolledBack: [] };
  const invalid = invalidTask(config);
  if (invalid) return { ...result, error: invalid };

  const changed = new Set<string>();
  const ctx: TaskContext = { host, configId: config.id, log: opts.log, changed };
  const applied: HostTask[] = [];
  // Backups of an earlier, interrupted apply of this same config describe a state that is gone.
  await host.dropBackups(config.id);

  for (const task of config.tasks) {
    const mod = moduleFor(task);
    try {
      const check = await mod.check(ctx, task);
      if (check.upToDate) continue;
      if (task.disruption === "reboot" && !opts.allowReboot) {
        opts.log.warn(`task ${task.id} needs a reboot and reboots are not allowed: left pending`, { diff: check.diff });
        result.rebootRequired = true;
        continue;
      }
      opts.log.info(`task ${task.id}: ${check.diff ?? "out of date"}`);
      applied.push(task);
      await mod.apply(ctx, task);
      await mod.verify(ctx, task);
      changed.add(task.id);
      result.changed.push(task.id);
      if (task.disruption === "reboot") result.rebootRequired = true;
    } catch (e) {
      result.error = { taskId: task.id, message: errorMessage(e) };
      opts.log.warn(`task ${task.id} failed, rolling back this config`, { error: result.error.message });
      // The failed task's own partial work is undone first; rolledBack lists the earlier tasks.
      const failed = applied.at(-1) === task ? applied.pop() : undefined;
      if (failed) await rollBack(ctx, [failed]);
      result.rolledBack = await rollBack(ctx, applied.reverse());
      await host.dropBackups(config.id);
      return result;
    }
  }
  await host.dropBackups(config.id);
  // A held-back reboot task leaves the node on its previous config: keep that config's tasks too.
  if (opts.previous && !(result.rebootRequired && !opts.allowReboot)) {
    const removed = await undoRemovedTasks(ctx, opts.previous, config);
    result.removed = removed.undone;
    if (removed.errors.length > 0) result.removeErrors = removed.errors;
  }
  return result;
}

async function rollBack(ctx: TaskContext, tasks: HostTask[]): Promise<string[]> {
  const undone: string[] = [];
  for (const task of tasks) {
    try {
      await moduleFor(task).undo(ctx, task, ctx.configId);
      undone.push(task.id);
    } catch (e) {
      ctx.log.warn(`rollback of ${task.id} failed`, { error: errorMessage(e) });
    }
  }
  return undone;
}

export interface UndoResult {
  undone: string[];
  errors: Array<{ taskId: string; message: string }>;
}

/** Cleanup on deletion: every task undone in reverse order, back to the host as it was before Olares. */
export async function undoNodeConfig(host: Host, config: TypedNodeConfig, opts: { log: TaskLog }): Promise<UndoResult> {
  const out: UndoResult = { undone: [], errors: [] };
  const invalid = invalidTask(config);
  if (invalid) return { undone: [], errors: [invalid] };
  const ctx: TaskContext = { host, configId: config.id, log: opts.log, changed: new Set() };
  for (const task of [...config.tasks].reverse()) {
    try {
      await moduleFor(task).undo(ctx, task, ORIGINAL_SCOPE);
      out.undone.push(task.id);
    } catch (e) {
      out.errors.push({ taskId: task.id, message: errorMessage(e) });
      opts.log.warn(`undo of ${task.id} failed`, { error: errorMessage(e) });
    }
  }
  await host.dropBackups(config.id);
  if (out.errors.length === 0) await host.dropBackups(ORIGINAL_SCOPE);
  return out;
}

/** Managed files whose content is no longer what the config wrote. */
export async function detectDrift(host: Host, config: TypedNodeConfig): Promise<DriftEntry[]> {
  if (invalidTask(config)) return [];
  const silent: TaskLog = { info: () => {}, warn: () => {} };
  const ctx: TaskContext = { host, configId: config.id, log: silent, changed: new Set() };
  const drift: DriftEntry[] = [];
  for (const task of config.tasks) {
    for (const file of await moduleFor(task).managedFiles(ctx, task)) {
      const content = await host.read(file.path);
      if (content === undefined) drift.push({ taskId: task.id, path: file.path, message: "missing" });
      else if (sha256(content) !== file.sha256) drift.push({ taskId: task.id, path: file.path, message: "content changed" });
    }
  }
  return drift;
}
