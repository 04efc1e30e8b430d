// kind "unit": optional unit file, enablement, run state, and restarts when a dependency changed.
import type { UnitTask } from "../../contract/index.js";
import { ensureUnitState, fileDiff, rememberUnit, restoreManaged, restoreUnit, sha256, unitDiff, writeManaged } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

export function unitPath(name: string): string {
  return `/etc/systemd/system/${name}`;
}

function changedDependencies(ctx: TaskContext, task: UnitTask): string[] {
  return (task.restartOnChange ?? []).filter((id) => ctx.changed.has(id));
}

export const unitTask: TaskModule<UnitTask> = {
  async check(ctx, task) {
    if (task.content !== undefined) {
      const diff = await fileDiff(ctx.host, unitPath(task.name), task.content, 0o644);
      if (diff) return { upToDate: false, diff };
    }
    const diff = await unitDiff(ctx.host, task.name, task.enable, task.state === "started");
    if (diff) return { upToDate: false, diff };
    const deps = changedDependencies(ctx, task);
    if (deps.length > 0 && task.state === "started" && (await ctx.host.systemd.live())) {
      return { upToDate: false, diff: `${task.name}: restart for ${deps.join(", ")}` };
    }
    return { upToDate: true };
  },
  async apply(ctx, task) {
    const systemd = ctx.host.systemd;
    await rememberUnit(ctx, task.name);
    let fileChanged = false;
    if (task.content !== undefined) {
      fileChanged = await writeManaged(ctx, unitPath(task.name), task.content, 0o644);
      if (fileChanged) await systemd.daemonReload();
    }
    if (!(await systemd.exists(task.name))) throw new Error(`${task.name}: no such unit on the host`);
    const wasActive = await systemd.isActive(task.name);
    await ensureUnitState(ctx, task.name, task.enable, task.state === "started");
    const needsRestart = fileChanged || changedDependencies(ctx, task).length > 0;
    if (task.state === "started" && wasActive && needsRestart) await systemd.restart(task.name);
  },
  async verify(ctx, task) {
    if (task.content !== undefined) {
      const diff = await fileDiff(ctx.host, unitPath(task.name), task.content, 0o644);
      if (diff) throw new Error(`verify: ${diff}`);
    }
    const diff = await unitDiff(ctx.host, task.name, task.enable, task.state === "started");
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    const systemd = ctx.host.systemd;
    if (task.content !== undefined && (await ctx.host.hasBackup(unitPath(task.name), scope))) {
      // Our unit file goes away: stop and disable it first, while systemd still knows it.
      const existedBefore = (await ctx.host.readFact<{ exists: boolean }>(scope, `unit:${task.name}`))?.exists ?? true;
      if (!existedBefore) {
        if (await systemd.isActive(task.name)) await systemd.stop(task.name);
        if (await systemd.isEnabled(task.name)) await systemd.disable(task.name);
      }
      await restoreManaged(ctx, unitPath(task.name), scope);
      await systemd.daemonReload();
    }
    await restoreUnit(ctx, task.name, scope);
  },
  managedFiles: async (_ctx, task) => (task.content === undefined ? [] : [{ path: unitPath(task.name), sha256: sha256(task.content) }]),
};
