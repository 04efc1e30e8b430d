// kind "containerdNvidiaRuntime": the NVIDIA runtime registered in containerd as the default, through
// `nvidia-ctk runtime configure` (it edits config.toml; we back the file up first). Without nvidia-ctk
// a config fragment under /etc/containerd/conf.d is written for a config.toml that imports it.
import { HOST_PATHS, type ContainerdNvidiaRuntimeTask } from "../../render/host-tasks.js";
import { backupBoth, fileDiff, restartIfActive, restoreManaged, sha256, writeManaged } from "./common.js";
import { CONTAINERD_UNIT } from "./containerd-mirrors.js";
import type { TaskContext, TaskModule } from "./types.js";

export const CONTAINERD_CONFIG = HOST_PATHS.containerdConfig;
export const NVIDIA_FRAGMENT = HOST_PATHS.containerdNvidiaFragment;

export const nvidiaFragmentContent = `# Managed by olares-operator (spec.gpu)
version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "nvidia"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"
  privileged_without_host_devices = false
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
  BinaryName = "/usr/bin/nvidia-container-runtime"
`;

/** What nvidia-ctk leaves in config.toml: an nvidia runtime that is the default. */
export function configHasNvidiaDefault(toml: string): boolean {
  return /runtimes\.nvidia\]/.test(toml) && /default_runtime_name\s*=\s*"nvidia"/.test(toml);
}

async function diffOf(ctx: TaskContext): Promise<string | undefined> {
  if (await ctx.host.which("nvidia-ctk")) {
    const toml = (await ctx.host.readText(CONTAINERD_CONFIG)) ?? "";
    return configHasNvidiaDefault(toml) ? undefined : `${CONTAINERD_CONFIG}: nvidia runtime is not the default`;
  }
  return fileDiff(ctx.host, NVIDIA_FRAGMENT, nvidiaFragmentContent, 0o644);
}

export const containerdNvidiaRuntimeTask: TaskModule<ContainerdNvidiaRuntimeTask> = {
  async check(ctx) {
    const diff = await diffOf(ctx);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx) {
    if (await ctx.host.which("nvidia-ctk")) {
      await backupBoth(ctx, CONTAINERD_CONFIG);
      await ctx.host.runChecked(["nvidia-ctk", "runtime", "configure", "--runtime=containerd", "--set-as-default", `--config=${CONTAINERD_CONFIG}`]);
    } else {
      ctx.log.warn(`nvidia-ctk not found: writing ${NVIDIA_FRAGMENT}, which containerd reads only when config.toml imports conf.d`);
      await writeManaged(ctx, NVIDIA_FRAGMENT, nvidiaFragmentContent, 0o644);
    }
    await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  async verify(ctx) {
    const diff = await diffOf(ctx);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, _task, scope) {
    const a = await restoreManaged(ctx, CONTAINERD_CONFIG, scope);
    const b = await restoreManaged(ctx, NVIDIA_FRAGMENT, scope);
    if (a || b) await restartIfActive(ctx, CONTAINERD_UNIT);
  },
  // config.toml is nvidia-ctk's to edit; only the fragment is wholly ours.
  async managedFiles(ctx) {
    return (await ctx.host.which("nvidia-ctk")) ? [] : [{ path: NVIDIA_FRAGMENT, sha256: sha256(nvidiaFragmentContent) }];
  },
};
