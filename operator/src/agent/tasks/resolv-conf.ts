// kind "resolvConf": /etc/resolv.conf with our nameservers and no search line; systemd-resolved stood
// down when it owned the file (symlink into /run/systemd/resolve), and brought back on undo.
import { HOST_PATHS, type ResolvConfTask } from "../../contract/index.js";
import { ORIGINAL_SCOPE, fileDiff, rememberUnit, restoreManaged, restoreUnit, sha256, writeManaged } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

export const RESOLV_CONF = HOST_PATHS.resolvConf;
const RESOLVED = "systemd-resolved.service";

export function resolvConfContent(task: Pick<ResolvConfTask, "nameservers">): string {
  return `# Managed by olares-operator (spec.os.dns); changes are reverted.\n${task.nameservers.map((n) => `nameserver ${n}\n`).join("")}`;
}

async function resolvedOwnsFile(ctx: TaskContext): Promise<boolean> {
  const link = await ctx.host.readLink(RESOLV_CONF);
  return link !== undefined && /(^|\/)run\/systemd\/resolve\//.test(link);
}

/** systemd-resolved must stay down once we took resolv.conf from it. */
async function resolvedDiff(ctx: TaskContext): Promise<string | undefined> {
  const took = await ctx.host.readFact<boolean>(ORIGINAL_SCOPE, "resolvConf:tookFromResolved");
  if (!took || !(await ctx.host.systemd.exists(RESOLVED))) return undefined;
  if (await ctx.host.systemd.isEnabled(RESOLVED)) return `${RESOLVED}: enabled`;
  if (await ctx.host.systemd.isActive(RESOLVED)) return `${RESOLVED}: running`;
  return undefined;
}

export const resolvConfTask: TaskModule<ResolvConfTask> = {
  async check(ctx, task) {
    const diff = (await fileDiff(ctx.host, RESOLV_CONF, resolvConfContent(task), 0o644)) ?? (await resolvedDiff(ctx));
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    if (await resolvedOwnsFile(ctx)) {
      await ctx.host.saveFact(ORIGINAL_SCOPE, "resolvConf:tookFromResolved", true);
      await ctx.host.saveFact(ctx.configId, "resolvConf:tookFromResolved", true);
    }
    const took = await ctx.host.readFact<boolean>(ORIGINAL_SCOPE, "resolvConf:tookFromResolved");
    if (took && (await ctx.host.systemd.exists(RESOLVED))) {
      await rememberUnit(ctx, RESOLVED);
      if (await ctx.host.systemd.isActive(RESOLVED)) await ctx.host.systemd.stop(RESOLVED);
      if (await ctx.host.systemd.isEnabled(RESOLVED)) await ctx.host.systemd.disable(RESOLVED);
    }
    await writeManaged(ctx, RESOLV_CONF, resolvConfContent(task), 0o644);
  },
  async verify(ctx, task) {
    const diff = (await fileDiff(ctx.host, RESOLV_CONF, resolvConfContent(task), 0o644)) ?? (await resolvedDiff(ctx));
    if (diff) throw new Error(`verify: ${diff}`);
    const text = (await ctx.host.readText(RESOLV_CONF)) ?? "";
    if (/^\s*search\s/m.test(text)) throw new Error(`verify: ${RESOLV_CONF} has a search line`);
  },
  async undo(ctx, _task, scope) {
    await restoreManaged(ctx, RESOLV_CONF, scope);
    if (await ctx.host.readFact<boolean>(scope, "resolvConf:tookFromResolved")) await restoreUnit(ctx, RESOLVED, scope);
  },
  managedFiles: async (_ctx, task) => [{ path: RESOLV_CONF, sha256: sha256(resolvConfContent(task)) }],
};
