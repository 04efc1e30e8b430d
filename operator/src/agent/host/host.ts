// createHost: one node seen through a root directory, with backups, facts and host command execution.
import { promises as fs } from "node:fs";
import path from "node:path";
import { AGENT_STATE_DIR } from "../../contract/index.js";
import { RootedFiles } from "./files.js";
import { createPackages } from "./packages.js";
import { createSystemd } from "./systemd.js";
import { HostCommandError, type ExecOptions, type Executor, type Host, type HostMode, type PathSnapshot } from "./types.js";

export interface CreateHostOptions {
  /** "/host" in the agent pod; a temp dir or a rootfs in tests. */
  root: string;
  exec: Executor;
  mode: HostMode;
  log?: (message: string) => void;
}

const SCOPE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const FACT_KEY = /^[A-Za-z0-9:_.@/-]{1,200}$/;
const BIN_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const META_SUFFIX = ".olares-meta.json";
const CONTENT_SUFFIX = ".olares-content";

interface BackupMeta {
  type: PathSnapshot["type"];
  mode?: number;
  uid?: number;
  gid?: number;
  target?: string;
}

function checkScope(scope: string): void {
  if (!SCOPE.test(scope)) throw new Error(`backup scope ${JSON.stringify(scope)} must match ${SCOPE}`);
}

/** Prefixes argv so it runs in the host's namespaces / root. */
export function hostArgv(mode: HostMode, root: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new Error("exec: empty argv");
  if (mode === "chroot") return ["chroot", root, ...argv];
  if (mode === "nsenter") return ["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", ...argv];
  return [...argv];
}

export function createHost(opts: CreateHostOptions): Host {
  const root = path.resolve(opts.root);
  const files = new RootedFiles(root);
  const log = opts.log ?? (() => {});
  const backupBase = (scope: string, p: string) => `${AGENT_STATE_DIR}/backup/${scope}${path.posix.normalize(p)}`;
  const factsFile = (scope: string) => `${AGENT_STATE_DIR}/facts/${scope}.json`;

  const run = (argv: readonly string[], o?: ExecOptions) => opts.exec.run(hostArgv(opts.mode, root, argv), o);
  const runChecked = async (argv: readonly string[], o?: ExecOptions) => {
    const r = await run(argv, o);
    if (r.exitCode !== 0 || r.timedOut) throw new HostCommandError(argv, r);
    return r;
  };

  const readFacts = async (scope: string): Promise<Record<string, unknown>> => {
    const raw = await files.read(factsFile(scope));
    return raw ? (JSON.parse(raw.toString("utf8")) as Record<string, unknown>) : {};
  };

  const core = {
    root,
    mode: opts.mode,
    exists: (p: string) => files.exists(p),
    run,
    runChecked,
    log,
  };
  const systemd = createSystemd(core);
  const packages = createPackages(core);

  const host: Host = {
    root,
    mode: opts.mode,
    hostPath: (p) => files.join(p),
    exists: (p) => files.exists(p),
    read: (p) => files.read(p),
    readText: async (p) => (await files.read(p))?.toString("utf8"),
    readLink: (p) => files.readLink(p),
    stat: (p) => files.stat(p),
    mkdir: (p, mode) => files.mkdir(p, mode),
    writeFile: (p, content, o) => files.writeFile(p, content, o),
    symlink: (p, target) => files.symlink(p, target),
    remove: (p) => files.remove(p),
    removeEmptyDir: (p) => files.removeEmptyDir(p),
    snapshot: (p) => files.snapshot(p),
    restoreSnapshot: (p, snap) => files.restoreSnapshot(p, snap),

    async backup(p, scope) {
      checkScope(scope);
      const base = backupBase(scope, p);
      if (await files.exists(base + META_SUFFIX)) return;
      const snap = await files.snapshot(p);
      const meta: BackupMeta =
        snap.type === "file"
          ? { type: "file", mode: snap.mode, uid: snap.uid, gid: snap.gid }
          : snap.type === "symlink"
            ? { type: "symlink", target: snap.target }
            : { type: "none" };
      if (snap.type === "file") await files.writeFile(base + CONTENT_SUFFIX, snap.content, { mode: 0o600 });
      await files.writeFile(base + META_SUFFIX, JSON.stringify(meta) + "\n", { mode: 0o600 });
    },
    async hasBackup(p, scope) {
      checkScope(scope);
      return files.exists(backupBase(scope, p) + META_SUFFIX);
    },
    async restore(p, scope, restoreOpts) {
      checkScope(scope);
      const base = backupBase(scope, p);
      const rawMeta = await files.read(base + META_SUFFIX);
      if (!rawMeta) return false;
      const meta = JSON.parse(rawMeta.toString("utf8")) as BackupMeta;
      let snap: PathSnapshot;
      if (meta.type === "file") {
        const content = await files.read(base + CONTENT_SUFFIX);
        if (!content) throw new Error(`backup of ${p} in ${scope} lost its content`);
        snap = { type: "file", mode: meta.mode ?? 0o644, uid: meta.uid ?? 0, gid: meta.gid ?? 0, content };
      } else if (meta.type === "symlink") {
        snap = { type: "symlink", target: meta.target ?? "" };
      } else {
        snap = { type: "none" };
      }
      await files.restoreSnapshot(p, snap);
      if (restoreOpts?.keep) return true;
      await files.remove(base + CONTENT_SUFFIX);
      await files.remove(base + META_SUFFIX);
      return true;
    },
    async dropBackups(scope) {
      checkScope(scope);
      await fs.rm(files.join(`${AGENT_STATE_DIR}/backup/${scope}`), { recursive: true, force: true });
      await fs.rm(files.join(factsFile(scope)), { force: true });
    },
    async listBackups(scope) {
      checkScope(scope);
      const dir = files.join(`${AGENT_STATE_DIR}/backup/${scope}`);
      const out: string[] = [];
      const walk = async (d: string): Promise<void> => {
        let entries;
        try {
          entries = await fs.readdir(d, { withFileTypes: true });
        } catch {
          return;
        }
        for (const e of entries) {
          const full = path.join(d, e.name);
          if (e.isDirectory()) await walk(full);
          else if (e.name.endsWith(META_SUFFIX)) out.push("/" + path.relative(dir, full).slice(0, -META_SUFFIX.length).split(path.sep).join("/"));
        }
      };
      await walk(dir);
      return out.sort();
    },

    async saveFact(scope, key, value) {
      checkScope(scope);
      if (!FACT_KEY.test(key)) throw new Error(`fact key ${JSON.stringify(key)} is not valid`);
      const facts = await readFacts(scope);
      if (key in facts) return;
      facts[key] = value;
      await files.writeFile(factsFile(scope), JSON.stringify(facts, null, 1) + "\n", { mode: 0o600 });
    },
    async readFact<T>(scope: string, key: string): Promise<T | undefined> {
      checkScope(scope);
      return (await readFacts(scope))[key] as T | undefined;
    },

    run,
    runChecked,
    async which(name) {
      if (!/^[A-Za-z0-9._+-]+$/.test(name)) throw new Error(`which: ${JSON.stringify(name)} is not a command name`);
      for (const dir of BIN_DIRS) if (await files.isBinaryFile(`${dir}/${name}`)) return `${dir}/${name}`;
      return undefined;
    },
    // Only a host whose systemd runs has a kernel we may tune; a bare chroot must never touch the build machine's kernel.
    liveKernel: () => systemd.live(),
    systemd,
    packages,
  };
  return host;
}
