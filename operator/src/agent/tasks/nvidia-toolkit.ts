// kind "nvidiaToolkit": nvidia-container-toolkit and its libraries, all pinned to one version.
import type { NvidiaToolkitTask } from "../../contract/index.js";
import { removeOurPackages } from "./common.js";
import { aptVersions, installPinned, versionMatches } from "./nvidia-common.js";
import type { TaskContext, TaskModule } from "./types.js";

/** The toolkit's packages depend on each other at exactly the same version. */
export const TOOLKIT_PACKAGES = ["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1"];

async function diffOf(ctx: TaskContext, task: NvidiaToolkitTask): Promise<string | undefined> {
  for (const name of TOOLKIT_PACKAGES) {
    const v = await ctx.host.packages.version(name);
    if (!v) return `${name}: not installed`;
    if (task.version && !versionMatches(v, task.version)) return `${name} ${v} installed, want ${task.version}`;
  }
  return undefined;
}

async function pinnedNames(ctx: TaskContext, task: NvidiaToolkitTask): Promise<string[]> {
  if (!task.version) return [...TOOLKIT_PACKAGES];
  if ((await ctx.host.packages.kind()) === "dnf") return TOOLKIT_PACKAGES.map((n) => `${n}=${task.version}`);
  const versions = await aptVersions(ctx, "nvidia-container-toolkit");
  const pin = versions.find((v) => versionMatches(v, task.version));
  if (!pin) {
    throw new Error(
      `nvidia-container-toolkit ${task.version} is not in the host's package sources (${versions.slice(0, 5).join(", ") || "none"}); add NVIDIA's container toolkit repository`,
    );
  }
  return TOOLKIT_PACKAGES.map((n) => `${n}=${pin}`);
}

export const nvidiaToolkitTask: TaskModule<NvidiaToolkitTask> = {
  async check(ctx, task) {
    const diff = await diffOf(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    await installPinned(ctx, await pinnedNames(ctx, task));
  },
  async verify(ctx, task) {
    const diff = await diffOf(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, _task, scope) {
    await removeOurPackages(ctx, TOOLKIT_PACKAGES, scope);
  },
  managedFiles: async () => [],
};
