// Figures on the real control plane (issue 9): kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler and kwok built by hack/controlplane.sh; the operator's Manager in-process as the chart's
// ServiceAccount, helm installing the fixture Olares release as the chart's installer ServiceAccount, one
// real node agent per kwok node, the tests' owner completing the wizard. Write counts come from the
// apiserver's audit log (what the server received, not what the client thinks it sent); 200 nodes: the
// operator as its own process (its RSS sampled from /proc) and 200 in-process agents.
// Standalone: `npx tsx hack/bench-controlplane.ts`; hack/bench.ts runs CONTROLPLANE_SECTIONS too.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { invokedDirectly, runSections, type BenchSection, type Figure } from "./bench-report.js";
import { Manager } from "../operator/src/controller/manager.js";
import { createClusterClient } from "../operator/src/kube/client.js";
import { loadKubeConfig } from "../operator/src/kube/kubeconfig.js";
import { createMetrics } from "../operator/src/kube/metrics.js";
import { Helm } from "../operator/src/helm/index.js";
import { operatorBundle, releaseRunOptions, startOperatorProcess, waitOperatorReady } from "../test/e2e/operator.js";
import { ownerCompletesWizard } from "../test/cluster/owner.js";
import { DEFAULT_OPERATOR_IMAGE } from "../operator/src/render/images.js";
import { attachKwokAgents } from "../test/cluster/kwok-agents.js";
import { startLocalPathStandIn } from "../test/cluster/volumes.js";
import { CHART_DIR, EXAMPLE, HELMS, INSTALLER_USER, OPERATOR_NAMESPACE, CR_PATH, allNodesDone, explainNotReady, helm, installation, isReady, nodes as listNodes, sleep, until } from "../test/cluster/helpers.js";
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
    const owner = ownerCompletesWizard(cp);
    let agents: ReturnType<typeof attachKwokAgents> | undefined;
    let manager: Manager | undefined;
    try {
      const r = await helm(cp, HELMS[0].bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--set", "replicaCount=0"]);
      if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr}`);
      const kc = await cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, "olares-operator");
      agents = attachKwokAgents(cp);
      const metrics = createMetrics();
      const client = createClusterClient(loadKubeConfig(kc), { metrics, userAgent: "olares-operator" });
      const release = releaseRunOptions();
      // The release's own objects (velero's, SystemEnv) go through the installer's identity, as `run --helm-as` does.
      const installerClient = createClusterClient(loadKubeConfig(kc), { metrics, userAgent: "olares-operator", impersonateUser: INSTALLER_USER });
      const installer = new Helm({ bin: release.helm, kubeconfig: kc, kubeAsUser: INSTALLER_USER, home: join(release.releaseCache, "helm-home") });
      manager = new Manager({ client, operatorImage: DEFAULT_OPERATOR_IMAGE, namespace: OPERATOR_NAMESPACE, metrics, resyncPeriodMs: RESYNC_MS, release: { installer, installerClient, cacheDir: release.releaseCache, mirror: release.mirror } });
      await manager.start();
      const cr = parseAllDocuments(readFileSync(EXAMPLE, "utf8")).map((d) => d.toJS()).find((d) => d?.kind === "OlaresInstallation");
      const auditFrom = cp.audit().length;
      const t0 = performance.now();
      const created = await cp.api("POST", CR_PATH, cr);
      if (created.status !== 201) throw new Error(`creating the installation failed: ${created.text}`);
      await until(async () => isReady(await installation(cp)), 180_000, async () => `Ready: ${explainNotReady(await installation(cp))}`, 50);
      const readyMs = performance.now() - t0;
      const first = writeRequests(cp.audit().slice(auditFrom), OPERATOR_USER);
      const helmFirst = writeRequests(cp.audit().slice(auditFrom), INSTALLER_USER);
      const helmRunsAtReady = installer.runs;
      await sleep(RESYNC_MS * 2);
      const steadyFrom = cp.audit().length;
      const helmRunsFrom = installer.runs;
      await sleep(RESYNC_MS * 10 + 200);
      const steady = writeRequests(cp.audit().slice(steadyFrom), OPERATOR_USER);
      const helmSteady = writeRequests(cp.audit().slice(steadyFrom), INSTALLER_USER);
      const helmRunsSteady = installer.runs - helmRunsFrom;
      const figures: Figure[] = [
        { name: "apply → Ready (kube-apiserver, kwok)", value: (readyMs / 1000).toFixed(2), unit: "s (one run; pods Ready as soon as kwok marks them)" },
        { name: "operator write requests, apply → Ready", value: first.length, unit: `requests (${summarize(first)})` },
        { name: "helm write requests (as the installer ServiceAccount), apply → Ready", value: helmFirst.length, unit: `requests, ${helmRunsAtReady} helm runs (the fixture release's charts, release records)` },
        {
          name: "operator writes over 10 resyncs at steady state",
          value: steady.length,
          unit: `requests (resync every ${RESYNC_MS} ms)${steady.length ? `: ${steady.slice(0, 5).map(describeRequest).join("; ")}` : ""}`,
          target: "0",
          ok: steady.length === 0,
        },
        { name: "helm runs and helm writes over 10 resyncs at steady state", value: `${helmRunsSteady} / ${helmSteady.length}`, unit: "runs / requests", target: "0 / 0", ok: helmRunsSteady === 0 && helmSteady.length === 0 },
      ];
      return figures;
    } finally {
      await owner.stop();
      await manager?.stop();
      await agents?.stop();
      await volumes.stop();
      await cp.stop();
    }
  },
};

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** 200 kwok nodes (CONTROLPLANE_BENCH_NODES): apply with maxUnavailable 10% → every node Done, and Ready. */
const manyNodes: BenchSection = {
  title: `node-config rollout on the real control plane (${ON_KUBE}, kwok): ${Number(process.env["CONTROLPLANE_BENCH_NODES"] ?? 200)} nodes, maxUnavailable=10% (the operator as its own process, one in-process agent per node)`,
  async run() {
    if (optedOut()) return [{ name: `skipped: ${OPT_OUT_VAR}=1`, value: "-" }];
    const count = Number(process.env["CONTROLPLANE_BENCH_NODES"] ?? 200);
    const cp = await startControlPlane({ nodes: count });
    const volumes = startLocalPathStandIn(cp);
    const owner = ownerCompletesWizard(cp);
    let agents: ReturnType<typeof attachKwokAgents> | undefined;
    let op: Awaited<ReturnType<typeof startOperatorProcess>> | undefined;
    let sampler: NodeJS.Timeout | undefined;
    try {
      const r = await helm(cp, HELMS[0].bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--set", "replicaCount=0"]);
      if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr}`);
      const kc = await cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, "olares-operator");
      agents = attachKwokAgents(cp, { pollMs: 1000 });
      op = await startOperatorProcess({ kubeconfig: kc, entry: operatorBundle(), logFile: join(cp.dir, "logs", "operator-bench.log"), env: { OLARES_HELM_AS: INSTALLER_USER } });
      await waitOperatorReady(op, 60_000);
      const pid = op.pid;
      const idle = rssMiB(pid);
      let peak = idle;
      sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssMiB(pid));
        } catch {
          // the process is gone; the run fails below
        }
      }, 250);
      const cr = parseAllDocuments(readFileSync(EXAMPLE, "utf8")).map((d) => d.toJS()).find((d) => d?.kind === "OlaresInstallation");
      cr.spec.nodes = { ...(cr.spec.nodes ?? {}), rollout: { maxUnavailable: "10%" } };
      const auditFrom = cp.audit().length;
      const t0 = performance.now();
      const created = await cp.api("POST", CR_PATH, cr);
      if (created.status !== 201) throw new Error(`creating the installation failed: ${created.text}`);
      const describe = async () => {
        const list = await listNodes(cp);
        const states = new Map<string, number>();
        for (const n of list) {
          const s = n.metadata.annotations?.["olares.com/state"] ?? "none";
          states.set(s, (states.get(s) ?? 0) + 1);
        }
        return `${count} nodes Done: ${[...states].map(([k, v]) => `${v} ${k}`).join(", ")}; ${explainNotReady(await installation(cp))}`;
      };
      await until(() => allNodesDone(cp), 900_000, describe, 1000);
      const allDoneMs = performance.now() - t0;
      await until(async () => isReady(await installation(cp)), 300_000, async () => `Ready: ${explainNotReady(await installation(cp))}`, 500);
      const readyMs = performance.now() - t0;
      const atReady = rssMiB(pid);
      const writes = writeRequests(cp.audit().slice(auditFrom), OPERATOR_USER);
      return [
        { name: "apply → all nodes Done (NodeConfig rolled out)", value: (allDoneMs / 1000).toFixed(1), unit: "s" },
        { name: "apply → Ready", value: (readyMs / 1000).toFixed(1), unit: "s" },
        { name: "operator RSS, peak", value: peak.toFixed(0), unit: "MiB (sampled every 250 ms)", target: "≤ 200 MB", ok: peak <= 200 },
        { name: "operator RSS at Ready", value: atReady.toFixed(0), unit: "MiB" },
        { name: "operator RSS idle (caches synced, no CR yet)", value: idle.toFixed(0), unit: "MiB" },
        { name: "operator write requests, apply → Ready", value: writes.length, unit: `requests (${summarize(writes)})` },
      ];
    } finally {
      if (sampler) clearInterval(sampler);
      await owner.stop();
      await op?.stop();
      await agents?.stop();
      await volumes.stop();
      await cp.stop();
    }
  },
};

export const CONTROLPLANE_SECTIONS: BenchSection[] = [oneNode, manyNodes];

if (invokedDirectly(import.meta.url)) {
  const missed = await runSections(CONTROLPLANE_SECTIONS);
  if (missed) console.log(`${missed} target(s) missed`);
  process.exitCode = missed ? 1 : 0;
}
