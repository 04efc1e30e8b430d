// Stand-in workloads for the engine tier: real writer processes that keep changing files under
// <root>/rootfs, and a gate that pauses them (Quiesce) and lets them go on (Resume) through files, so it
// works from whichever process runs the migration — including one started after a crash. (The
// controller tier scales real Kubernetes workloads instead.)
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { WorkloadGate } from "../../../operator/src/agent/storage/index.js";

const WRITER = `
const fs = require("node:fs"), path = require("node:path");
const [gateDir, id, rootfs] = process.argv.slice(1);
const paused = path.join(gateDir, "paused"), ack = path.join(gateDir, "ack-" + id);
let n = 0, state = "";
const setState = (s) => { if (s !== state) { state = s; fs.writeFileSync(ack + ".tmp", s); fs.renameSync(ack + ".tmp", ack); } };
function tick() {
  if (fs.existsSync(paused)) { setState("paused"); return setTimeout(tick, 20); }
  try {
    const dir = path.join(rootfs, "apps", "writer-" + id);
    fs.mkdirSync(dir, { recursive: true });
    const f = path.join(dir, "w" + (n % 50) + ".log");
    fs.appendFileSync(f, "write " + n + " " + Date.now() + "\\n");
    if (n % 7 === 0) fs.writeFileSync(path.join(dir, "new-" + n), "x".repeat(n % 500));
    if (n % 11 === 0) fs.rmSync(path.join(dir, "new-" + (n - 77)), { force: true });
    fs.appendFileSync(path.join(dir, "journal"), n + "\\n");
    n++;
    setState("running");
  } catch (e) { setState("error " + e.code); }
  setTimeout(tick, 15);
}
tick();
`;

export class WriterWorkloads implements WorkloadGate {
  private readonly children: ChildProcess[] = [];
  constructor(
    readonly gateDir: string,
    readonly rootfs: string,
    readonly replicas: number,
  ) {}

  async start(): Promise<void> {
    await fs.mkdir(this.gateDir, { recursive: true });
    for (let i = 0; i < this.replicas; i++) {
      const c = spawn(process.execPath, ["-e", WRITER, this.gateDir, String(i), this.rootfs], { stdio: "ignore" });
      this.children.push(c);
    }
    await this.waitAll("running");
  }

  private async waitAll(state: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = Array.from({ length: this.replicas }, (_, i) => {
        const f = path.join(this.gateDir, `ack-${i}`);
        return existsSync(f) ? readFileSync(f, "utf8") : "none";
      });
      if (states.every((s) => s === state)) return;
      if (Date.now() > deadline) throw new Error(`writers did not reach ${state}: ${states.join(", ")}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Pauses every writer and waits until each has acknowledged (no write in flight). */
  async quiesce(): Promise<void> {
    await fs.writeFile(path.join(this.gateDir, "paused"), "");
    await this.waitAll("paused");
  }

  async resume(): Promise<void> {
    await fs.rm(path.join(this.gateDir, "paused"), { force: true });
    await this.waitAll("running");
  }

  /** How many writers are running (the workloads' "replicas"). */
  running(): number {
    return Array.from({ length: this.replicas }, (_, i) => path.join(this.gateDir, `ack-${i}`)).filter((f) => existsSync(f) && readFileSync(f, "utf8") === "running").length;
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill("SIGKILL");
    await Promise.all(this.children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
    this.children.length = 0;
  }
}

/** The same gate from a process that does not own the writers (the agent child). */
export function fileGate(gateDir: string, replicas: number): WorkloadGate {
  const w = new WriterWorkloads(gateDir, "", replicas);
  return { quiesce: () => w.quiesce(), resume: () => w.resume() };
}
