// kind "storageMigration": runs (or resumes) the engine's migration for this task's id. Up to date when
// the record says Succeeded and <root>/rootfs is served by the target type; a failed or rolled-back
// record fails the task with the engine's message (the spec or the credentials must change for a retry).
import type { StorageMigrationTask } from "../../contract/index.js";
import { backupPath, mergeStateFile, mountedFsType, readMigrationState, storageLayout, StorageMigration, summary, WorkerMerge } from "../storage/index.js";
import { migrationPlanFor, requireStorageEnvironment } from "../storage/task-plan.js";
import type { TaskContext, TaskModule } from "./types.js";

async function servedBy(ctx: TaskContext, root: string): Promise<"JuiceFS" | "LocalFS"> {
  return (await mountedFsType(ctx.host, `${root}/rootfs`)) === "fuse.juicefs" ? "JuiceFS" : "LocalFS";
}

/**
 * A migration that ended RolledBack or Failed is not run again for the same storage config (the engine
 * returns its record); once the config changed (spec or credentials), its record is archived and the
 * migration starts over from Precheck.
 */
/** A worker on the way to JuiceFS merges its tree into the shared volume (its own record); every other walk is the engine's. */
const merges = (task: StorageMigrationTask) => task.role === "worker" && task.to === "JuiceFS";
const stateFileOf = (task: StorageMigrationTask) => (merges(task) ? mergeStateFile(task.root) : storageLayout(task.root).stateFile);

async function retryAfterChange(ctx: TaskContext, task: StorageMigrationTask): Promise<void> {
  const layout = { stateFile: stateFileOf(task) };
  const marker = `${layout.stateFile}.config`;
  const record = await readMigrationState(ctx.host, layout.stateFile);
  const lastConfig = (await ctx.host.readText(marker))?.trim();
  if (record && record.id === task.migrationId && (record.phase === "RolledBack" || record.phase === "Failed") && lastConfig !== ctx.configId) {
    const archived = `${layout.stateFile}.${record.phase.toLowerCase()}-${Date.parse(record.startedAt)}`;
    ctx.log.info("storage: the config changed since the migration ended; starting it again", { previous: record.phase, archived });
    await ctx.host.runChecked(["mv", "-f", layout.stateFile, archived]);
  }
  await ctx.host.writeFile(marker, `${ctx.configId}\n`, { mode: 0o600, owner: { uid: 0, gid: 0 } });
}

export const storageMigrationTask: TaskModule<StorageMigrationTask> = {
  async check(ctx, task) {
    const record = await readMigrationState(ctx.host, stateFileOf(task));
    const served = await servedBy(ctx, task.root);
    if (served === task.to && (!record || record.id !== task.migrationId || record.phase === "Succeeded")) return { upToDate: true };
    const where = record?.id === task.migrationId ? ` (migration ${record.phase} at ${record.step})` : "";
    return { upToDate: false, diff: `${task.root}/rootfs is on ${served}, want ${task.to}${where}` };
  },
  async apply(ctx, task) {
    const env = requireStorageEnvironment(ctx.storage, task.id);
    const plan = migrationPlanFor(task, await env.credentials(task.credentials), env);
    await retryAfterChange(ctx, task);
    const state = merges(task)
      ? await new WorkerMerge(ctx.host, plan, env.services, env.mergeGate, env.hooks).run()
      : await new StorageMigration(ctx.host, plan, env.services, env.gate, env.hooks).run();
    if (state.phase !== "Succeeded") throw new Error(`storage migration ${task.from} → ${task.to} ${state.phase}: ${state.message ?? "no message"}`);
    if (!task.retainPreviousData && task.from === "LocalFS") {
      const bak = backupPath(task.root, "LocalFS");
      ctx.log.info("storage: removing the previous LocalFS tree (retainPreviousData is false)", { path: bak });
      await ctx.host.runChecked(["rm", "-rf", "--one-file-system", bak], { timeoutMs: 60 * 60_000 });
    }
  },
  async verify(ctx, task) {
    const served = await servedBy(ctx, task.root);
    if (served !== task.to) throw new Error(`verify: ${task.root}/rootfs is on ${served}, want ${task.to}`);
    if (task.to === "JuiceFS") await summary(ctx.host, { binary: ctx.storage?.binaries.juicefs ?? "/usr/local/bin/juicefs" }, `${task.root}/rootfs`);
  },
  // The engine rolls itself back (before Swap to the old tree, after Swap to the kept one): nothing to undo here.
  async undo() {},
  managedFiles: async () => [],
};
