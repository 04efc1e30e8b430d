// `npm run demo -- --control-plane real`: the demo on the real control plane (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler, kwok nodes) instead of the simulator. The chart is installed
// by real helm, the operator process runs with the chart's ServiceAccount token, one real node agent per
// kwok node runs in this process on a temp host root. The operator's helm installs the fixture Olares release
// (hack/fixture-release.ts) as the chart's installer ServiceAccount, release by release; at
// AwaitingActivation the demo plays the owner finishing the wizard, then the installation is Ready.
import { join, relative } from "node:path";
import { ensureTools, startOperatorProcess, waitOperatorReady, type OperatorProcess } from "../e2e/cluster.js";
import { ON_KUBE, ROOT, startControlPlane, type ControlPlane } from "../support/controlplane.js";
import { CHART_DIR, HELMS, INSTALLER_USER, OPERATOR_NAMESPACE, explainNotReady, helm, installation, isReady, nodes, sleep } from "./helpers.js";
import { attachKwokAgents, type KwokAgents } from "./kwok-agents.js";
import { ownerCompletesWizard, type Owner } from "./owner.js";
import { startLocalPathStandIn, type Provisioner } from "./volumes.js";

export interface RealDemoOptions {
  nodes: number;
  gpuNodes: number;
  timeout: number;
  keep: boolean;
  filename: string;
}

export async function runRealDemo(o: RealDemoOptions): Promise<number> {
  const t0 = Date.now();
  const say = (msg: string) => process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${msg}\n`);
  const rel = (p: string) => (p.startsWith(ROOT) ? relative(ROOT, p) : p);
  ensureTools();
  say(`starting the real control plane (hack/controlplane.sh start): ${ON_KUBE}, ${o.nodes} kwok node(s)${o.gpuNodes ? `, ${o.gpuNodes} with nvidia.com/gpu capacity` : ""}`);
  let cp: ControlPlane | undefined;
  let agents: KwokAgents | undefined;
  let volumes: Provisioner | undefined;
  let operator: OperatorProcess | undefined;
  let owner: Owner | undefined;
  let exitCode = 0;
  try {
    cp = await startControlPlane({ nodes: o.nodes, gpuNodes: o.gpuNodes });
    say(`control plane up: ${cp.server} reports ${cp.version}; kubeconfig ${cp.kubeconfig}`);
    const r = await helm(cp, HELMS[0].bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--set", "replicaCount=0"]);
    if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr}`);
    say(`helm install olares-operator charts/olares-operator (replicaCount=0: the operator runs here as a process, with the chart's ServiceAccount)`);
    const kc = await cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, "olares-operator");
    agents = attachKwokAgents(cp);
    volumes = startLocalPathStandIn(cp);
    const logFile = join(cp.dir, "logs", "operator.log");
    operator = await startOperatorProcess({ kubeconfig: kc, logFile, identity: "olares-operator-demo", leaderElect: true, env: { OLARES_HELM_AS: INSTALLER_USER } });
    await waitOperatorReady(operator, 60_000);
    say(`operator ready: olares-operator run --leader-elect as system:serviceaccount:${OPERATOR_NAMESPACE}:olares-operator, helm as ${INSTALLER_USER} (log ${logFile})`);
    const applied = await cp.kubectlOk(["apply", "-f", o.filename]);
    say(`kubectl apply -f ${rel(o.filename)}: ${applied.trim()}`);
    const applyAt = Date.now();
    const seen = new Map<string, string>();
    const report = (key: string, value: string, line: string) => {
      if (seen.get(key) !== value) {
        seen.set(key, value);
        say(line);
      }
    };
    let ready = false;
    while (Date.now() - applyAt < o.timeout * 1000) {
      const cr = await installation(cp);
      if (cr?.status?.phase) report("phase", cr.status.phase, `phase ${cr.status.phase}${cr.status.message ? `: ${cr.status.message}` : ""}`);
      for (const c of cr?.status?.conditions ?? []) {
        if (c.type === "Ready" || !String(c.type).endsWith("Ready")) continue;
        if (c.status === "True" || String(cr.status?.message ?? "").startsWith(`${String(c.type).slice(0, -5)}:`)) report(`stage/${c.type}`, `${c.status}/${c.reason}`, `  stage ${String(c.type).slice(0, -5).padEnd(13)} ${c.status === "True" ? "ready  " : "waiting"} ${c.message ?? ""}`);
      }
      for (const c of cr?.status?.components ?? []) {
        if (c.kind === "HelmRelease") report(`release/${c.namespace}/${c.name}`, String(c.message), `  release ${`${c.namespace}/${c.name}`.padEnd(30)} ${c.message}`);
      }
      if (cr?.status?.phase === "AwaitingActivation" && !owner) {
        say("the owner activates (as LarePass or `olares-cli user activate` would): the wizard is marked completed on their User");
        owner = ownerCompletesWizard(cp);
      }
      for (const n of await nodes(cp)) {
        const a = n.metadata.annotations ?? {};
        if (a["olares.com/state"]) report(`node/${n.metadata.name}`, `${a["olares.com/state"]}/${a["olares.com/current-config"]}`, `  node  ${String(n.metadata.name).padEnd(13)} ${String(a["olares.com/state"]).padEnd(8)} config ${a["olares.com/current-config"] ?? "-"}`);
      }
      if (isReady(cr)) {
        ready = true;
        break;
      }
      await sleep(250);
    }
    if (ready) {
      say(`Ready after ${((Date.now() - applyAt) / 1000).toFixed(1)}s from kubectl apply, on ${ON_KUBE}`);
      process.stdout.write(`\n$ kubectl get olaresinstallations\n${await cp.kubectlOk(["get", "olaresinstallations"])}`);
      process.stdout.write(`\n$ kubectl get pods -A (kwok nodes)\n${await cp.kubectlOk(["get", "pods", "-A", "-o", "wide"])}`);
    } else {
      exitCode = 1;
      process.stdout.write(`\nnot Ready after ${o.timeout}s.\n${explainNotReady(await installation(cp))}\noperator log: ${logFile}\n`);
    }
    if (o.keep && exitCode === 0) {
      process.stdout.write(`\nThe control plane keeps running. Try:\n  KUBECONFIG=${cp.kubeconfig} kubectl get olares\nCtrl-C stops it.\n`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
    }
  } catch (err) {
    exitCode = 1;
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  } finally {
    await owner?.stop();
    await operator?.stop();
    await agents?.stop();
    await volumes?.stop();
    await cp?.stop();
  }
  return exitCode;
}
