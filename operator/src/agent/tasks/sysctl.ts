// kind "sysctl": /etc/sysctl.d/90-olares.conf, loaded into the running kernel where there is one;
// undo restores the file and the runtime values we replaced.
import { HOST_PATHS, type SysctlTask } from "../../contract/index.js";
import { ORIGINAL_SCOPE, fileDiff, restoreManaged, sha256, writeManaged } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

export const SYSCTL_FILE = HOST_PATHS.sysctl;

export function sysctlContent(task: Pick<SysctlTask, "values">): string {
  const lines = Object.keys(task.values)
    .sort()
    .map((k) => `${k} = ${task.values[k]}`);
  return `# Managed by olares-operator (spec.os.sysctl)\n${lines.join("\n")}${lines.length ? "\n" : ""}`;
}

function procPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, "/")}`;
}

async function runtimeValue(ctx: TaskContext, key: string): Promise<string | undefined> {
  return (await ctx.host.readText(procPath(key)))?.trim().replace(/\s+/g, " ");
}

async function runtimeDiff(ctx: TaskContext, task: SysctlTask): Promise<string | undefined> {
  if (!(await ctx.host.liveKernel())) return undefined;
  for (const [k, v] of Object.entries(task.values)) {
    const now = await runtimeValue(ctx, k);
    if (now !== undefined && now !== v.trim().replace(/\s+/g, " ")) return `${k}: running value ${now}, want ${v}`;
  }
  return undefined;
}

export const sysctlTask: TaskModule<SysctlTask> = {
  async check(ctx, task) {
    const diff = (await fileDiff(ctx.host, SYSCTL_FILE, sysctlContent(task), 0o644)) ?? (await runtimeDiff(ctx, task));
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    await writeManaged(ctx, SYSCTL_FILE, sysctlContent(task), 0o644);
    if (!(await ctx.host.liveKernel())) {
      ctx.log.info("no live kernel under this root: sysctl values take effect at boot");
      return;
    }
    for (const k of Object.keys(task.values)) {
      const before = await runtimeValue(ctx, k);
      if (before === undefined) continue;
      await ctx.host.saveFact(ORIGINAL_SCOPE, `sysctl:${k}`, before);
      await ctx.host.saveFact(ctx.configId, `sysctl:${k}`, before);
    }
    // -e: keys of modules not loaded yet (e.g. br_netfilter) must not fail the whole file.
    await ctx.host.runChecked(["sysctl", "-e", "-p", SYSCTL_FILE]);
  },
  async verify(ctx, task) {
    const diff = (await fileDiff(ctx.host, SYSCTL_FILE, sysctlContent(task), 0o644)) ?? (await runtimeDiff(ctx, task));
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    await restoreManaged(ctx, SYSCTL_FILE, scope);
    if (!(await ctx.host.liveKernel())) return;
    for (const k of Object.keys(task.values)) {
      const before = await ctx.host.readFact<string>(scope, `sysctl:${k}`);
      if (before !== undefined) await ctx.host.run(["sysctl", "-w", `${k}=${before}`]);
    }
  },
  managedFiles: async (_ctx, task) => [{ path: SYSCTL_FILE, sha256: sha256(sysctlContent(task)) }],
};
