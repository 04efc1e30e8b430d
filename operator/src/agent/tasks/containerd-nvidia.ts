// kind "containerdNvidiaRuntime": the NVIDIA runtime, as containerd's default, in a drop-in of our own
// under /etc/containerd/conf.d. config.toml belongs to bootstrap/install.sh, which rewrites it on a re-run:
// the agent never edits it (nor runs `nvidia-ctk runtime configure` on it), and fails when config.toml does
// not import conf.d, since containerd would ignore the drop-in.
import { HOST_PATHS, type ContainerdNvidiaRuntimeTask } from "../../contract/index.js";
import { fileDiff, restartIfActive, restoreManaged, sha256, writeManaged } from "./common.js";
import { CONTAINERD_UNIT } from "./containerd-mirrors.js";
import type { TaskContext, TaskModule } from "./types.js";

export const CONTAINERD_CONFIG = HOST_PATHS.containerdConfig;
export const NVIDIA_FRAGMENT = HOST_PATHS.containerdNvidiaFragment;
const CONF_D_IMPORT = "/etc/containerd/conf.d/*.toml";

export const nvidiaFragmentContent = `# Managed by olares-operator (spec.gpu)
version = 3

[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = "nvidia"

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia.options]
  BinaryName = "/usr/bin/nvidia-container-runtime"
`;

function globMatches(glob: string, path: string): boolean {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  return new RegExp(`^${re}$`).test(path);
}

/** The top-level `imports = [...]` of a containerd config (before the first table), as paths or globs. */
export function topLevelImports(toml: string): string[] {
  const top = toml.split(/^\s*\[/m)[0] ?? "";
  const m = /^\s*imports\s*=\s*\[([^\]]*)\]/m.exec(top);
  if (!m) return [];
  return [...m[1]!.matchAll(/"([^"]*)"|'([^']*)'/g)].map((q) => q[1] ?? q[2]!);
}

/** Whether containerd, given this config.toml, reads the drop-in. */
export function configImportsFragment(toml: string): boolean {
  return topLevelImports(toml).some((glob) => globMatches(glob, NVIDIA_FRAGMENT));
}

/** Fails when containerd would ignore the drop-in: config.toml absent, or not importing conf.d. */
async function requireImports(ctx: TaskContext): Promise<void> {
  const toml = await ctx.host.readText(CONTAINERD_CONFIG);
  const fix = `add imports = ["${CONF_D_IMPORT}"] at the top of ${CONTAINERD_CONFIG} (re-run bootstrap/install.sh, which writes it) and restart containerd`;
  if (toml === undefined) {
    throw new Error(`${CONTAINERD_CONFIG} is missing, so containerd runs on its defaults and ignores ${NVIDIA_FRAGMENT}: ${fix}`);
  }
  if (!configImportsFragment(toml)) {
    throw new Error(`${CONTAINERD_CONFIG} does not import ${NVIDIA_FRAGMENT}, so containerd would ignore the NVIDIA runtime: ${fix}`);
  }
}

async function diffOf(ctx: TaskContext): Promise<string | undefined> {
  await requireImports(ctx);
  return fileDiff(ctx.host, NVIDIA_FRAGMENT, nvidiaFragmentContent, 0o644);
}

export const containerdNvidiaRuntimeTask: TaskModule<ContainerdNvidiaRuntimeTask> = {
  async check(ctx) {
    const diff = await diffOf(ctx);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx) {
    await requireImports(ctx);
    if (await writeManaged(ctx, NVIDIA_FRAGMENT, nvidiaFragmentContent, 0o644)) await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  async verify(ctx) {
    const diff = await diffOf(ctx);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, _task, scope) {
    if (await restoreManaged(ctx, NVIDIA_FRAGMENT, scope)) await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  managedFiles: async () => [{ path: NVIDIA_FRAGMENT, sha256: sha256(nvidiaFragmentContent) }],
};
