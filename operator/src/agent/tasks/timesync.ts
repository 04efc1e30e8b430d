// kind "timesync": chrony where it is installed, otherwise systemd-timesyncd (installed when missing).
import { HOST_PATHS, type TimesyncTask } from "../../contract/index.js";
import type { Host } from "../host/types.js";
import { ensureUnitState, fileDiff, installPackages, removeOurPackages, restartIfActive, restoreManaged, restoreUnit, sha256, unitDiff, writeManaged } from "./common.js";
import type { TaskModule } from "./types.js";

interface Backend {
  unit: string;
  path: string;
  content: string;
}

export const TIMESYNCD_DROPIN = HOST_PATHS.timesyncdDropin;
export const CHRONY_SOURCES = HOST_PATHS.chronySources;

export function timesyncdContent(task: Pick<TimesyncTask, "servers">): string {
  return `# Managed by olares-operator (spec.os.ntp)\n[Time]\nNTP=${task.servers.join(" ")}\n`;
}

export function chronyContent(task: Pick<TimesyncTask, "servers">): string {
  return `# Managed by olares-operator (spec.os.ntp)\n${task.servers.map((s) => `server ${s} iburst\n`).join("")}`;
}

async function backend(host: Host, task: TimesyncTask): Promise<Backend> {
  // Debian-family chrony reads sources.d; chrony wins when the admin installed it.
  if ((await host.exists("/etc/chrony/chrony.conf")) && (await host.which("chronyd"))) {
    const unit = (await host.systemd.exists("chrony.service")) ? "chrony.service" : "chronyd.service";
    return { unit, path: CHRONY_SOURCES, content: chronyContent(task) };
  }
  return { unit: "systemd-timesyncd.service", path: TIMESYNCD_DROPIN, content: timesyncdContent(task) };
}

export const timesyncTask: TaskModule<TimesyncTask> = {
  async check(ctx, task) {
    const b = await backend(ctx.host, task);
    const diff = (await fileDiff(ctx.host, b.path, b.content, 0o644)) ?? (await unitDiff(ctx.host, b.unit, true, true));
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    let b = await backend(ctx.host, task);
    if (b.unit === "systemd-timesyncd.service" && !(await ctx.host.systemd.exists(b.unit))) {
      await installPackages(ctx, ["systemd-timesyncd"]);
      b = await backend(ctx.host, task);
    }
    const wrote = await writeManaged(ctx, b.path, b.content, 0o644);
    const started = await ensureUnitState(ctx, b.unit, true, true);
    if (wrote && !started) await restartIfActive(ctx, b.unit);
    if (b.unit !== "systemd-timesyncd.service" || !(await ctx.host.systemd.live())) return;
    await ctx.host.run(["timedatectl", "set-ntp", "true"]);
  },
  async verify(ctx, task) {
    const b = await backend(ctx.host, task);
    const diff = (await fileDiff(ctx.host, b.path, b.content, 0o644)) ?? (await unitDiff(ctx.host, b.unit, true, true));
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    const b = await backend(ctx.host, task);
    await restoreManaged(ctx, TIMESYNCD_DROPIN, scope);
    await restoreManaged(ctx, CHRONY_SOURCES, scope);
    await restoreUnit(ctx, b.unit, scope);
    await restartIfActive(ctx, b.unit);
    await removeOurPackages(ctx, ["systemd-timesyncd"], scope);
  },
  async managedFiles(ctx, task) {
    const b = await backend(ctx.host, task);
    return [{ path: b.path, sha256: sha256(b.content) }];
  },
};
