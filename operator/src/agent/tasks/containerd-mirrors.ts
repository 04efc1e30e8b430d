// kind "containerdMirrors": /etc/containerd/certs.d/<registry>/hosts.toml per registry; containerd is
// restarted only when a file changed. The task records the registries it wrote, so a registry that
// leaves the list gets its original hosts.toml back (or none) instead of lingering.
import { AGENT_STATE_DIR, HOST_PATHS, isRegistryName, type ContainerdMirrorsTask, type RegistryMirror } from "../../contract/index.js";
import { fileDiff, ORIGINAL_SCOPE, restartIfActive, restoreManaged, sha256, writeManaged } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

export const CERTS_D = HOST_PATHS.containerdCertsD;
export const CONTAINERD_UNIT = "containerd.service";
const CONTAINERD_CONFIG = HOST_PATHS.containerdConfig;
const HOSTS_TOML = new RegExp(`^${CERTS_D.replace(/[.]/g, "\\.")}/([^/]+)/hosts\\.toml$`);

/** Docker Hub's API endpoint differs from its registry name. */
function upstream(registry: string): string | undefined {
  if (registry === "_default") return undefined;
  return registry === "docker.io" ? "https://registry-1.docker.io" : `https://${registry}`;
}

export function hostsTomlPath(registry: string): string {
  return `${CERTS_D}/${registry}/hosts.toml`;
}

export function hostsTomlContent(m: RegistryMirror): string {
  const server = upstream(m.registry);
  const lines = ["# Managed by olares-operator (spec.registry.mirrors)"];
  if (server) lines.push(`server = "${server}"`);
  for (const endpoint of m.endpoints) {
    lines.push("", `[host."${endpoint}"]`, `  capabilities = ["pull", "resolve"]`);
  }
  return lines.join("\n") + "\n";
}

/** Where the task keeps the registries it wrote ("/" of the task id becomes "_", never in an id). */
export function mirrorsRecordPath(taskId: string): string {
  return `${AGENT_STATE_DIR}/records/containerd-mirrors/${taskId.replace(/\//g, "_")}.json`;
}

function recordContent(registries: readonly string[]): string {
  return JSON.stringify({ registries: [...registries].sort() }) + "\n";
}

function listed(task: ContainerdMirrorsTask): string[] {
  return task.mirrors.map((m) => m.registry);
}

/**
 * Registries this task wrote and has not given back. Without a record (an agent from before it kept
 * one), the hosts.toml files backed up in the original scope are the ones we wrote.
 */
async function ownedRegistries(ctx: TaskContext, task: ContainerdMirrorsTask): Promise<string[]> {
  const raw = await ctx.host.readText(mirrorsRecordPath(task.id));
  if (raw !== undefined) {
    let parsed: { registries?: unknown };
    try {
      parsed = JSON.parse(raw) as { registries?: unknown };
    } catch {
      throw new Error(`${mirrorsRecordPath(task.id)}: not valid JSON`);
    }
    // The record is host state anyone with root can edit: its names must pass the spec's rule too.
    if (!Array.isArray(parsed.registries) || !parsed.registries.every((r) => typeof r === "string" && isRegistryName(r))) {
      throw new Error(`${mirrorsRecordPath(task.id)}: registries must be a list of host[:port] or _default names`);
    }
    return parsed.registries as string[];
  }
  const backups = await ctx.host.listBackups(ORIGINAL_SCOPE);
  return backups.flatMap((p) => HOSTS_TOML.exec(p)?.[1] ?? []).filter(isRegistryName);
}

async function staleRegistries(ctx: TaskContext, task: ContainerdMirrorsTask): Promise<string[]> {
  const want = new Set(listed(task));
  return (await ownedRegistries(ctx, task)).filter((r) => !want.has(r));
}

async function firstDiff(ctx: TaskContext, task: ContainerdMirrorsTask): Promise<string | undefined> {
  for (const m of task.mirrors) {
    const d = await fileDiff(ctx.host, hostsTomlPath(m.registry), hostsTomlContent(m), 0o644);
    if (d) return d;
  }
  const stale = await staleRegistries(ctx, task);
  if (stale.length > 0) return `${stale.map(hostsTomlPath).join(", ")}: registry no longer listed`;
  return fileDiff(ctx.host, mirrorsRecordPath(task.id), recordContent(listed(task)), 0o600);
}

/** Puts a registry's hosts.toml back as the scope has it; drops the directory when it is left empty. */
async function giveBack(ctx: TaskContext, registry: string, scope: string, keep: boolean): Promise<boolean> {
  const restored = await ctx.host.restore(hostsTomlPath(registry), scope, { keep });
  if (restored) await ctx.host.removeEmptyDir(`${CERTS_D}/${registry}`);
  return restored;
}

export const containerdMirrorsTask: TaskModule<ContainerdMirrorsTask> = {
  async check(ctx, task) {
    const diff = await firstDiff(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    let changed = false;
    for (const m of task.mirrors) changed = (await writeManaged(ctx, hostsTomlPath(m.registry), hostsTomlContent(m), 0o644)) || changed;
    for (const registry of await staleRegistries(ctx, task)) {
      // Our file is kept for a rollback of this apply; the original backup stays for a later cleanup.
      await ctx.host.backup(hostsTomlPath(registry), ctx.configId);
      if (await giveBack(ctx, registry, ORIGINAL_SCOPE, true)) changed = true;
      else ctx.log.warn(`${hostsTomlPath(registry)}: no backup of the original; left as it is`);
    }
    await writeManaged(ctx, mirrorsRecordPath(task.id), recordContent(listed(task)), 0o600);
    const config = await ctx.host.readText(CONTAINERD_CONFIG);
    if (config !== undefined && !/config_path\s*=\s*"[^"]*\/etc\/containerd\/certs\.d/.test(config)) {
      ctx.log.warn(`${CONTAINERD_CONFIG} sets no registry config_path ${CERTS_D}: containerd ignores the mirrors until it does`);
    }
    if (changed) await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  async verify(ctx, task) {
    const diff = await firstDiff(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    // A rollback first gets the record back, which names the registries this apply gave back.
    if (scope !== ORIGINAL_SCOPE) await restoreManaged(ctx, mirrorsRecordPath(task.id), scope);
    const registries = new Set([...listed(task), ...(await ownedRegistries(ctx, task))]);
    let restored = false;
    for (const registry of registries) restored = (await giveBack(ctx, registry, scope, false)) || restored;
    if (scope === ORIGINAL_SCOPE) await restoreManaged(ctx, mirrorsRecordPath(task.id), scope);
    if (restored) await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  managedFiles: async (_ctx, task) => task.mirrors.map((m) => ({ path: hostsTomlPath(m.registry), sha256: sha256(hostsTomlContent(m)) })),
};
