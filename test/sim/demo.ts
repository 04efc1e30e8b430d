// `npm run demo`: the whole operator end to end on the cluster simulator, driven by the real kubectl.
// Starts the simulator (real node agents on simulated hosts), installs the chart's manifests as a user
// would, runs the real operator process against it, applies examples/olares.yaml and shows progress
// stage by stage and node by node until Ready.
import { mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { attachAgents } from "./agent-runner.js";
import { startSimulator } from "./server.js";
import type { Json, KObj } from "./types.js";
import {
  EXAMPLE,
  KUBECTL,
  ROOT,
  ensureTools,
  explainNotReady,
  installation,
  installOperatorManifests,
  isReady,
  kubectl,
  kubectlOk,
  operatorManifests,
  startOperatorProcess,
  subscribeAll,
  waitOperatorReady,
} from "../e2e/cluster.js";

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer within ${min}..${max}`);
  return n;
};
const fraction = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("must be a number within 0..1");
  return n;
};

const program = new Command("demo")
  .description("Install Olares with the real operator on the cluster simulator, driven by the real kubectl")
  .option("--nodes <n>", "simulated nodes", int("--nodes", 1, 1000), 1)
  .option("--gpu-nodes <n>", "nodes with an NVIDIA GPU (driver preinstalled)", int("--gpu-nodes", 0, 1000), 0)
  .option("--pod-delay-ms <ms>", "milliseconds a pod takes to become Ready", int("--pod-delay-ms", 0, 600_000), 200)
  .option("--fault-error-rate <r>", "fraction of API requests answered 500/503/429 while the operator works", fraction, 0)
  .option("--fault-watch-drop-seconds <s>", "close every watch after this many seconds", int("--fault-watch-drop-seconds", 1, 86_400))
  .option("--timeout <s>", "give up when not Ready after this many seconds", int("--timeout", 1, 3600), 120)
  .option("--keep", "keep the simulator and operator running after Ready (Ctrl-C to stop)", false)
  .option("-f, --filename <file>", "the OlaresInstallation to apply", EXAMPLE)
  .addOption(new Option("--control-plane <kind>", "sim: the cluster simulator (no build needed); real: kube-apiserver, etcd, kube-controller-manager, kube-scheduler and kwok built by hack/controlplane.sh").choices(["sim", "real"]).default("sim"))
  .addOption(new Option("--scenario <name>", "install: Olares to Ready; storage-switch: LocalFS→JuiceFS→LocalFS by kubectl patch of the CR, on the simulator with the real operator and agent, the engine on real redis/MinIO/JuiceFS/rsync (test/storage/demo.ts)").choices(["install", "storage-switch"]).default("install"));
program.parse();
if (program.opts<{ scenario: string }>().scenario === "storage-switch") {
  const { runStorageSwitchDemo } = await import("../storage/demo.js");
  process.exit(await runStorageSwitchDemo());
}
const o = program.opts<{ nodes: number; gpuNodes: number; podDelayMs: number; faultErrorRate: number; faultWatchDropSeconds?: number; timeout: number; keep: boolean; filename: string; controlPlane: "sim" | "real" }>();
if (o.gpuNodes > o.nodes) program.error(`--gpu-nodes (${o.gpuNodes}) must not exceed --nodes (${o.nodes})`);
if (o.controlPlane === "real") {
  if (o.faultErrorRate > 0 || o.faultWatchDropSeconds) program.error("--fault-* options apply to the simulator only (the real tier injects faults in test/cluster/resilience.test.ts)");
  const { runRealDemo } = await import("../cluster/demo.js");
  process.exit(await runRealDemo({ nodes: o.nodes, gpuNodes: o.gpuNodes, timeout: o.timeout, keep: o.keep, filename: o.filename }));
}

/** Degraded reasons that wait for the user (a fixed spec, a Secret): the demo stops at once on them. */
const WAITS_FOR_USER = new Set(["InvalidSpec", "SecretNotFound", "SecretKeyMissing", "JuiceFSNotAvailable"]);
/** Any other Degraded condition that stays the same this long is taken as lasting. */
const LASTING_DEGRADED_MS = 8000;

const t0 = Date.now();
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const say = (msg: string) => process.stdout.write(`${stamp()}  ${msg}\n`);
const rel = (p: string) => (p.startsWith(ROOT) ? relative(ROOT, p) : p);

try {
  ensureTools();
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  process.exit(1);
}
const workDir = mkdtempSync(join(tmpdir(), "olares-demo-"));
const sim = await startSimulator({ nodes: o.nodes, gpuNodes: o.gpuNodes, podReadyDelayMs: o.podDelayMs, jobDurationMs: o.podDelayMs, kubeconfigPath: join(workDir, "kubeconfig") });
const agents = attachAgents(sim);
const kc = sim.kubeconfigPath;
say(`cluster simulator on ${sim.url}: ${o.nodes} node(s)${o.gpuNodes ? `, ${o.gpuNodes} with an NVIDIA GPU` : ""}; a real node agent runs per node against a simulated host (temp dir + recording executor)`);

let operator: Awaited<ReturnType<typeof startOperatorProcess>> | undefined;
let exitCode = 0;
const shutdown = async () => {
  sim.faults.reset();
  await operator?.stop();
  await agents.stop();
  await sim.stop();
};
// Ctrl-C (or SIGTERM) at any point: stop everything and remove the temp dirs, then exit 130.
let interrupted = false;
const onSignal = () => {
  if (interrupted) return;
  interrupted = true;
  process.stdout.write("\ninterrupted: stopping the simulator and the operator, removing temp dirs\n");
  void shutdown().finally(() => {
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  });
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

try {
  const manifests = await operatorManifests();
  const source = manifests.source === "helm template" ? "helm template of charts/olares-operator" : "crds/ only: the chart did not render";
  say(`installing the operator's manifests (${source}) with kubectl apply --server-side: ${manifests.applied.length} objects`);
  for (const s of manifests.skipped) say(`  left out ${s.object}: ${s.why}`);
  await installOperatorManifests(kc, manifests);

  if (o.faultErrorRate > 0) sim.faults.setErrorRate("*", o.faultErrorRate);
  if (o.faultWatchDropSeconds) sim.faults.dropWatchesAfterSeconds = o.faultWatchDropSeconds;
  if (o.faultErrorRate > 0 || o.faultWatchDropSeconds) {
    say(`fault injection on: ${o.faultErrorRate ? `${o.faultErrorRate * 100}% of API requests fail (500/503/429)` : "no API errors"}${o.faultWatchDropSeconds ? `, every watch dropped after ${o.faultWatchDropSeconds}s` : ""}`);
  }

  const logFile = join(workDir, "operator.log");
  operator = await startOperatorProcess({ kubeconfig: kc, logFile, identity: "olares-operator-demo" });
  say(`operator: olares-operator run --kubeconfig ${kc} (pid ${operator.pid}, in place of the chart's Deployment; its ServiceAccount and RBAC are installed, the local process uses the kubeconfig's token)`);
  say(`operator log: ${logFile}`);
  await waitOperatorReady(operator);
  say(`operator ready (caches synced); metrics on ${operator.metricsUrl}`);

  const attempts = o.faultErrorRate > 0 ? 10 : 1;
  const applied = await kubectlOk(kc, ["apply", "-f", o.filename], { attempts });
  say(`kubectl apply -f ${rel(o.filename)}: ${applied.trim()}`);
  const applyAt = Date.now();

  const name = (await kubectlOk(kc, ["get", "-f", o.filename, "-o", "jsonpath={.metadata.name}"], { attempts })).trim() || "olares";
  const outcome = await watchProgress(name, o.timeout * 1000);
  sim.faults.reset();
  const awaiting = outcome.ready && installation(sim, name)?.status?.phase === "AwaitingActivation";
  if (awaiting) {
    const cr = installation(sim, name)!;
    const c = ((cr.status?.conditions ?? []) as Json[]).find((x) => x.type === "CoreServicesReady");
    say(`Olares ${cr.spec.version} is installed after ${((Date.now() - applyAt) / 1000).toFixed(1)}s from kubectl apply; next step, the owner's:`);
    process.stdout.write(`\n  ${String(c?.message ?? "")}\n`);
    process.stdout.write(`\n$ kubectl get olaresinstallations\n${await kubectlOk(kc, ["get", "olaresinstallations"], { attempts: 3 })}`);
    process.stdout.write(`\nThe demo stops at activation (AwaitingActivation until the owner's User says bytetrade.io/wizard-status=completed).\n`);
  } else if (outcome.ready) {
    say(`Ready after ${((Date.now() - applyAt) / 1000).toFixed(1)}s from kubectl apply`);
    process.stdout.write(`\n$ kubectl get olaresinstallations\n${await kubectlOk(kc, ["get", "olaresinstallations"], { attempts: 3 })}`);
    const columns = "NAME:.metadata.name,STATE:.metadata.annotations.olares\\.com/state,CONFIG:.metadata.annotations.olares\\.com/current-config,GPU:.metadata.labels.olares\\.com/gpu\\.nvidia";
    process.stdout.write(`\n$ kubectl get nodes -o custom-columns=${columns}\n${await kubectlOk(kc, ["get", "nodes", "-o", `custom-columns=${columns}`], { attempts: 3 })}`);
  } else if (outcome.stuck) {
    exitCode = 1;
    process.stdout.write(`\nDegraded for a reason that does not pass by itself, giving up after ${((Date.now() - applyAt) / 1000).toFixed(1)}s:\n${outcome.stuck}\n${outcome.explanation}\noperator log: ${logFile}\n`);
    const get = await kubectl(kc, ["get", "olaresinstallations"]);
    process.stdout.write(`\n$ kubectl get olaresinstallations\n${get.stdout || get.stderr}`);
  } else {
    exitCode = 1;
    process.stdout.write(`\nnot Ready after ${o.timeout}s.\n${outcome.explanation}\noperator log: ${logFile}\n`);
    const get = await kubectl(kc, ["get", "olaresinstallations"]);
    process.stdout.write(`\n$ kubectl get olaresinstallations\n${get.stdout || get.stderr}`);
  }

  if (o.keep && exitCode === 0) {
    const k = kubectlOnPath() ?? KUBECTL;
    process.stdout.write(`\nThe simulated cluster keeps running (operator pid ${operator.pid}, log ${logFile}). Try:\n  KUBECONFIG=${kc} ${k} get olares\n  KUBECONFIG=${kc} ${k} get pods -A\nCtrl-C stops it and removes ${workDir}.\n`);
    await new Promise<void>(() => undefined); // until Ctrl-C: onSignal cleans up and exits
  }
} catch (err) {
  exitCode = 1;
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  if (operator) process.stderr.write(`operator log: ${operator.logFile}\n`);
} finally {
  await shutdown();
}
// The temp dir holds the operator log: kept when the demo failed (it was printed), removed otherwise.
if (exitCode === 0) rmSync(workDir, { recursive: true, force: true });
process.exit(exitCode);

