// A fake Debian host for unit tests: a temp dir as root plus a RecordingExecutor that emulates the
// few commands the tasks run (dpkg-query, apt-get, systemctl, sshd -t, apt-cache, fallocate/mkswap…),
// creating the files a real package would.
import { mkdtemp, mkdir, rm, writeFile, chmod, symlink, readFile, rename, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHost, type ExecResult, type Host } from "../../operator/src/agent/host/index.js";
import { RecordingExecutor } from "../support/recording-executor.js";
import type { TaskLog } from "../../operator/src/agent/tasks/index.js";

export interface FakeSystemOptions {
  /** systemd runs (units have a run state; the host has a kernel). */
  live?: boolean;
  /** Package manager present on the host. */
  manager?: "apt" | "dnf" | "none";
  installed?: string[];
}

/** Files a package drops, so later tasks find what the real package provides. */
const PACKAGE_FILES: Record<string, Array<[string, string, number?]>> = {
  "openssh-server": [
    ["/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n"],
    ["/usr/sbin/sshd", "#!/bin/true\n", 0o755],
    ["/lib/systemd/system/ssh.service", "[Unit]\nDescription=OpenSSH\n[Install]\nWantedBy=multi-user.target\n"],
  ],
  "systemd-timesyncd": [["/lib/systemd/system/systemd-timesyncd.service", "[Unit]\n[Install]\nWantedBy=sysinit.target\n"]],
  tzdata: [
    ["/usr/share/zoneinfo/UTC", "TZif2"],
    ["/usr/share/zoneinfo/Europe/Berlin", "TZif2"],
  ],
  "zram-tools": [["/lib/systemd/system/zramswap.service", "[Unit]\n[Install]\nWantedBy=multi-user.target\n"]],
};

export class FakeSystem {
  readonly exec = new RecordingExecutor();
  readonly installed: Set<string>;
  readonly enabled = new Set<string>();
  readonly active = new Set<string>();
  /** Package names whose install fails (like a missing package). */
  readonly failInstall = new Set<string>();
  /** When set, `sshd -t` fails with this message. */
  sshdRejects?: string;
  /** apt-cache madison answers: package → versions. */
  readonly aptVersions = new Map<string, string[]>();
  readonly packageVersions = new Map<string, string>();
  host!: Host;
  logs: string[] = [];

  private constructor(
    readonly root: string,
    readonly opts: FakeSystemOptions,
  ) {
    this.installed = new Set(opts.installed ?? []);
  }

  static async create(opts: FakeSystemOptions = {}): Promise<FakeSystem> {
    const root = await mkdtemp(path.join(tmpdir(), "olares-host-"));
    const fs = new FakeSystem(root, opts);
    await fs.init();
    return fs;
  }

  log: TaskLog = {
    info: (m) => this.logs.push(`info ${m}`),
    warn: (m) => this.logs.push(`warn ${m}`),
  };

  async file(p: string, content: string, mode = 0o644): Promise<void> {
    const full = path.join(this.root, p);
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
    await chmod(full, mode);
  }

