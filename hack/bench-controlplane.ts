// Figures on the real control plane (issue 9): kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler and kwok built by hack/controlplane.sh; the operator's Manager in-process as the chart's
// ServiceAccount, one real node agent per kwok node. Write counts come from the apiserver's audit log
// (what the server received, not what the client thinks it sent).
// Standalone: `npx tsx hack/bench-controlplane.ts`; hack/bench.ts runs CONTROLPLANE_SECTIONS too.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { invokedDirectly, runSections, type BenchSection, type Figure } from "./bench-report.js";
import { Manager } from "../operator/src/controller/manager.js";
import { createClusterClient } from "../operator/src/kube/client.js";
import { loadKubeConfig } from "../operator/src/kube/kubeconfig.js";
import { createMetrics } from "../operator/src/kube/metrics.js";
import { DEFAULT_OPERATOR_IMAGE } from "../operator/src/render/images.js";
import { attachKwokAgents } from "../test/cluster/kwok-agents.js";
import { startLocalPathStandIn } from "../test/cluster/volumes.js";
import { CHART_DIR, EXAMPLE, HELMS, OPERATOR_NAMESPACE, CR_PATH, explainNotReady, helm, installation, isReady, sleep, until } from "../test/cluster/helpers.js";
import { describeRequest, serviceAccountUser, startControlPlane, writeRequests, ON_KUBE, optedOut, OPT_OUT_VAR } from "../test/support/controlplane.js";

const OPERATOR_USER = serviceAccountUser(OPERATOR_NAMESPACE, "olares-operator");
const RESYNC_MS = 1000;

function summarize(events: ReturnType<typeof writeRequests>): string {
  const counts = new Map<string, number>();
  for (const e of events) {
    const r = e.objectRef ?? {};
    const k = r.subresource === "status" ? "status" : r.resource === "events" ? "events" : r.resource === "nodes" ? "node annotations" : r.resource === "olaresinstallations" ? "finalizer" : "objects";
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const failed = events.filter((e) => (e.responseStatus?.code ?? 0) >= 400).length;
  return [...counts].map(([k, n]) => `${n} ${k}`).join(", ") + (failed ? `; ${failed} answered ≥ 400` : "");
}

const oneNode: BenchSection = {
  title: `e2e on the real control plane (${ON_KUBE}, kwok), 1 node, the operator as its ServiceAccount`,
  async run() {
    if (optedOut()) return [{ name: `skipped: ${OPT_OUT_VAR}=1`, value: "-" }];
    const cp = await startControlPlane({ nodes: 1 });
    const volumes = startLocalPathStandIn(cp);
    let agents: ReturnType<typeof attachKwokAgents> | undefined;
    let manager: Manager | undefined;
    try {
      const r = await helm(cp, HELMS[0].bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--set", "replicaCount=0"]);
      if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr}`);
      const kc = await cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, "olares-operator");
      agents = attachKwokAgents(cp);
      const metrics = createMetrics();
      const client = createClusterClient(loadKubeConfig(kc), { metrics, userAgent: "olares-operator" });
      manager = new Manager({ client, operatorImage: DEFAULT_OPERATOR_IMAGE, namespace: OPERATOR_NAMESPACE, metrics, resyncPeriodMs: RESYNC_MS });
      await manager.start();
      const cr = parseAllDocuments(readFileSync(EXAMPLE, "utf8")).map((d) => d.toJS()).find((d) => d?.kind === "OlaresInstallation");
      const auditFrom = cp.audit().length;
      const t0 = performance.now();
      const created = await cp.api("POST", CR_PATH, cr);
      if (created.status !== 201) throw new Error(`creating the installation failed: ${created.text}`);
      await until(async () => isReady(await installation(cp)), 180_000, async () => `Ready: ${explainNotReady(await installation(cp))}`, 50);
      const readyMs = performance.now() - t0;
      const first = writeRequests(cp.audit().slice(auditFrom), OPERATOR_USER);
      await sleep(RESYNC_MS * 2);
      const steadyFrom = cp.audit().length;
      await sleep(RESYNC_MS * 10 + 200);
      const steady = writeRequests(cp.audit().slice(steadyFrom), OPERATOR_USER);
      const figures: Figure[] = [
        { name: "apply → Ready (kube-apiserver, kwok)", value: (readyMs / 1000).toFixed(2), unit: "s (one run; pods Ready as soon as kwok marks them)" },
        { name: "operator write requests, apply → Ready", value: first.length, unit: `requests (${summarize(first)})` },
        {
          name: "operator writes over 10 resyncs at steady state",
          value: steady.length,
          unit: `requests (resync every ${RESYNC_MS} ms)${steady.length ? `: ${steady.slice(0, 5).map(describeRequest).join("; ")}` : ""}`,
          target: "0",
          ok: steady.length === 0,
        },
      ];
      return figures;
    } finally {
      await manager?.stop();
      await agents?.stop();
      await volumes.stop();
      await cp.stop();
    }
  },
};

export const CONTROLPLANE_SECTIONS: BenchSection[] = [oneNode];

if (invokedDirectly(import.meta.url)) {
  const missed = await runSections(CONTROLPLANE_SECTIONS);
  if (missed) console.log(`${missed} target(s) missed`);
  process.exitCode = missed ? 1 : 0;
}
