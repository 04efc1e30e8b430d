// kind "swap": a swap file activated by olares-swap.service, vm.swappiness, and zram swap through the
// distribution's tool (zram-tools on apt hosts, zram-generator on dnf hosts).
import { HOST_PATHS, type SwapTask } from "../../contract/index.js";
import {
  ORIGINAL_SCOPE,
  ensureUnitState,
  fileDiff,
  installPackages,
  rememberUnit,
  removeOurPackages,
  restartIfActive,
  restoreManaged,
  restoreUnit,
  sha256,
  unitDiff,
  writeManaged,
} from "./common.js";
import type { ManagedFile, TaskContext, TaskModule } from "./types.js";

export const SWAP_FILE = HOST_PATHS.swapFile;
export const SWAP_UNIT = "olares-swap.service";
export const SWAP_UNIT_PATH = HOST_PATHS.swapUnit;
export const SWAPPINESS_FILE = HOST_PATHS.swappiness;
const ZRAMSWAP_DEFAULTS = HOST_PATHS.zramswapDefaults;
const ZRAM_GENERATOR_CONF = HOST_PATHS.zramGenerator;

export const swapUnitContent = `# Managed by olares-operator (spec.os.swap)
[Unit]
Description=Olares swap file
ConditionPathExists=${SWAP_FILE}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/swapon ${SWAP_FILE}
ExecStop=/sbin/swapoff ${SWAP_FILE}

[Install]
WantedBy=multi-user.target
`;

export function swappinessContent(task: Pick<SwapTask, "swappiness">): string {
  return `# Managed by olares-operator (spec.os.swap)\nvm.swappiness = ${task.swappiness}\n`;
}

interface ZramSetup {
  package: string;
  path: string;
  content: string;
  /** Unit to enable; zram-generator needs none (systemd creates the device from the file). */
  unit?: string;
}

async function zramSetup(ctx: TaskContext, percent: number): Promise<ZramSetup> {
  if ((await ctx.host.packages.kind()) === "dnf") {
    return {
      package: "zram-generator",
      path: ZRAM_GENERATOR_CONF,
      content: `# Managed by olares-operator (spec.os.swap.zram)\n[zram0]\nzram-size = ram * ${percent} / 100\ncompression-algorithm = zstd\n`,
    };
  }
  return {
    package: "zram-tools",
    path: ZRAMSWAP_DEFAULTS,
    content: `# Managed by olares-operator (spec.os.swap.zram)\nALGO=zstd\nPERCENT=${percent}\n`,
    unit: "zramswap.service",
  };
}

async function swapFileDiff(ctx: TaskContext, task: SwapTask): Promise<string | undefined> {
  const st = await ctx.host.stat(SWAP_FILE);
  if (!st || st.type !== "file") return `${SWAP_FILE}: missing`;
  if (st.size !== task.sizeMiB * 1024 * 1024) return `${SWAP_FILE}: ${st.size} bytes, want ${task.sizeMiB} MiB`;
  if (st.mode !== 0o600) return `${SWAP_FILE}: mode ${st.mode.toString(8)}, want 600`;
  return undefined;
}

async function diffOf(ctx: TaskContext, task: SwapTask): Promise<string | undefined> {
  const sw = await fileDiff(ctx.host, SWAPPINESS_FILE, swappinessContent(task), 0o644);
  if (sw) return sw;
  if (task.sizeMiB > 0) {
    const d =
      (await swapFileDiff(ctx, task)) ??
      (await fileDiff(ctx.host, SWAP_UNIT_PATH, swapUnitContent, 0o644)) ??
      (await unitDiff(ctx.host, SWAP_UNIT, true, true));
    if (d) return d;
  }
  if (task.zram) {
    const z = await zramSetup(ctx, task.zram.sizePercent);
    if ((await ctx.host.packages.installed([z.package])).length === 0) return `${z.package}: not installed`;
    const d = (await fileDiff(ctx.host, z.path, z.content, 0o644)) ?? (z.unit ? await unitDiff(ctx.host, z.unit, true, true) : undefined);
    if (d) return d;
  }
  return undefined;
}

