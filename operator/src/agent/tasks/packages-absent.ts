// kind "packagesAbsent": distribution packages removed (e.g. unattended-upgrades); undo reinstalls only
// the ones that were installed before we removed them.
import type { PackagesAbsentTask } from "../../contract/index.js";
import { ORIGINAL_SCOPE } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

const factKey = (name: string) => `package-removed:${name}`;

async function present(ctx: TaskContext, task: PackagesAbsentTask): Promise<string[]> {
  return ctx.host.packages.installed(task.names);
}

export const packagesAbsentTask: TaskModule<PackagesAbsentTask> = {
  async check(ctx, task) {
    const found = await present(ctx, task);
    return found.length === 0 ? { upToDate: true } : { upToDate: false, diff: `installed, to be removed: ${found.join(" ")}` };
  },
  async apply(ctx, task) {
    const found = await present(ctx, task);
    if (found.length === 0) return;
    for (const n of found) {
      await ctx.host.saveFact(ORIGINAL_SCOPE, factKey(n), true);
      await ctx.host.saveFact(ctx.configId, factKey(n), true);
    }
    ctx.log.info(`removing packages: ${found.join(" ")}`);
    await ctx.host.packages.remove(found);
  },
  async verify(ctx, task) {
    const found = await present(ctx, task);
    if (found.length > 0) throw new Error(`verify: still installed: ${found.join(" ")}`);
  },
  async undo(ctx, task, scope) {
    const ours: string[] = [];
    for (const n of task.names) if ((await ctx.host.readFact<boolean>(scope, factKey(n))) === true) ours.push(n);
    const back = new Set(await ctx.host.packages.installed(ours));
    const missing = ours.filter((n) => !back.has(n));
    if (missing.length === 0) return;
    ctx.log.info(`reinstalling packages olares removed: ${missing.join(" ")}`);
    await ctx.host.packages.install(missing);
  },
  managedFiles: async () => [],
};
