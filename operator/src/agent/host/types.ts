// The host layer's contract: the only way agent code touches a node's files and runs its commands.

export type HostMode = "chroot" | "nsenter" | "direct";

export interface ExecOptions {
  /** Kill the command after this long (default 120 s). */
  timeoutMs?: number;
  input?: string;
  env?: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs one argv (never a shell string). Resolves with the exit code; it does not throw on failure. */
export interface Executor {
  run(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

export interface WriteOptions {
  mode: number;
  owner?: { uid: number; gid: number };
}

export interface HostStat {
  type: "file" | "directory" | "symlink" | "other";
  size: number;
  mode: number;
  uid: number;
  gid: number;
}

/** What a path was before the agent touched it (for backups and undo). */
export type PathSnapshot =
  | { type: "none" }
  | { type: "file"; mode: number; uid: number; gid: number; content: Buffer }
  | { type: "symlink"; target: string };

export interface Systemd {
  /** True when systemd runs on the host (PID 1); false in a bare chroot, where systemctl works offline. */
  live(): Promise<boolean>;
  daemonReload(): Promise<void>;
  /** The unit is known to systemd (a unit file exists in a unit directory). */
  exists(unit: string): Promise<boolean>;
  isEnabled(unit: string): Promise<boolean>;
  /** Always false when systemd is not live. */
  isActive(unit: string): Promise<boolean>;
  enable(unit: string): Promise<void>;
  disable(unit: string): Promise<void>;
  /** start/stop/restart are skipped (logged) when systemd is not live. */
  start(unit: string): Promise<void>;
  stop(unit: string): Promise<void>;
  restart(unit: string): Promise<void>;
  reload(unit: string): Promise<void>;
}

export type PackageManagerKind = "apt" | "dnf";

export interface Packages {
  /** apt when /usr/bin/apt-get exists on the host, dnf when /usr/bin/dnf does, else undefined. */
  kind(): Promise<PackageManagerKind | undefined>;
  /** The subset of `names` that is installed (dpkg-query -W / rpm -q). */
  installed(names: readonly string[]): Promise<string[]>;
  /** Installed version of one package, undefined when absent. */
  version(name: string): Promise<string | undefined>;
  /** Names may carry a pin ("pkg=1.2-3" for apt; mapped to "pkg-1.2-3" for dnf). */
  install(names: readonly string[]): Promise<void>;
  remove(names: readonly string[]): Promise<void>;
}

/**
 * One node, seen from the agent. Paths are host-absolute ("/etc/resolv.conf"); the host layer maps
 * them under `root` ("/host" in the pod, a temp dir in tests). Commands run inside the host
 * (chroot <root> / nsenter into PID 1's namespaces / directly in tests).
 */
export interface Host {
  readonly root: string;
  readonly mode: HostMode;
  /** Where a host path lives in the agent's own filesystem. */
  hostPath(path: string): string;

  exists(path: string): Promise<boolean>;
  read(path: string): Promise<Buffer | undefined>;
  readText(path: string): Promise<string | undefined>;
  /** File type, size and permissions (the link itself for symlinks); undefined when absent. */
  stat(path: string): Promise<HostStat | undefined>;
  /** Creates a directory (and parents) on the host. */
  mkdir(path: string, mode: number): Promise<void>;
  /** Link target when `path` is a symlink, else undefined. */
  readLink(path: string): Promise<string | undefined>;
  /** Atomic: temp file in the same directory, fsync, chmod/chown, rename; parents created 0755. */
  writeFile(path: string, content: string | Buffer, opts: WriteOptions): Promise<void>;
  /** Atomic symlink replacement. */
  symlink(path: string, target: string): Promise<void>;
  /** Removes a file or symlink; no error when absent. */
  remove(path: string): Promise<void>;
  /** Removes a directory only when it is empty; no error when absent or not empty. */
  removeEmptyDir(path: string): Promise<void>;
  snapshot(path: string): Promise<PathSnapshot>;
  /** Puts a snapshot back (writes, re-links, or deletes for "none"). */
  restoreSnapshot(path: string, snap: PathSnapshot): Promise<void>;

  /**
   * Keeps what `path` is now under /var/lib/olares-agent/backup/<scope>/<path> (content, or a
   * ".olares-none" stamp when nothing existed). First call per scope wins: later calls keep the first.
   * Scopes: a config id (rollback of that apply) and "original" (the state before Olares, for cleanup).
   */
  backup(path: string, scope: string): Promise<void>;
  hasBackup(path: string, scope: string): Promise<boolean>;
  /**
   * Restores `path` from the scope's backup (or deletes it for a "none existed" stamp); false when no
   * backup. The backup is consumed unless `keep` is set.
   */
  restore(path: string, scope: string, opts?: { keep?: boolean }): Promise<boolean>;
  /** Forgets a scope's backups (after a successful apply, or after cleanup). */
  dropBackups(scope: string): Promise<void>;
  /** Host paths backed up in a scope. */
  listBackups(scope: string): Promise<string[]>;

  /** Small JSON facts the agent remembers about the host (e.g. "unit x was enabled before us"). */
  saveFact(scope: string, key: string, value: unknown): Promise<void>;
  readFact<T>(scope: string, key: string): Promise<T | undefined>;

  /** Runs a command on the host. Resolves with the result; `runChecked` throws HostCommandError on non-zero exit. */
  run(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  runChecked(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Whether an executable exists on the host (checked in /usr/sbin, /usr/bin, /sbin, /bin, /usr/local/bin). */
  which(name: string): Promise<string | undefined>;
  /** A kernel is live under this host view (false in a bare chroot without /proc mounted). */
  liveKernel(): Promise<boolean>;

  readonly systemd: Systemd;
  readonly packages: Packages;
}

export class HostCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: ExecResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split("\n").slice(-5).join(" | ");
    super(`${argv.join(" ")} ${result.timedOut ? "timed out" : `exited ${result.exitCode}`}${tail ? `: ${tail}` : ""}`);
    this.name = "HostCommandError";
  }
}
