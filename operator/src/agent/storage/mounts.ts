// Mount inspection on the host (findmnt), and detaching FUSE mounts.
import type { Host } from "../host/types.js";

/** The filesystem type mounted exactly at `path` ("fuse.juicefs", "tmpfs", …), undefined when none. */
export async function mountedFsType(host: Host, path: string): Promise<string | undefined> {
  const r = await host.run(["findmnt", "-n", "-o", "FSTYPE", "--mountpoint", path], { timeoutMs: 15_000 });
  if (r.exitCode === 127) throw new Error("findmnt is not installed on the host (util-linux)");
  const t = r.stdout.trim().split("\n").pop()?.trim();
  return r.exitCode === 0 && t ? t : undefined;
}

export async function isJuiceFSMount(host: Host, path: string): Promise<boolean> {
  return (await mountedFsType(host, path)) === "fuse.juicefs";
}

/** Unmounts `path` (juicefs umount, falling back to a lazy fusermount); no error when nothing is mounted. */
export async function unmount(host: Host, path: string, juicefs: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!(await mountedFsType(host, path))) return;
    const r = await host.run([juicefs, "umount", path], { timeoutMs: 60_000 });
    if (r.exitCode === 0 && !(await mountedFsType(host, path))) return;
    await new Promise((res) => setTimeout(res, 500 * (attempt + 1)));
  }
  // Busy or a dead FUSE daemon: detach lazily so the path is free; the kernel drops it when unused.
  const r = await host.run(["fusermount3", "-u", "-z", path], { timeoutMs: 30_000 });
  if (r.exitCode !== 0 && (await mountedFsType(host, path))) {
    const u = await host.run(["umount", "-l", path], { timeoutMs: 30_000 });
    if (u.exitCode !== 0) throw new Error(`cannot unmount ${path}: ${(u.stderr || r.stderr).trim()}`);
  }
}
