// Where Olares's storage lives on a node: the same names olares-cli uses (cli/pkg/storage), from one root.
import path from "node:path";

export type StorageType = "LocalFS" | "JuiceFS";

export interface StorageLayout {
  /** OLARES_BASE_DIR, e.g. /olares. */
  root: string;
  /** What workloads use: a directory (LocalFS) or the JuiceFS mount point. */
  rootfs: string;
  /** Where the new tree is built during a migration before it is swapped in. */
  staging: string;
  jfscache: string;
  redisDir: string;
  redisConf: string;
  minioVolume: string;
  juicefsDir: string;
  /** Root-owned 0600 record of the migration in progress (resume point after a crash or reboot). */
  stateFile: string;
}

/** The kept previous tree after a swap, `<root>/rootfs.<type>.bak` (olares-cli keeps rootfs.local.bak). */
export function backupPath(root: string, type: StorageType): string {
  return path.posix.join(root, `rootfs.${type === "LocalFS" ? "local" : "juicefs"}.bak`);
}

export function storageLayout(root: string): StorageLayout {
  if (!path.posix.isAbsolute(root) || path.posix.normalize(root) !== root || root === "/") {
    throw new Error(`storage root ${JSON.stringify(root)} must be a normalized absolute path other than /`);
  }
  return {
    root,
    rootfs: `${root}/rootfs`,
    staging: `${root}/.rootfs-migrate`,
    jfscache: `${root}/jfscache`,
    redisDir: `${root}/data/redis`,
    redisConf: `${root}/data/redis/etc/redis.conf`,
    minioVolume: `${root}/data/minio/vol1`,
    juicefsDir: `${root}/data/juicefs`,
    stateFile: `${root}/.storage-migration.json`,
  };
}

/** JuiceFS's virtual files at the root of a mount; never copied (olares-cli excludes the same). */
export const JUICEFS_INTERNAL_FILES = [".accesslog", ".config", ".stats", ".trash", ".control"] as const;

/** xattrs JuiceFS sets on its own (no namespace, so a local filesystem cannot hold them); never copied or compared. */
export const JUICEFS_INTERNAL_XATTRS = ["lastBackup"] as const;
