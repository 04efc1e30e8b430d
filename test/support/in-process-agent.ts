// Runs the real node agent inside the current process: for the simulator's node stand-ins (one agent
// per simulated node, each with its own host root and executor) and for tests.
import type { ClusterClient, ListerWatcher } from "../../operator/src/kube/types.js";
import { silentLogger } from "../../operator/src/kube/log.js";
import { withMeta, type Logger } from "../../operator/src/contract/index.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import { createHost, type Executor, type HostMode } from "../../operator/src/agent/host/index.js";
import { NodeAgent, type AgentOptions, type SyncOutcome } from "../../operator/src/agent/agent.js";
import { SYSTEM_NAMESPACE } from "../../operator/src/contract/index.js";

export interface InProcessAgentOptions {
  /** An API client (FakeCluster, or createClusterClient against the simulator)… */
  client?: ClusterClient & ListerWatcher;
  /** …or a kubeconfig file to build one from. */
  kubeconfig?: string;
  nodeName: string;
  /** Directory standing in for the node's root filesystem. */
  hostRoot: string;
  /** Runs host commands (RecordingExecutor in simulations). */
  executor: Executor;
  /** How commands reach the host (default "direct": the executor gets the plain argv). */
  hostMode?: HostMode;
  namespace?: string;
  logger?: Logger;
  /** Timing and drain knobs (defaults are production values; simulations shorten them). */
  tuning?: Pick<AgentOptions, "driftIntervalMs" | "resyncMs" | "retryBaseMs" | "retryMaxMs" | "rebootTimeoutMs" | "drain">;
  onSync?: (outcome: SyncOutcome) => void;
  /** The storage engine's tools and service manager (the unit runner in tests). */
  storage?: AgentOptions["storage"];
}

export interface InProcessAgent {
  readonly nodeName: string;
  readonly agent: NodeAgent;
  /** Settles when the loop ends (after stop()). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export function startAgentInProcess(opts: InProcessAgentOptions): InProcessAgent {
  const client = opts.client ?? (opts.kubeconfig ? createClusterClient(loadKubeConfig(opts.kubeconfig), { userAgent: "olares-node-agent" }) : undefined);
  if (!client) throw new Error("startAgentInProcess: pass client or kubeconfig");
  const controller = new AbortController();
  const logger = opts.logger ?? silentLogger();
  const host = createHost({ root: opts.hostRoot, exec: opts.executor, mode: opts.hostMode ?? "direct" });
  const agent = new NodeAgent({
    client,
    host,
    nodeName: opts.nodeName,
    namespace: opts.namespace ?? SYSTEM_NAMESPACE,
    log: withMeta(logger, { node: opts.nodeName }),
    logger,
    signal: controller.signal,
    ...opts.tuning,
    ...(opts.onSync ? { onSync: opts.onSync } : {}),
    ...(opts.storage ? { storage: opts.storage } : {}),
  });
  const done = agent.run();
  return {
    nodeName: opts.nodeName,
    agent,
    done,
    async stop() {
      controller.abort();
      await done;
    },
  };
}
