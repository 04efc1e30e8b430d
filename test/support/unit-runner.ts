// systemd is not PID 1 on our machines, so the storage tests run units themselves: this reads the
// unit files the agent wrote and runs exactly their EnvironmentFile/Environment, ExecStartPre,
// ExecStart and ExecStop lines (systemd's quoting and $VAR/${VAR} expansion), keeping main pids in
// pid files so a unit outlives the process that started it — as a unit outlives a crashed agent.
import { execa } from "execa";
import { spawn } from "node:child_process";
import { promises as fs, openSync, closeSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";

export interface UnitFile {
  unit: Record<string, string[]>;
  service: Record<string, string[]>;
}

export function parseUnitFile(text: string): UnitFile {
  const out: UnitFile = { unit: {}, service: {} };
  let section: Record<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1] === "Unit" ? out.unit : sec[1] === "Service" ? out.service : undefined;
      continue;
    }
    const eq = line.indexOf("=");
    if (!section || eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    // An empty assignment resets the list (systemd semantics).
    if (value === "") section[key] = [];
    else (section[key] ??= []).push(value);
  }
  return out;
}

/** systemd's command-line splitting: quotes, backslash escapes, $VAR (split into words) and ${VAR} (one word). */
export function splitCommandLine(line: string, env: Record<string, string>): { argv: string[]; ignoreFailure: boolean } {
  let s = line;
  let ignoreFailure = false;
  while (/^[-@+!:]/.test(s)) {
    if (s[0] === "-") ignoreFailure = true;
    s = s.slice(1);
  }
  const argv: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  const expand = (name: string) => env[name] ?? "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else if (c === "$" && quote === '"' && s[i + 1] === "{") {
        const end = s.indexOf("}", i);
        cur += expand(s.slice(i + 2, end));
        i = end;
      } else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(cur);
      cur = "";
      inWord = false;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (c === "$" && s[i + 1] === "{") {
      const end = s.indexOf("}", i);
      cur += expand(s.slice(i + 2, end));
      i = end;
      inWord = true;
    } else if (c === "$" && /[A-Za-z_]/.test(s[i + 1] ?? "") && !inWord) {
      // $VAR alone as a word: its value split on whitespace into words.
      let j = i + 1;
      while (j < s.length && /[A-Za-z0-9_]/.test(s[j]!)) j++;
      const words = expand(s.slice(i + 1, j)).split(/\s+/).filter(Boolean);
      argv.push(...words);
      i = j - 1;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) argv.push(cur);
  return { argv, ignoreFailure };
}

export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    env[line.slice(0, eq).trim()] = v;
  }
  return env;
}

export interface UnitRunnerOptions {
  unitDir: string;
  /** Pid files and logs. */
  stateDir: string;
  /** Base PATH for the units (systemd's default). */
  path?: string;
  /** Rewrites each command line before it runs (e.g. nsenter into a simulated node's mount namespace). */
  wrap?: (argv: string[]) => string[];
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
  } catch {
    return false;
  }
};

/** A tiny service manager over unit files; implements the engine's ServiceControl. */
export class UnitRunner {
  readonly started: string[] = [];
  constructor(readonly opts: UnitRunnerOptions) {}

  private unitPath(unit: string): string {
    return path.join(this.opts.unitDir, unit);
  }
  private pidFile(unit: string): string {
    return path.join(this.opts.stateDir, `${unit}.pid`);
  }
  private wantsLink(unit: string): string {
    return path.join(this.opts.unitDir, "multi-user.target.wants", unit);
  }

  async read(unit: string): Promise<UnitFile> {
    return parseUnitFile(await fs.readFile(this.unitPath(unit), "utf8"));
  }

