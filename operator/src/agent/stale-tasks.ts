// Tasks the new config no longer has are undone back to the host's original state (MCO's
// deleteStaleData): a sysctl dropped from the spec must not linger. Anything the new config still
// owns — a file path, a package, a unit — is left to it.
import type { HostTask, PackagesTask } from "../render/host-tasks.js";
import { moduleFor, ORIGINAL_SCOPE, type TaskContext, type TaskLog, type TypedNodeConfig } from "./tasks/index.js";

export interface StaleUndoResult {
  undone: string[];
  errors: Array<{ taskId: string; message: string }>;
}

async function ownedByNewConfig(ctx: TaskContext, to: TypedNodeConfig): Promise<{ paths: Set<string>; packages: Set<string>; units: Set<string> }> {
  const paths = new Set<string>();
  const packages = new Set<string>();
  const units = new Set<string>();
  for (const t of to.tasks) {
    for (const f of await moduleFor(t).managedFiles(ctx, t)) paths.add(f.path);
    if (t.kind === "packages") t.names.forEach((n) => packages.add(n.split("=")[0]!));
    if (t.kind === "unit") units.add(t.name);
    if (t.kind === "dropin") units.add(t.unit);
  }
  return { paths, packages, units };
}

export async function undoRemovedTasks(host: TaskContext["host"], from: TypedNodeConfig, to: TypedNodeConfig, log: TaskLog): Promise<StaleUndoResult> {
  const result: StaleUndoResult = { undone: [], errors: [] };
  const keep = new Set(to.tasks.map((t) => t.id));
  const removed = from.tasks.filter((t) => !keep.has(t.id)).reverse();
  if (removed.length === 0) return result;
  const ctx: TaskContext = { host, configId: to.id, log, changed: new Set() };
  const owned = await ownedByNewConfig(ctx, to);
  for (const task of removed) {
    let target: HostTask = task;
    if (task.kind === "packages") {
      const names = task.names.filter((n) => !owned.packages.has(n.split("=")[0]!));
      if (names.length === 0) continue;
      target = { ...task, names } satisfies PackagesTask;
    }
    if (task.kind === "unit" && owned.units.has(task.name)) continue;
    const files = await moduleFor(target).managedFiles(ctx, target);
    if (files.some((f) => owned.paths.has(f.path))) {
      log.info(`task ${task.id} left the config but its files are managed by the new config; not undone`);
      continue;
    }
    try {
      await moduleFor(target).undo(ctx, target, ORIGINAL_SCOPE);
      result.undone.push(task.id);
    } catch (err) {
      result.errors.push({ taskId: task.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}
