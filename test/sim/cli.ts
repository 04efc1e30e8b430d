// Standalone simulator: `npx tsx test/sim/cli.ts --nodes 3 --gpu-nodes 1`, then use the printed
// KUBECONFIG line with kubectl. Stops on Ctrl-C.
import { Command, InvalidArgumentError } from "commander";
import type { Verb } from "./faults.js";
import { startSimulator } from "./server.js";

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer within ${min}..${max}`);
  return n;
};
const rate = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("must be a number within 0..1");
  return n;
};
const failure = (v: string, acc: Record<string, string>) => {
  const m = v.match(/^([a-z0-9.-]+)=(ImagePullBackOff|CrashLoopBackOff)$/);
  if (!m) throw new InvalidArgumentError(`--fail expects <object-name>=ImagePullBackOff|CrashLoopBackOff, got "${v}"`);
  return { ...acc, [m[1]]: m[2] };
};
const verbRate = (v: string, acc: Record<string, number>) => {
  const m = v.match(/^(\*|get|list|watch|create|update|patch|delete|deletecollection)=([0-9.]+)$/);
  if (!m) throw new InvalidArgumentError(`--error-rate-verb expects <verb>=<0..1>, got "${v}"`);
  return { ...acc, [m[1]]: rate(m[2]) };
};

const program = new Command("olares-sim")
  .description("Run the cluster simulator until interrupted")
  .option("--nodes <n>", "number of nodes (1..1000)", int("--nodes", 1, 1000), 1)
  .option("--gpu-nodes <n>", "nodes with an NVIDIA GPU", int("--gpu-nodes", 0, 1000), 0)
  .option("--pod-ready-delay <ms>", "milliseconds from binding to Ready", int("--pod-ready-delay", 0, 3_600_000), 0)
  .option("--job-duration <ms>", "milliseconds a Job pod runs", int("--job-duration", 0, 3_600_000), 0)
  .option("--fail <name=reason>", "pods of this object fail (repeatable)", failure, {})
  .option("--error-rate <r>", "fraction of all API requests answered 500/503/429", rate)
  .option("--error-rate-verb <verb=r>", "error rate for one verb (repeatable)", verbRate, {})
  .option("--latency <ms>", "added latency per request", int("--latency", 0, 60_000), 0)
  .option("--drop-watches-after <s>", "close every watch after this many seconds", int("--drop-watches-after", 1, 86_400))
  .option("--force-conflicts <n>", "the next N writes get 409 Conflict", int("--force-conflicts", 0, 1_000_000), 0)
  .option("--history <n>", "watch events retained (older resourceVersions get 410)", int("--history", 1, 10_000_000))
  .option("--compact-every <s>", "compact watch history every N seconds", int("--compact-every", 1, 86_400))
  .option("--pause-node-readiness", "start with node readiness paused")
  .option("--bookmark-interval <ms>", "watch bookmark interval", int("--bookmark-interval", 10, 3_600_000), 5000)
  .option("--port <port>", "listen port (default random)", int("--port", 0, 65535), 0)
  .option("--kubeconfig <path>", "where to write the kubeconfig");

program.parse();
const o = program.opts();
const sim = await startSimulator({
  nodes: o.nodes,
  gpuNodes: o.gpuNodes,
  podReadyDelayMs: o.podReadyDelay,
  jobDurationMs: o.jobDuration,
  failures: o.fail,
  historySize: o.history,
  bookmarkIntervalMs: o.bookmarkInterval,
  port: o.port,
  kubeconfigPath: o.kubeconfig,
});
if (o.errorRate !== undefined) sim.faults.setErrorRate("*", o.errorRate);
for (const [verb, r] of Object.entries(o.errorRateVerb as Record<string, number>)) sim.faults.setErrorRate(verb as Verb | "*", r);
sim.faults.latencyMs = o.latency;
sim.faults.dropWatchesAfterSeconds = o.dropWatchesAfter;
if (o.forceConflicts) sim.faults.forceConflicts(o.forceConflicts);
if (o.pauseNodeReadiness) sim.faults.pauseNodeReadiness(true);
if (o.compactEvery) setInterval(() => sim.faults.compactHistory(), o.compactEvery * 1000).unref();

process.stdout.write(`simulator listening on ${sim.url}\nkubeconfig: ${sim.kubeconfigPath}\nKUBECONFIG=${sim.kubeconfigPath} kubectl get nodes\n`);
const shutdown = () => void sim.stop().then(() => process.exit(0));
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
