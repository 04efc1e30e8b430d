// kind "file": one whole file with exact content and mode.
import type { FileTask } from "../../contract/index.js";
import { fileDiff, restoreManaged, sha256, writeManaged } from "./common.js";
import type { TaskModule } from "./types.js";

export const fileTask: TaskModule<FileTask> = {
  async check(ctx, task) {
    const diff = await fileDiff(ctx.host, task.path, task.content, task.mode);
    if (diff) return { upToDate: false, diff };
    if (task.owner) {
      const st = await ctx.host.stat(task.path);
      if (st?.uid !== task.owner.uid || st.gid !== task.owner.gid) return { upToDate: false, diff: `${task.path}: owner differs` };
    }
    return { upToDate: true };
  },
  async apply(ctx, task) {
    await writeManaged(ctx, task.path, task.content, task.mode, task.owner);
  },
  async verify(ctx, task) {
    const diff = await fileDiff(ctx.host, task.path, task.content, task.mode);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    await restoreManaged(ctx, task.path, scope);
  },
  managedFiles: async (_ctx, task) => [{ path: task.path, sha256: sha256(task.content) }],
};
