// The node agent's storage side as its own process, so tests can SIGKILL it at a step boundary, in
// the middle of a copy or in the middle of Swap, and start it again to resume. Usage:
//   tsx agent-child.ts <config.json>    (config: { plan, gateDir, replicas, unitDir, stateDir, killAt? })
import { readFileSync } from "node:fs";
import { createExecaExecutor } from "../../../operator/src/agent/host/exec.js";
import { createHost } from "../../../operator/src/agent/host/host.js";
import { StorageMigration, type MigrationPlan } from "../../../operator/src/agent/storage/index.js";
import { UnitRunner } from "../../support/unit-runner.js";
import { fileGate } from "./gate.js";

interface ChildConfig {
  plan: MigrationPlan;
  gateDir: string;
  replicas: number;
  unitDir: string;
  stateDir: string;
  /** "<Step>" (kill when the step starts), "Sync:mid" (kill mid-copy), "Swap:<substep>" (after that sub-step). */
  killAt?: string;
}

const cfg = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ChildConfig;
const die = (why: string) => {
  process.stdout.write(`killed at ${why}\n`);
  process.kill(process.pid, "SIGKILL");
};
const host = createHost({ root: "/", mode: "direct", exec: createExecaExecutor() });
const m = new StorageMigration(host, cfg.plan, new UnitRunner({ unitDir: cfg.unitDir, stateDir: cfg.stateDir }), fileGate(cfg.gateDir, cfg.replicas), {
  onStep: (step, s) => {
    // Only on the first attempt: a resumed run must get past the point it was killed at.
    const attempts = s.history.at(-1)?.attempts ?? 1;
    if (cfg.killAt === step && attempts === 1) die(step);
  },
  onProgress: (s) => {
    // Progress reaches hooks about once a second; any report with bytes copied and more to come is mid-copy.
    if (cfg.killAt === `${s.step}:mid` && s.progress.bytes > 0 && s.progress.bytes < s.progress.totalBytes && (s.history.at(-1)?.attempts ?? 1) === 1) die(`${s.step} mid-copy`);
  },
  onSwapStep: (name) => {
    if (cfg.killAt === `Swap:${name}`) die(`Swap after ${name}`);
  },
  log: (msg) => process.stderr.write(`agent: ${msg}\n`),
});
const state = await m.run();
process.stdout.write(JSON.stringify({ phase: state.phase, step: state.step, message: state.message }) + "\n");
