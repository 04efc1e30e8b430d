// Node-config rollout time on the cluster simulator (issue 4): the real operator in-process and one real
// node agent per simulated node (in-process, temp-dir hosts), from `kubectl apply` of the
// OlaresInstallation to every node Done on its config, for maxUnavailable 10% and 1.
// Usage: `npx tsx hack/bench-rollout.ts [NODES]` (default 100). Prints one line per figure.
import { allDoneOn, applyInstallation, describeNodes, recordNodes, startTestbed, waitFor, waitReady } from "../test/e2e-nodes/harness.js";
import { writesBy } from "../test/e2e/cluster.js";
import { invokedDirectly, runSections, type BenchSection, type Figure } from "./bench-report.js";

interface RunFigures {
  maxUnavailable: number | string;
  applyToAllDoneMs: number;
  firstHandOutToAllDoneMs: number;
  /** Undefined when the CR did not become Ready within a minute of the nodes (a later stage's problem). */
  applyToReadyMs?: number;
  notReadyWhy?: string;
  maxInFlight: number;
  operatorWrites: number;
  agentWrites: number;
}

async function run(nodes: number, maxUnavailable: number | string): Promise<RunFigures> {
  const bed = await startTestbed({ sim: { nodes } });
  const rec = recordNodes(bed.sim);
  let firstHandOut: number | undefined;
  const unsubscribe = bed.sim.store.subscribe("/nodes", () => {
    if (firstHandOut === undefined && rec.handOuts.length > 0) firstHandOut = Date.now();
  });
  try {
    const since = bed.sim.requests.length;
    const t0 = Date.now();
    await applyInstallation(bed, { rollout: { maxUnavailable } });
    await waitFor(bed.sim, () => allDoneOn(bed.nodes()), 600_000, () => `all ${nodes} nodes Done: ${describeNodes(bed)}`);
    const allDone = Date.now();
    const ready = await waitReady(bed, "Ready", 60_000).then(
      () => ({ applyToReadyMs: Date.now() - t0 }),
      (err: Error) => ({ notReadyWhy: err.message.split("\n").slice(0, 2).join(" ") }),
    );
    return {
      maxUnavailable,
      applyToAllDoneMs: allDone - t0,
      firstHandOutToAllDoneMs: allDone - (firstHandOut ?? t0),
      ...ready,
      maxInFlight: rec.maxInFlight,
      operatorWrites: writesBy(bed.sim, "olares-operator", since).length,
      agentWrites: writesBy(bed.sim, "olares-node-agent", since).length,
    };
  } finally {
    unsubscribe();
    rec.stop();
    await bed.stop();
  }
}

function rolloutSection(nodes: number, maxUnavailable: "10%" | 1): BenchSection {
  return {
    title: `node-config rollout on the cluster simulator: ${nodes} nodes, maxUnavailable=${maxUnavailable} (real operator + ${nodes} in-process agents)`,
    async run(): Promise<Figure[]> {
      const f = await run(nodes, maxUnavailable);
      return [
        { name: "apply → all nodes Done", value: (f.applyToAllDoneMs / 1000).toFixed(1), unit: "s" },
        { name: "first hand-out → all Done, per node", value: (f.firstHandOutToAllDoneMs / nodes).toFixed(0), unit: "ms" },
        { name: "apply → CR Ready", value: f.applyToReadyMs !== undefined ? (f.applyToReadyMs / 1000).toFixed(1) : `not Ready: ${f.notReadyWhy}`, unit: f.applyToReadyMs !== undefined ? "s" : "" },
        { name: "most nodes in flight at once", value: f.maxInFlight, target: `≤ ${maxUnavailable === 1 ? 1 : Math.max(1, Math.floor(nodes / 10))}`, ok: f.maxInFlight <= (maxUnavailable === 1 ? 1 : Math.max(1, Math.floor(nodes / 10))) },
        { name: "write requests, operator / agents", value: `${f.operatorWrites} / ${f.agentWrites}` },
      ];
    },
  };
}

export const ROLLOUT_SECTIONS: BenchSection[] = [rolloutSection(100, "10%"), rolloutSection(100, 1)];

async function main(): Promise<void> {
  const nodes = Number(process.argv[2] ?? 100);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 1000) throw new Error(`NODES: "${process.argv[2]}" must be an integer from 1 to 1000`);
  await runSections([rolloutSection(nodes, "10%"), rolloutSection(nodes, 1)]);
}

if (invokedDirectly(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
