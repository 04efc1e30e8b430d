// kind "nvidiaDriver": the NVIDIA driver from the host's package sources, pinned to the wanted branch or
// version. The new kernel module loads only after a reboot; the engine holds this task back unless
// reboots are allowed, and a driver that is installed but not yet loaded is still "pending".
import type { NvidiaDriverTask } from "../../contract/index.js";
import { removeOurPackages } from "./common.js";
import { aptVersions, installPinned, versionMatches } from "./nvidia-common.js";
import type { TaskContext, TaskModule } from "./types.js";

export const NVIDIA_PROC_VERSION = "/proc/driver/nvidia/version";

/** Version of the loaded nvidia kernel module, when one is loaded. */
export async function loadedDriverVersion(ctx: TaskContext): Promise<string | undefined> {
  const proc = await ctx.host.readText(NVIDIA_PROC_VERSION);
  const fromProc = proc && /Kernel Module\s+(?:for\s+\S+\s+)?(\d+\.\d+(?:\.\d+)?)/.exec(proc)?.[1];
  if (fromProc) return fromProc;
  if (!(await ctx.host.which("nvidia-smi"))) return undefined;
  const r = await ctx.host.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], { timeoutMs: 20_000 });
  const v = r.exitCode === 0 ? r.stdout.split("\n")[0]?.trim() : undefined;
  return v && /^\d+\.\d+/.test(v) ? v : undefined;
}

/** Ubuntu and NVIDIA's repositories name the package per branch; Debian ships one nvidia-driver. */
async function driverPackage(ctx: TaskContext, task: NvidiaDriverTask): Promise<{ name: string; versions: string[] }> {
  const branch = task.version.split(".")[0]!;
  const perBranch = `nvidia-driver-${branch}`;
  const branchVersions = await aptVersions(ctx, perBranch);
  if (branchVersions.length > 0) return { name: perBranch, versions: branchVersions };
  return { name: "nvidia-driver", versions: await aptVersions(ctx, "nvidia-driver") };
}

async function installedDriver(ctx: TaskContext): Promise<{ name: string; version: string } | undefined> {
  const r = await ctx.host.run(["dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\t${Version}\n", "nvidia-driver", "nvidia-driver-*"]);
  for (const line of r.stdout.split("\n")) {
    const [name, status, version] = line.split("\t");
    if (name && version && status?.startsWith("ii") && /^nvidia-driver(-\d+)?$/.test(name)) return { name, version };
  }
  return undefined;
}

async function diffOf(ctx: TaskContext, task: NvidiaDriverTask): Promise<string | undefined> {
  if ((await ctx.host.packages.kind()) !== "apt") return "NVIDIA driver packages are supported on apt hosts (Debian, Ubuntu) only";
  const installed = await installedDriver(ctx);
  if (!installed) return `nvidia driver ${task.version}: not installed`;
  if (!versionMatches(installed.version, task.version)) return `${installed.name} ${installed.version} installed, want ${task.version}`;
  const loaded = await loadedDriverVersion(ctx);
  if (loaded && !versionMatches(loaded, task.version)) return `driver ${loaded} is loaded, ${task.version} needs a reboot`;
  return undefined;
}

export const nvidiaDriverTask: TaskModule<NvidiaDriverTask> = {
  async check(ctx, task) {
    const diff = await diffOf(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    if ((await ctx.host.packages.kind()) !== "apt") throw new Error("NVIDIA driver packages are supported on apt hosts (Debian, Ubuntu) only");
    const installed = await installedDriver(ctx);
    if (installed && versionMatches(installed.version, task.version)) return; // installed, waiting for the reboot
    const pkg = await driverPackage(ctx, task);
    const pin = pkg.versions.find((v) => versionMatches(v, task.version));
    if (!pin) {
      throw new Error(
        `no NVIDIA driver ${task.version} in the host's package sources (${pkg.name}: ${pkg.versions.slice(0, 5).join(", ") || "none"}); add NVIDIA's or the distribution's non-free repository`,
      );
    }
    const pinned = [`${pkg.name}=${pin}`];
    // DKMS builds the module for the running kernel: its headers must be there.
    const release = (await ctx.host.readText("/proc/sys/kernel/osrelease"))?.trim();
    const headers = release && /^[a-z0-9.+-]+$/.test(release) ? `linux-headers-${release}` : undefined;
    if (headers && (await aptVersions(ctx, headers)).length > 0) pinned.push(headers);
    await installPinned(ctx, pinned);
  },
  async verify(ctx, task) {
    const installed = await installedDriver(ctx);
    if (!installed || !versionMatches(installed.version, task.version)) {
      throw new Error(`verify: nvidia driver ${task.version} is not installed (${installed ? `${installed.name} ${installed.version}` : "none"})`);
    }
  },
  async undo(ctx, task, scope) {
    const branch = task.version.split(".")[0]!;
    await removeOurPackages(ctx, [`nvidia-driver-${branch}`, "nvidia-driver"], scope);
  },
  managedFiles: async () => [],
};