  /** Environment= and EnvironmentFile= of a unit (files are read as root would: they are 0600). */
  async environment(u: UnitFile): Promise<Record<string, string>> {
    const env: Record<string, string> = { PATH: this.opts.path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" };
    for (const f of u.service.EnvironmentFile ?? []) {
      const optional = f.startsWith("-");
      const file = optional ? f.slice(1) : f;
      try {
        Object.assign(env, parseEnvironmentFile(await fs.readFile(file, "utf8")));
      } catch (e) {
        if (!optional) throw new Error(`EnvironmentFile ${file}: ${(e as Error).message}`);
      }
    }
    for (const e of u.service.Environment ?? []) {
      for (const word of splitCommandLine(e, {}).argv) {
        const eq = word.indexOf("=");
        if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
      }
    }
    return env;
  }

  private async runLine(unit: string, what: string, line: string, env: Record<string, string>): Promise<void> {
    const { argv, ignoreFailure } = splitCommandLine(line, env);
    const [file, ...args] = this.opts.wrap ? this.opts.wrap(argv) : argv;
    const r = await execa(file!, args, { env, extendEnv: false, reject: false, timeout: 120_000, stdin: "ignore" });
    if (r.exitCode !== 0 && !ignoreFailure) {
      throw new Error(`${unit} ${what} ${argv.join(" ")} exited ${r.exitCode}: ${String(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`);
    }
  }

  async daemonReload(): Promise<void> {}

  async enable(unit: string): Promise<void> {
    await fs.access(this.unitPath(unit));
    await fs.mkdir(path.dirname(this.wantsLink(unit)), { recursive: true });
    await fs.rm(this.wantsLink(unit), { force: true });
    await fs.symlink(this.unitPath(unit), this.wantsLink(unit));
  }

  async disable(unit: string): Promise<void> {
    await fs.rm(this.wantsLink(unit), { force: true });
  }

  async isEnabled(unit: string): Promise<boolean> {
    return existsSync(this.wantsLink(unit));
  }

  async mainPid(unit: string): Promise<number | undefined> {
    try {
      const pid = Number((await fs.readFile(this.pidFile(unit), "utf8")).trim());
      return pid > 0 && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async isActive(unit: string): Promise<boolean> {
    return (await this.mainPid(unit)) !== undefined;
  }

  /** ExecStartPre lines in order, then ExecStart as the main process (Type=simple), detached. */
  async start(unit: string): Promise<void> {
    if (await this.isActive(unit)) return;
    const u = await this.read(unit);
    const env = await this.environment(u);
    for (const line of u.service.ExecStartPre ?? []) await this.runLine(unit, "ExecStartPre", line, env);
    const main = u.service.ExecStart?.at(-1);
    if (!main) throw new Error(`${unit}: no ExecStart`);
    const { argv: line } = splitCommandLine(main, env);
    const argv = this.opts.wrap ? this.opts.wrap(line) : line;
    await fs.mkdir(this.opts.stateDir, { recursive: true });
    const logFd = openSync(path.join(this.opts.stateDir, `${unit}.log`), "a");
    const child = spawn(argv[0]!, argv.slice(1), { env, detached: true, stdio: ["ignore", logFd, logFd] });
    closeSync(logFd);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.once("error", () => {});
    child.unref();
    if (!child.pid) throw new Error(`${unit}: ${argv[0]} did not start`);
    await fs.writeFile(this.pidFile(unit), `${child.pid}\n`);
    this.started.push(unit);
    // Type=simple: a main process that dies at once is a failed start.
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r("running"), 300))]);
    if (early !== "running") {
      const log = await fs.readFile(path.join(this.opts.stateDir, `${unit}.log`), "utf8").catch(() => "");
      throw new Error(`${unit}: ${argv[0]} exited ${String(early)} at start: ${log.trim().split("\n").slice(-3).join(" | ")}`);
    }
  }

  /** ExecStop, then SIGTERM the main process, SIGKILL after a grace period. */
  async stop(unit: string): Promise<void> {
    const pid = await this.mainPid(unit);
    if (pid === undefined) return;
    const u = await this.read(unit).catch(() => undefined);
    if (u) {
      const env = await this.environment(u).catch(() => ({}) as Record<string, string>);
      for (const line of u.service.ExecStop ?? []) await this.runLine(unit, "ExecStop", `-${line}`, env).catch(() => {});
    }
    await this.kill(pid, 15_000);
    await fs.rm(this.pidFile(unit), { force: true });
  }

  /** A power cut for one unit: SIGKILL, no ExecStop. */
  async crash(unit: string): Promise<void> {
    const pid = await this.mainPid(unit);
    if (pid !== undefined) await this.kill(pid, 0);
    await fs.rm(this.pidFile(unit), { force: true });
  }

  private async kill(pid: number, graceMs: number): Promise<void> {
    if (graceMs > 0) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        return;
      }
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    }
    if (isAlive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
      while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** What boot does: start every enabled unit, in the order given (After= of our units). */
  async boot(order: readonly string[]): Promise<void> {
    for (const unit of order) if (await this.isEnabled(unit)) await this.start(unit);
  }

  /** Runs a drop-in's ExecStartPre lines (e.g. k3s waiting for the JuiceFS mount). */
  async runDropInPre(file: string): Promise<void> {
    const u = parseUnitFile(await fs.readFile(file, "utf8"));
    const env = await this.environment(u);
    for (const line of u.service.ExecStartPre ?? []) await this.runLine(path.basename(file), "ExecStartPre", line, env);
  }
}
