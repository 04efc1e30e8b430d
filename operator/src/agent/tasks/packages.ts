// kind "packages": distribution packages installed (undo removes only what we installed).
import type { PackagesTask } from "../../contract/index.js";
import { installPackages, removeOurPackages } from "./common.js";
import type { TaskModule } from "./types.js";

async function missing(ctx: Parameters<TaskModule<PackagesTask>["check"]>[0], task: PackagesTask): Promise<string[]> {
  const present = new Set(await ctx.host.packages.installed(task.names));
  return task.names.filter((n) => !present.has(n));
}

export const packagesTask: TaskModule<PackagesTask> = {
  async check(ctx, task) {
    const absent = await missing(ctx, task);
    return absent.length === 0 ? { upToDate: true } : { upToDate: false, diff: `not installed: ${absent.join(" ")}` };
  },
  async apply(ctx, task) {
    await installPackages(ctx, task.names);
  },
  async verify(ctx, task) {
    const absent = await missing(ctx, task);
    if (absent.length > 0) throw new Error(`verify: still not installed: ${absent.join(" ")}`);
  },
  async undo(ctx, task, scope) {
    await removeOurPackages(ctx, task.names, scope);
  },
  managedFiles: async () => [],
};