/** `kubectl` when the PATH has one (the hint then reads as the user would type it). */
function kubectlOnPath(): string | undefined {
  const r = spawnSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? "kubectl" : undefined;
}

/** Prints stage and node transitions as they happen; resolves when Ready or at the deadline. */
/** Prints stage and node transitions as they happen; resolves when Ready, stuck Degraded or at the deadline. */
function watchProgress(name: string, timeoutMs: number): Promise<{ ready: boolean; stuck?: string; explanation: string }> {
  const seen = new Map<string, string>();
  let degradedSince: { key: string; at: number } | undefined;
  /** The Degraded condition's "reason: message" when it will not pass by itself. */
  const stuck = (cr: KObj | undefined): string | undefined => {
    const d = ((cr?.status?.conditions ?? []) as Json[]).find((c) => c.type === "Degraded" && c.status === "True");
    if (!d || cr?.status?.phase !== "Degraded") {
      degradedSince = undefined;
      return undefined;
    }
    const key = `${String(d.reason)}: ${String(d.message ?? "")}`;
    if (degradedSince?.key !== key) degradedSince = { key, at: Date.now() };
    if (WAITS_FOR_USER.has(String(d.reason)) || Date.now() - degradedSince.at >= LASTING_DEGRADED_MS) return `Degraded=True ${key}`;
    return undefined;
  };
  const report = (key: string, value: string, line: string) => {
    if (seen.get(key) === value) return;
    seen.set(key, value);
    say(line);
  };
  const check = (): boolean => {
    const cr = installation(sim, name);
    if (!cr) return false;
    if (cr.status?.phase) report("phase", cr.status.phase, `phase ${cr.status.phase}${cr.status.message ? `: ${cr.status.message}` : ""}`);
    // One <Stage>Ready condition per stage, in stage order: the stage list comes from the operator.
    for (const c of (cr.status?.conditions ?? []) as Json[]) {
      if (c.type === "Ready" || !String(c.type).endsWith("Ready")) continue;
      const stage = String(c.type).slice(0, -"Ready".length);
      const mark = c.status === "True" ? "ready" : "waiting";
      if (c.status === "True" || stageIsCurrent(cr, stage)) report(`stage/${stage}`, `${c.status}/${c.reason}`, `  stage ${stage.padEnd(13)} ${mark.padEnd(7)} ${c.message ?? ""}`);
    }
    for (const node of sim.store.list("/nodes")) nodeLine(node, report);
    // The Olares release's Helm releases, as each goes in (installer order).
    for (const c of (cr.status?.components ?? []) as Json[]) {
      if (c.kind === "HelmRelease" && c.ready) report(`release/${c.namespace}/${c.name}`, String(c.message), `  release ${`${c.namespace}/${c.name}`.padEnd(34)} ${c.message}`);
    }
    // The operator's part ends when the owner is to activate Olares in the wizard.
    return isReady(cr) || cr.status?.phase === "AwaitingActivation";
  };
  return new Promise((resolve) => {
    const deadline = setTimeout(() => finish(false), timeoutMs);
    const tick = () => {
      if (check()) return finish(true);
      const reason = stuck(installation(sim, name));
      if (reason) finish(false, reason);
    };
    const poll = setInterval(tick, 250);
    const unsub = subscribeAll(sim, tick);
    let done = false;
    function finish(ready: boolean, stuckReason?: string) {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearInterval(poll);
      unsub();
      resolve({ ready, ...(stuckReason ? { stuck: stuckReason } : {}), explanation: ready ? "" : explainNotReady(installation(sim, name)) });
    }
    tick();
  });
}

function stageIsCurrent(cr: KObj, stage: string): boolean {
  return (cr.status?.message ?? "").startsWith(`${stage}:`);
}

function nodeLine(node: KObj, report: (key: string, value: string, line: string) => void): void {
  const a = node.metadata.annotations ?? {};
  const state = a["olares.com/state"];
  if (!state) return;
  const current = a["olares.com/current-config"] ?? "-";
  const desired = a["olares.com/desired-config"] ?? "-";
  const reason = a["olares.com/reason"] ? ` (${a["olares.com/reason"]})` : "";
  report(`node/${node.metadata.name}`, `${state}/${current}/${desired}`, `  node  ${node.metadata.name!.padEnd(13)} ${state.padEnd(8)} config ${current}${desired !== current ? ` → ${desired}` : ""}${reason}`);
}
