// Helpers shared by the task modules: managed writes with backups, unit state memory, package memory.
import { createHash } from "node:crypto";
import type { Host } from "../host/types.js";
import type { TaskContext } from "./types.js";

/** The backup scope holding the host as it was before Olares touched it. */
export const ORIGINAL_SCOPE = "original";

export function sha256(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** True when `path` is a regular file with exactly this content and mode. */
export async function fileMatches(host: Host, path: string, content: string | Buffer, mode: number): Promise<boolean> {
  const st = await host.stat(path);
  if (!st || st.type !== "file" || st.mode !== mode) return false;
  const current = await host.read(path);
  return current !== undefined && current.equals(typeof content === "string" ? Buffer.from(content) : content);
}

/** Why a file differs, for CheckResult.diff. */
export async function fileDiff(host: Host, path: string, content: string | Buffer, mode: number): Promise<string | undefined> {
  const st = await host.stat(path);
  if (!st) return `${path}: missing`;
  if (st.type !== "file") return `${path}: is a ${st.type}, want a file`;
  const current = await host.read(path);
  if (!current?.equals(typeof content === "string" ? Buffer.from(content) : content)) return `${path}: content differs`;
  if (st.mode !== mode) return `${path}: mode ${st.mode.toString(8)}, want ${mode.toString(8)}`;
  return undefined;
}

/** Backs the path up for rollback (config scope) and cleanup (original scope). */
export async function backupBoth(ctx: TaskContext, path: string): Promise<void> {
  await ctx.host.backup(path, ORIGINAL_SCOPE);
  await ctx.host.backup(path, ctx.configId);
}

/** Writes a managed file when it differs; returns whether it wrote. */
export async function writeManaged(
  ctx: TaskContext,
  path: string,
  content: string | Buffer,
  mode: number,
  owner?: { uid: number; gid: number },
): Promise<boolean> {
  if (await fileMatches(ctx.host, path, content, mode)) {
    if (!owner) return false;
    const st = await ctx.host.stat(path);
    if (st && st.uid === owner.uid && st.gid === owner.gid) return false;
  }
  await backupBoth(ctx, path);
  await ctx.host.writeFile(path, content, { mode, owner });
  return true;
}

/** Puts a managed path back as the scope's backup has it (deletes it when nothing existed). */
export async function restoreManaged(ctx: TaskContext, path: string, scope: string): Promise<boolean> {
  return ctx.host.restore(path, scope);
}

interface UnitMemory {
  exists: boolean;
  enabled: boolean;
  active: boolean;
}

/** Remembers a unit's enablement and run state before we change it (first call per scope wins). */
export async function rememberUnit(ctx: TaskContext, unit: string): Promise<void> {
  const key = `unit:${unit}`;
  if ((await ctx.host.readFact(ORIGINAL_SCOPE, key)) !== undefined && (await ctx.host.readFact(ctx.configId, key)) !== undefined) return;
  const exists = await ctx.host.systemd.exists(unit);
  const memory: UnitMemory = {
    exists,
    enabled: exists && (await ctx.host.systemd.isEnabled(unit)),
    active: exists && (await ctx.host.systemd.isActive(unit)),
  };
  await ctx.host.saveFact(ORIGINAL_SCOPE, key, memory);
  await ctx.host.saveFact(ctx.configId, key, memory);
}

/** Returns a unit to its remembered enablement and run state. */
export async function restoreUnit(ctx: TaskContext, unit: string, scope: string): Promise<void> {
  const memory = await ctx.host.readFact<UnitMemory>(scope, `unit:${unit}`);
  if (!memory || !(await ctx.host.systemd.exists(unit))) return;
  const enabled = await ctx.host.systemd.isEnabled(unit);
  if (memory.enabled && !enabled) await ctx.host.systemd.enable(unit);
  if (!memory.enabled && enabled) await ctx.host.systemd.disable(unit);
  const active = await ctx.host.systemd.isActive(unit);
  if (memory.active && !active) await ctx.host.systemd.start(unit);
  if (!memory.active && active) await ctx.host.systemd.stop(unit);
}

/** Brings a unit to the wanted enablement and run state; returns whether anything changed. */
export async function ensureUnitState(ctx: TaskContext, unit: string, enable: boolean, started: boolean): Promise<boolean> {
  const systemd = ctx.host.systemd;
  let changed = false;
  if ((await systemd.isEnabled(unit)) !== enable) {
    await rememberUnit(ctx, unit);
    await (enable ? systemd.enable(unit) : systemd.disable(unit));
    changed = true;
  }
  if ((await systemd.live()) && (await systemd.isActive(unit)) !== started) {
    await rememberUnit(ctx, unit);
    await (started ? systemd.start(unit) : systemd.stop(unit));
    changed = true;
  }
  return changed;
}

/** Why a unit is not in the wanted state, or undefined. Run state only counts where systemd runs. */
export async function unitDiff(host: Host, unit: string, enable: boolean, started: boolean): Promise<string | undefined> {
  if (!(await host.systemd.exists(unit))) return `${unit}: not installed`;
  if ((await host.systemd.isEnabled(unit)) !== enable) return `${unit}: ${enable ? "not enabled" : "enabled"}`;
  if ((await host.systemd.live()) && (await host.systemd.isActive(unit)) !== started) return `${unit}: ${started ? "not running" : "running"}`;
  return undefined;
}

/** Installs the missing packages and remembers which ones we installed (for undo). */
export async function installPackages(ctx: TaskContext, names: readonly string[]): Promise<string[]> {
  const bare = names.map((n) => n.split("=")[0]!);
  const present = new Set(await ctx.host.packages.installed(bare));
  const missing = names.filter((n) => !present.has(n.split("=")[0]!));
  if (missing.length === 0) return [];
  for (const n of missing) {
    const key = `package:${n.split("=")[0]}`;
    await ctx.host.saveFact(ORIGINAL_SCOPE, key, true);
    await ctx.host.saveFact(ctx.configId, key, true);
  }
  ctx.log.info(`installing packages: ${missing.join(" ")}`);
  await ctx.host.packages.install(missing);
  return missing;
}

/** Removes the packages of `names` that we installed (per the scope's memory) and that are still present. */
export async function removeOurPackages(ctx: TaskContext, names: readonly string[], scope: string): Promise<string[]> {
  const ours: string[] = [];
  for (const n of names.map((x) => x.split("=")[0]!)) {
    if ((await ctx.host.readFact<boolean>(scope, `package:${n}`)) === true) ours.push(n);
  }
  const present = await ctx.host.packages.installed(ours);
  if (present.length > 0) {
    ctx.log.info(`removing packages installed by olares: ${present.join(" ")}`);
    await ctx.host.packages.remove(present);
  }
  return present;
}

/** Restarts a unit when it runs (config changes take effect), or leaves it for boot. */
export async function restartIfActive(ctx: TaskContext, unit: string): Promise<void> {
  if (await ctx.host.systemd.isActive(unit)) await ctx.host.systemd.restart(unit);
}
