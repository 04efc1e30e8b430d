// kind "containerdMirrors": /etc/containerd/certs.d/<registry>/hosts.toml per registry; containerd is
// restarted only when a file changed.
import { HOST_PATHS, type ContainerdMirrorsTask, type RegistryMirror } from "../../render/host-tasks.js";
import { fileDiff, restartIfActive, restoreManaged, sha256, writeManaged } from "./common.js";
import type { TaskContext, TaskModule } from "./types.js";

export const CERTS_D = HOST_PATHS.containerdCertsD;
export const CONTAINERD_UNIT = "containerd.service";
const CONTAINERD_CONFIG = HOST_PATHS.containerdConfig;

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

async function firstDiff(ctx: TaskContext, task: ContainerdMirrorsTask): Promise<string | undefined> {
  for (const m of task.mirrors) {
    const d = await fileDiff(ctx.host, hostsTomlPath(m.registry), hostsTomlContent(m), 0o644);
    if (d) return d;
  }
  return undefined;
}

export const containerdMirrorsTask: TaskModule<ContainerdMirrorsTask> = {
  async check(ctx, task) {
    const diff = await firstDiff(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    let wrote = false;
    for (const m of task.mirrors) wrote = (await writeManaged(ctx, hostsTomlPath(m.registry), hostsTomlContent(m), 0o644)) || wrote;
    const config = await ctx.host.readText(CONTAINERD_CONFIG);
    if (config !== undefined && !/config_path\s*=\s*"[^"]*\/etc\/containerd\/certs\.d/.test(config)) {
      ctx.log.warn(`${CONTAINERD_CONFIG} sets no registry config_path ${CERTS_D}: containerd ignores the mirrors until it does`);
    }
    if (wrote) await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  async verify(ctx, task) {
    const diff = await firstDiff(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    let restored = false;
    for (const m of task.mirrors) restored = (await restoreManaged(ctx, hostsTomlPath(m.registry), scope)) || restored;
    if (restored) await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  managedFiles: async (_ctx, task) => task.mirrors.map((m) => ({ path: hostsTomlPath(m.registry), sha256: sha256(hostsTomlContent(m)) })),
};