/** Builds the swap file next to its final place, then renames it in (never a half-made swap file). */
async function createSwapFile(ctx: TaskContext, sizeMiB: number): Promise<void> {
  const tmp = `${SWAP_FILE}.olares-new`;
  await ctx.host.remove(tmp);
  await ctx.host.mkdir("/var/lib/olares-agent", 0o700);
  const alloc = await ctx.host.run(["fallocate", "-l", `${sizeMiB}MiB`, tmp], { timeoutMs: 600_000 });
  // Some filesystems (older XFS, btrfs with CoW) cannot fallocate a swap file; write zeros instead.
  if (alloc.exitCode !== 0) await ctx.host.runChecked(["dd", "if=/dev/zero", `of=${tmp}`, "bs=1M", `count=${sizeMiB}`], { timeoutMs: 1_800_000 });
  await ctx.host.runChecked(["chmod", "0600", tmp]);
  await ctx.host.runChecked(["mkswap", tmp]);
  await ctx.host.runChecked(["mv", "-f", tmp, SWAP_FILE]);
}

export const swapTask: TaskModule<SwapTask> = {
  async check(ctx, task) {
    const diff = await diffOf(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    const systemd = ctx.host.systemd;
    if (await writeManaged(ctx, SWAPPINESS_FILE, swappinessContent(task), 0o644)) {
      if (await ctx.host.liveKernel()) await ctx.host.runChecked(["sysctl", "-e", "-p", SWAPPINESS_FILE]);
    }
    if (task.sizeMiB > 0) {
      if (await swapFileDiff(ctx, task)) {
        const wasActive = await systemd.isActive(SWAP_UNIT);
        if (wasActive) await systemd.stop(SWAP_UNIT);
        // Undo deletes the swap file only where this scope created it.
        const created = (await ctx.host.stat(SWAP_FILE)) === undefined ? true : "replaced";
        await ctx.host.saveFact(ORIGINAL_SCOPE, "swap:file", created);
        await ctx.host.saveFact(ctx.configId, "swap:file", created);
        await createSwapFile(ctx, task.sizeMiB);
      }
      await rememberUnit(ctx, SWAP_UNIT);
      if (await writeManaged(ctx, SWAP_UNIT_PATH, swapUnitContent, 0o644)) await systemd.daemonReload();
      await ensureUnitState(ctx, SWAP_UNIT, true, true);
    }
    if (task.zram) {
      const z = await zramSetup(ctx, task.zram.sizePercent);
      await installPackages(ctx, [z.package]);
      const wrote = await writeManaged(ctx, z.path, z.content, 0o644);
      if (z.unit) {
        const started = await ensureUnitState(ctx, z.unit, true, true);
        if (wrote && !started) await restartIfActive(ctx, z.unit);
      } else if (wrote) {
        await systemd.daemonReload();
      }
    }
  },
  async verify(ctx, task) {
    const diff = await diffOf(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    const systemd = ctx.host.systemd;
    if (await ctx.host.hasBackup(SWAP_UNIT_PATH, scope)) {
      if (await systemd.isActive(SWAP_UNIT)) await systemd.stop(SWAP_UNIT);
      if (await systemd.isEnabled(SWAP_UNIT)) await systemd.disable(SWAP_UNIT);
      await restoreManaged(ctx, SWAP_UNIT_PATH, scope);
      await systemd.daemonReload();
    }
    // The swap file is ours alone; a rollback keeps one that an earlier config made (only resized).
    if ((await ctx.host.readFact(scope, "swap:file")) === true) await ctx.host.remove(SWAP_FILE);
    await restoreManaged(ctx, SWAPPINESS_FILE, scope);
    if (task.zram) {
      const z = await zramSetup(ctx, task.zram.sizePercent);
      if (z.unit) await restoreUnit(ctx, z.unit, scope);
      await restoreManaged(ctx, z.path, scope);
      await removeOurPackages(ctx, [z.package], scope);
    }
  },
  async managedFiles(ctx, task) {
    const files: ManagedFile[] = [{ path: SWAPPINESS_FILE, sha256: sha256(swappinessContent(task)) }];
    if (task.sizeMiB > 0) files.push({ path: SWAP_UNIT_PATH, sha256: sha256(swapUnitContent) });
    if (task.zram) {
      const z = await zramSetup(ctx, task.zram.sizePercent);
      files.push({ path: z.path, sha256: sha256(z.content) });
    }
    return files;
  },
};
