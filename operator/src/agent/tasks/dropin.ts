// kind "dropin": /etc/systemd/system/<unit>.d/<name>; systemd re-reads units after a change.
import type { DropinTask } from "../../contract/index.js";
import { fileDiff, restoreManaged, sha256, writeManaged } from "./common.js";
import type { TaskModule } from "./types.js";

export function dropinPath(task: Pick<DropinTask, "unit" | "name">): string {
  return `/etc/systemd/system/${task.unit}.d/${task.name}`;
}

export const dropinTask: TaskModule<DropinTask> = {
  async check(ctx, task) {
    const diff = await fileDiff(ctx.host, dropinPath(task), task.content, 0o644);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    if (await writeManaged(ctx, dropinPath(task), task.content, 0o644)) await ctx.host.systemd.daemonReload();
  },
  async verify(ctx, task) {
    const diff = await fileDiff(ctx.host, dropinPath(task), task.content, 0o644);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    if (await restoreManaged(ctx, dropinPath(task), scope)) await ctx.host.systemd.daemonReload();
  },
  managedFiles: async (_ctx, task) => [{ path: dropinPath(task), sha256: sha256(task.content) }],
};