  async link(p: string, target: string): Promise<void> {
    const full = path.join(this.root, p);
    await mkdir(path.dirname(full), { recursive: true });
    await symlink(target, full);
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  /** Commands that changed something (not queries). */
  mutatingCommands(): string[] {
    const readOnly = /^(dpkg-query|rpm -q|apt-cache|test |systemctl (--root=\S+ )?(is-enabled|is-active)|sshd -t)/;
    return this.exec.commands().filter((c) => !readOnly.test(c));
  }

  private async init(): Promise<void> {
    const manager = this.opts.manager ?? "apt";
    if (manager === "apt") await this.file("/usr/bin/apt-get", "", 0o755);
    if (manager === "dnf") await this.file("/usr/bin/dnf", "", 0o755);
    if (this.opts.live) await mkdir(path.join(this.root, "run/systemd/system"), { recursive: true });
    for (const p of this.installed) await this.dropPackageFiles(p);
    this.host = createHost({ root: this.root, exec: this.exec, mode: "direct", log: (m) => this.logs.push(m) });
    this.exec.use((argv) => this.respond(argv));
  }

  private async dropPackageFiles(name: string): Promise<void> {
    for (const [p, content, mode] of PACKAGE_FILES[name] ?? []) await this.file(p, content, mode ?? 0o644);
  }

  private unitOf(argv: readonly string[]): string {
    return argv[argv.length - 1]!;
  }

  private respond(argv: readonly string[]): Partial<ExecResult> | undefined | Promise<Partial<ExecResult>> {
    const [cmd, ...rest] = argv;
    const args = rest.filter((a) => !a.startsWith("--root="));
    switch (cmd) {
      case "dpkg-query": {
        const names = args.slice(2);
        const lines = names
          .flatMap((n) => (n.endsWith("*") ? [...this.installed].filter((i) => i.startsWith(n.slice(0, -1))) : [n]))
          .filter((n) => this.installed.has(n))
          .map((n) => `${n}\tii \t${this.packageVersions.get(n) ?? "1.0-1"}\n`);
        return { exitCode: lines.length === names.length ? 0 : 1, stdout: lines.join("") };
      }
      case "rpm": {
        const names = args.slice(3);
        return { stdout: names.filter((n) => this.installed.has(n)).map((n) => `${n}\t1.0-1\n`).join("") };
      }
      case "apt-get":
      case "dnf": {
        const verb = args[0];
        const names = args.filter((a) => !a.startsWith("-") && a !== verb && !/^(Dpkg|DPkg)::/.test(a));
        if (verb === "install") {
          const failing = names.find((n) => this.failInstall.has(n.split("=")[0]!));
          if (failing) return { exitCode: 100, stderr: `E: Unable to locate package ${failing}` };
          return this.install(names);
        }
        if (verb === "remove") {
          for (const n of names) this.installed.delete(n);
          return { exitCode: 0 };
        }
        return { exitCode: 0 };
      }
      case "apt-cache":
        return { stdout: (this.aptVersions.get(args[1]!) ?? []).map((v) => ` ${args[1]} | ${v} | http://deb.example/debian main amd64 Packages\n`).join("") };
      case "systemctl": {
        const verb = args[0];
        const unit = this.unitOf(args);
        if (verb === "is-enabled") return this.enabled.has(unit) ? { stdout: "enabled\n" } : { exitCode: 1, stdout: "disabled\n" };
        if (verb === "is-active") return { exitCode: this.active.has(unit) ? 0 : 3 };
        if (verb === "enable") this.enabled.add(unit);
        if (verb === "disable") this.enabled.delete(unit);
        if (verb === "start" || verb === "restart" || verb === "reload-or-restart") this.active.add(unit);
        if (verb === "stop") this.active.delete(unit);
        return { exitCode: 0 };
      }
      case "sysctl":
        return args[0] === "-e" && args[1] === "-p" ? this.loadSysctl(args[2]!) : { exitCode: 0 };
      case "fallocate":
        return this.inRoot(args[2]!, async (full) => {
          await writeFile(full, "");
          await truncate(full, parseInt(args[1]!, 10) * 1024 * 1024);
        });
      case "chmod":
        return this.inRoot(args[1]!, (full) => chmod(full, parseInt(args[0]!, 8)));
      case "mkswap":
        return { exitCode: 0, stdout: "Setting up swapspace version 1\n" };
      case "mv":
        return this.inRoot(args[2]!, (to) => rename(path.join(this.root, args[1]!), to));
      case "sshd":
        return this.sshdRejects ? { exitCode: 255, stderr: this.sshdRejects } : { exitCode: 0 };
      default:
        return undefined;
    }
  }

  private async inRoot(p: string, fn: (full: string) => Promise<unknown>): Promise<Partial<ExecResult>> {
    await fn(path.join(this.root, p));
    return { exitCode: 0 };
  }

  /** `sysctl -e -p <file>`: the running values become the file's. */
  private async loadSysctl(file: string): Promise<Partial<ExecResult>> {
    const text = await readFile(path.join(this.root, file), "utf8");
    for (const line of text.split("\n")) {
      const m = /^([a-z0-9_.]+)\s*=\s*(.*)$/.exec(line.trim());
      if (m) await this.file(`/proc/sys/${m[1]!.replace(/\./g, "/")}`, `${m[2]}\n`);
    }
    return { exitCode: 0 };
  }

  private async install(names: string[]) {
    for (const raw of names) {
      const [n, v] = raw.split("=") as [string, string | undefined];
      this.installed.add(n);
      if (v) this.packageVersions.set(n, v);
      await this.dropPackageFiles(n);
    }
    return { exitCode: 0 };
  }
}
