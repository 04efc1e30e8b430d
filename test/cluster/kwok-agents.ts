// kwok "runs" the node-agent DaemonSet's pods without running their container, so this runner is the
// container: for every Running node-agent pod the real scheduler placed on a kwok node it starts the real
// node agent in-process (startAgentInProcess) on a temp host root, authenticated as the agent's own
// ServiceAccount (a TokenRequest token: its RBAC, not admin). The agent stops when its pod goes away.
import { rm } from "node:fs/promises";
import { startAgentInProcess, type InProcessAgent } from "../support/in-process-agent.js";
import type { SyncOutcome } from "../../operator/src/agent/agent.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import type { Logger } from "../../operator/src/kube/log.js";
import { LABEL_NAME, NODE_AGENT_NAME, SYSTEM_NAMESPACE } from "../../operator/src/contract/names.js";
import { createSimulatedHost, patchReleaseDownloads, type SimulatedHost } from "../sim/agent-runner.js";
import type { ControlPlane } from "../support/controlplane.js";

export const GPU_RESOURCE = "nvidia.com/gpu";

export interface KwokAgents {
  readonly hosts: Map<string, SimulatedHost>;
  /** Nodes whose agent runs now. */
  running(): string[];
  readonly started: number;
  /** The agents' ServiceAccount kubeconfig (once the operator created the account). */
  kubeconfig(): string | undefined;
  stop(): Promise<void>;
}

export interface KwokAgentOptions {
  logger?: Logger;
  onSync?: (nodeName: string, outcome: SyncOutcome) => void;
  /** How often pods are listed (ms). */
  pollMs?: number;
  /** Rewrites the agents' ServiceAccount kubeconfig (e.g. to go through a fault proxy). */
  rewriteKubeconfig?: (file: string) => string;
  /** Overrides the agents' timing (e.g. a short drift interval). */
  tuning?: { resyncMs?: number; retryBaseMs?: number; retryMaxMs?: number; driftIntervalMs?: number };
}

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: { phase?: string };
}

export function attachKwokAgents(cp: ControlPlane, opts: KwokAgentOptions = {}): KwokAgents {
  const restoreFetch = patchReleaseDownloads();
  const hosts = new Map<string, SimulatedHost>();
  const creating = new Map<string, Promise<SimulatedHost>>();
  const agents = new Map<string, { podUid: string; agent: InProcessAgent }>();
  let started = 0;
  let stopped = false;
  let saKubeconfig: string | undefined;
  let client: ReturnType<typeof createClusterClient> | undefined;

  const hostFor = async (nodeName: string): Promise<SimulatedHost> => {
    let p = creating.get(nodeName);
    if (!p) {
      p = (async () => {
        const node = (await cp.api("GET", `/api/v1/nodes/${nodeName}`)).json;
        const host = await createSimulatedHost(nodeName, node?.status?.capacity?.[GPU_RESOURCE] !== undefined);
        hosts.set(nodeName, host);
        return host;
      })();
      creating.set(nodeName, p);
    }
    return p;
  };

  const clientFor = async () => {
    if (client) return client;
    const sa = await cp.api("GET", `/api/v1/namespaces/${SYSTEM_NAMESPACE}/serviceaccounts/${NODE_AGENT_NAME}`);
    if (sa.status !== 200) return undefined;
    const file = await cp.serviceAccountKubeconfig(SYSTEM_NAMESPACE, NODE_AGENT_NAME);
    saKubeconfig = opts.rewriteKubeconfig ? opts.rewriteKubeconfig(file) : file;
    client = createClusterClient(loadKubeConfig(saKubeconfig), { userAgent: "olares-node-agent (kwok)", qps: 0 });
    return client;
  };

  const stopAgent = async (nodeName: string) => {
    const a = agents.get(nodeName);
    if (!a) return;
    agents.delete(nodeName);
    await a.agent.stop();
  };

  const sync = async () => {
    const res = await cp.api("GET", `/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods?labelSelector=${encodeURIComponent(`${LABEL_NAME}=${NODE_AGENT_NAME}`)}`);
    if (res.status !== 200) return;
    const live = new Map<string, Pod>();
    for (const pod of res.json.items as Pod[]) {
      if (pod.spec.nodeName && pod.status?.phase === "Running" && !pod.metadata.deletionTimestamp) live.set(pod.spec.nodeName, pod);
    }
    for (const [nodeName, a] of agents) if (live.get(nodeName)?.metadata.uid !== a.podUid) await stopAgent(nodeName);
    for (const [nodeName, pod] of live) {
      if (agents.has(nodeName) || stopped) continue;
      const c = await clientFor();
      if (!c) return;
      const host = await hostFor(nodeName);
      if (stopped || agents.has(nodeName)) continue;
      const agent = startAgentInProcess({
        client: c,
        nodeName,
        hostRoot: host.root,
        executor: host.system.exec,
        ...(opts.logger ? { logger: opts.logger } : {}),
        tuning: { resyncMs: 1000, retryBaseMs: 200, retryMaxMs: 2000, driftIntervalMs: 60_000, ...opts.tuning },
        ...(opts.onSync ? { onSync: (o: SyncOutcome) => opts.onSync!(nodeName, o) } : {}),
      });
      agents.set(nodeName, { podUid: pod.metadata.uid, agent });
      started++;
    }
  };

  let syncing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    syncing = syncing.then(sync).catch(() => undefined);
  }, opts.pollMs ?? 250);

  return {
    hosts,
    running: () => [...agents.keys()].sort(),
    get started() {
      return started;
    },
    kubeconfig: () => saKubeconfig,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await syncing;
      await Promise.all([...agents.keys()].map(stopAgent));
      restoreFetch();
      await Promise.all([...creating.values()].map(async (p) => rm((await p).root, { recursive: true, force: true })));
    },
  };
}
