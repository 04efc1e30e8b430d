// kind "sshd": openssh-server installed and enabled, port and password login through a drop-in that
// `sshd -t` accepts before sshd reloads; a rejected drop-in is put back at once.
import { HOST_PATHS, type SshdTask } from "../../contract/index.js";
import type { Host } from "../host/types.js";
import { ensureUnitState, fileDiff, installPackages, removeOurPackages, restoreManaged, restoreUnit, sha256, unitDiff, writeManaged } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

export const SSHD_DROPIN = HOST_PATHS.sshdDropin;
const SSHD_CONFIG = "/etc/ssh/sshd_config";

/** PasswordAuthentication is written only when the spec sets it; unset keeps the host's setting. */
export function sshdContent(task: Pick<SshdTask, "port" | "passwordAuthentication">): string {
  return [
    "# Managed by olares-operator (spec.os.ssh)",
    `Port ${task.port}`,
    ...(task.passwordAuthentication === undefined ? [] : [`PasswordAuthentication ${task.passwordAuthentication ? "yes" : "no"}`]),
    "",
  ].join("\n");
}

/**
 * Debian/Ubuntu call the unit ssh.service, RPM distributions sshd.service; Ubuntu 24.04 activates sshd
 * through ssh.socket, and enabling ssh.service next to it would fight over the port.
 */
async function sshUnit(host: Host): Promise<string> {
  if ((await host.systemd.exists("ssh.socket")) && (await host.systemd.isEnabled("ssh.socket"))) return "ssh.socket";
  return (await host.systemd.exists("ssh.service")) ? "ssh.service" : "sshd.service";
}

async function diffOf(ctx: TaskContext, task: SshdTask): Promise<string | undefined> {
  if (task.enabled && (await ctx.host.packages.installed(["openssh-server"])).length === 0) return "openssh-server: not installed";
  if (!(await ctx.host.exists(SSHD_CONFIG))) return task.enabled ? `${SSHD_CONFIG}: missing` : undefined;
  const fd = await fileDiff(ctx.host, SSHD_DROPIN, sshdContent(task), 0o644);
  if (fd) return fd;
  const unit = await sshUnit(ctx.host);
  if (!(await ctx.host.systemd.exists(unit))) return task.enabled ? `${unit}: not installed` : undefined;
  return unitDiff(ctx.host, unit, task.enabled, task.enabled);
}

async function validateConfig(ctx: TaskContext): Promise<void> {
  if (!(await ctx.host.which("sshd"))) return;
  // sshd -t insists on its privilege-separation directory, which systemd creates only while sshd runs.
  await ctx.host.mkdir("/run/sshd", 0o755);
  const r = await ctx.host.run(["sshd", "-t", "-f", SSHD_CONFIG], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`sshd -t rejected the configuration: ${(r.stderr || r.stdout).trim()}`);
}

export const sshdTask: TaskModule<SshdTask> = {
  async check(ctx, task) {
    const diff = await diffOf(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    if (task.enabled) await installPackages(ctx, ["openssh-server"]);
    if (!(await ctx.host.exists(SSHD_CONFIG))) return;
    const main = (await ctx.host.readText(SSHD_CONFIG)) ?? "";
    if (!/^\s*Include\s+\/etc\/ssh\/sshd_config\.d\/\*\.conf/m.test(main)) {
      throw new Error(`${SSHD_CONFIG} does not include /etc/ssh/sshd_config.d/*.conf; the drop-in would be ignored`);
    }
    const wrote = await writeManaged(ctx, SSHD_DROPIN, sshdContent(task), 0o644);
    if (wrote) {
      try {
        await validateConfig(ctx);
      } catch (e) {
        await restoreManaged(ctx, SSHD_DROPIN, ctx.configId);
        throw e;
      }
    }
    const unit = await sshUnit(ctx.host);
    if (!(await ctx.host.systemd.exists(unit))) return;
    const socket = unit === "ssh.socket";
    // Socket activation takes the port from a generator that reads sshd_config: re-run it first.
    if (wrote && socket) await ctx.host.systemd.daemonReload();
    const started = await ensureUnitState(ctx, unit, task.enabled, task.enabled);
    if (wrote && !started && task.enabled && (await ctx.host.systemd.isActive(unit))) {
      await (socket ? ctx.host.systemd.restart(unit) : ctx.host.systemd.reload(unit));
    }
  },
  async verify(ctx, task) {
    const diff = await diffOf(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
    if (await ctx.host.exists(SSHD_CONFIG)) await validateConfig(ctx);
  },
  async undo(ctx, _task, scope) {
    const unit = await sshUnit(ctx.host);
    const restored = await restoreManaged(ctx, SSHD_DROPIN, scope);
    await restoreUnit(ctx, unit, scope);
    if (restored && (await ctx.host.systemd.isActive(unit))) await ctx.host.systemd.reload(unit);
    await removeOurPackages(ctx, ["openssh-server"], scope);
  },
  managedFiles: async (_ctx, task) => [{ path: SSHD_DROPIN, sha256: sha256(sshdContent(task)) }],
};
