// Tasks the new config no longer has are undone back to the host's original state (MCO's
// deleteStaleData): a sysctl dropped from the spec must not linger. Anything the new config still
// owns — a file path, a package (installed or removed), a unit — is left to it.
import { validateHostTasks, type HostTask, type PackagesAbsentTask, type PackagesTask } from "../../contract/index.js";
import { ORIGINAL_SCOPE } from "./common.js";
import { moduleFor } from "./registry.js";
import type { TaskContext } from "./types.js";

export interface RemovedTasksResult {
  undone: string[];
  errors: Array<{ taskId: string; message: string }>;
}

interface Owned {
  paths: Set<string>;
  packages: Set<string>;
  units: Set<string>;
}

const bareName = (n: string) => n.split("=")[0]!;

async function ownedBy(ctx: TaskContext, tasks: readonly HostTask[]): Promise<Owned> {
  const owned: Owned = { paths: new Set(), packages: new Set(), units: new Set() };
  for (const t of tasks) {
    for (const f of await moduleFor(t).managedFiles(ctx, t)) owned.paths.add(f.path);
    if (t.kind === "packages" || t.kind === "packagesAbsent") t.names.forEach((n) => owned.packages.add(bareName(n)));
    if (t.kind === "unit") owned.units.add(t.name);
    if (t.kind === "dropin") owned.units.add(t.unit);
  }
  return owned;
}

/** The part of a dropped task the new config does not own, or undefined when it owns all of it. */
async function unowned(ctx: TaskContext, task: HostTask, owned: Owned): Promise<HostTask | undefined> {
  let target: HostTask = task;
  if (task.kind === "packages" || task.kind === "packagesAbsent") {
    const names = task.names.filter((n) => !owned.packages.has(bareName(n)));
    if (names.length === 0) return undefined;
    target = { ...task, names } satisfies PackagesTask | PackagesAbsentTask;
  }
  if (task.kind === "unit" && owned.units.has(task.name)) return undefined;
  const files = await moduleFor(target).managedFiles(ctx, target);
  if (files.some((f) => owned.paths.has(f.path))) {
    ctx.log.info(`task ${task.id} left the config but its files are managed by the new config; not undone`);
    return undefined;
  }
  return target;
}

/** Undoes, in reverse order, the tasks of `previous` whose ids `config` dropped. */
export async function undoRemovedTasks(
  ctx: TaskContext,
  previous: { id: string; tasks: readonly HostTask[] },
  config: { id: string; tasks: readonly HostTask[] },
): Promise<RemovedTasksResult> {
  const result: RemovedTasksResult = { undone: [], errors: [] };
  if (previous.id === config.id) return result;
  const kept = new Set(config.tasks.map((t) => t.id));
  const removed = previous.tasks.filter((t) => !kept.has(t.id)).reverse();
  if (removed.length === 0) return result;
  // Values that no longer pass validation never reach a command, not even to be undone.
  const invalid = validateHostTasks(previous.tasks);
  if (invalid.length > 0) {
    ctx.log.warn(`previous config ${previous.id} fails validation; its dropped tasks are not undone`, { errors: invalid });
    return result;
  }
  const owned = await ownedBy(ctx, config.tasks);
  for (const task of removed) {
    try {
      const target = await unowned(ctx, task, owned);
      if (!target) continue;
      await moduleFor(target).undo(ctx, target, ORIGINAL_SCOPE);
      result.undone.push(task.id);
    } catch (err) {
      result.errors.push({ taskId: task.id, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return result;
}
