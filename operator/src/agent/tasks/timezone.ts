// kind "timezone": /etc/localtime -> /usr/share/zoneinfo/<name>, and /etc/timezone (Debian's record).
import { HOST_PATHS, type TimezoneTask } from "../../contract/index.js";
import { backupBoth, fileDiff, installPackages, removeOurPackages, restoreManaged, sha256, writeManaged } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

export const LOCALTIME = HOST_PATHS.localtime;
export const TIMEZONE_FILE = HOST_PATHS.timezone;

function zoneTarget(name: string): string {
  return `/usr/share/zoneinfo/${name}`;
}

async function diffOf(ctx: TaskContext, task: TimezoneTask): Promise<string | undefined> {
  const link = await ctx.host.readLink(LOCALTIME);
  if (link !== zoneTarget(task.name)) return `${LOCALTIME}: ${link ? `points to ${link}` : "not a symlink"}, want ${zoneTarget(task.name)}`;
  return fileDiff(ctx.host, TIMEZONE_FILE, `${task.name}\n`, 0o644);
}

export const timezoneTask: TaskModule<TimezoneTask> = {
  async check(ctx, task) {
    const diff = await diffOf(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    if (!(await ctx.host.exists("/usr/share/zoneinfo"))) await installPackages(ctx, ["tzdata"]);
    const zone = await ctx.host.stat(zoneTarget(task.name));
    if (zone?.type !== "file" && zone?.type !== "symlink") throw new Error(`time zone ${task.name} is not in /usr/share/zoneinfo on this host`);
    if ((await ctx.host.readLink(LOCALTIME)) !== zoneTarget(task.name)) {
      await backupBoth(ctx, LOCALTIME);
      await ctx.host.symlink(LOCALTIME, zoneTarget(task.name));
    }
    await writeManaged(ctx, TIMEZONE_FILE, `${task.name}\n`, 0o644);
  },
  async verify(ctx, task) {
    const diff = await diffOf(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, _task, scope) {
    await restoreManaged(ctx, LOCALTIME, scope);
    await restoreManaged(ctx, TIMEZONE_FILE, scope);
    await removeOurPackages(ctx, ["tzdata"], scope);
  },
  managedFiles: async (_ctx, task) => [{ path: TIMEZONE_FILE, sha256: sha256(`${task.name}\n`) }],
};
