// kind "juicefsRootfs": the JuiceFS rootfs through the storage engine's install (services, format
// once, units, K3s drop-in, mount); idempotent, so it is also the steady state after a migration.
import type { JuiceFSRootfsTask } from "../../contract/index.js";
import { isJuiceFSMount, StorageMigration, summary } from "../storage/index.js";
import { expectedStorageFiles, migrationPlanFor, requireStorageEnvironment, storageFileDiffs } from "../storage/task-plan.js";
import type { TaskContext, TaskModule } from "./types.js";

async function differences(ctx: TaskContext, task: JuiceFSRootfsTask): Promise<string[]> {
  const rootfs = `${task.root}/rootfs`;
  if (!(await isJuiceFSMount(ctx.host, rootfs))) return [`${rootfs} is not a JuiceFS mount`];
  if (!ctx.storage) return [];
  const plan = migrationPlanFor(task, await ctx.storage.credentials(task.credentials), ctx.storage);
  return storageFileDiffs(ctx.host, expectedStorageFiles(plan));
}

export const juicefsRootfsTask: TaskModule<JuiceFSRootfsTask> = {
  async check(ctx, task) {
    const diffs = await differences(ctx, task);
    return diffs.length ? { upToDate: false, diff: diffs.join("; ") } : { upToDate: true };
  },
  async apply(ctx, task) {
    const env = requireStorageEnvironment(ctx.storage, task.id);
    const plan = migrationPlanFor(task, await env.credentials(task.credentials), env);
    if (task.role === "worker") plan.managed = {};
    await new StorageMigration(ctx.host, plan, env.services, env.gate, env.hooks).install();
  },
  async verify(ctx, task) {
    const diffs = await differences(ctx, task);
    if (diffs.length) throw new Error(`verify: ${diffs.join("; ")}`);
    await summary(ctx.host, { binary: ctx.storage?.binaries.juicefs ?? "/usr/local/bin/juicefs" }, `${task.root}/rootfs`);
  },
  // The data lives on the volume: removing the task never unmounts or deletes it (a migration to LocalFS does that).
  async undo() {},
  managedFiles: async () => [],
};
