// The real-rootfs tier's fixture: a Debian bookworm rootfs from hack/rootfs.sh (debootstrap, cached as a
// tarball), extracted fresh per run, with /proc mounted for apt's scripts and always unmounted.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Rootfs {
  dir: string;
  tarball: string;
  buildSeconds: number;
  extractSeconds: number;
  dispose(): Promise<void>;
}

/** Fails loudly (never skips) when the tier cannot run here. */
export async function prepareRootfs(packages: readonly string[]): Promise<Rootfs> {
  if (process.getuid?.() !== 0) throw new Error("the real-rootfs tier needs root (debootstrap, chroot, mount): run the tests as root");
  let started = Date.now();
  const built = spawnSync(path.join(REPO, "hack/rootfs.sh"), [...packages], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20 * 60_000 });
  if (built.status !== 0) {
    throw new Error(`hack/rootfs.sh could not build the Debian rootfs (debootstrap), so this tier cannot run:\n${built.stderr?.slice(-3000) ?? built.error}`);
  }
  const tarball = built.stdout.trim().split("\n").pop()!;
  const buildSeconds = (Date.now() - started) / 1000;
  started = Date.now();
  const dir = await mkdtemp(path.join(tmpdir(), "olares-rootfs-"));
  execFileSync("tar", ["-C", dir, "-I", "zstd", "-xf", tarball]);
  const extractSeconds = (Date.now() - started) / 1000;
  execFileSync("mount", ["-t", "proc", "proc", path.join(dir, "proc")]);
  return {
    dir,
    tarball,
    buildSeconds,
    extractSeconds,
    async dispose() {
      spawnSync("umount", ["-l", path.join(dir, "proc")]);
      const mounts = await readFile("/proc/self/mountinfo", "utf8");
      // Never delete through a mount point that is still there.
      if (mounts.split("\n").some((l) => l.split(" ")[4]?.startsWith(dir + "/"))) {
        throw new Error(`${dir} still has mounts; left in place`);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command inside the rootfs (test assertions only; the agent goes through its Host). */
export function inRootfs(dir: string, argv: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("chroot", [dir, ...argv], { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" } });
  return { status: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
