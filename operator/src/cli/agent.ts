// `olares-operator agent --node-name $NODE_NAME --host-root /host [--kubeconfig FILE]`: the node agent
// in the privileged DaemonSet pod. Defaults come from the pod's environment (NODE_NAME, HOST_ROOT,
// POD_NAMESPACE, OLARES_AGENT_HEALTH_ADDR, KUBECONFIG), so the DaemonSet only passes `agent`.
import type { Command } from "commander";
import { loadKubeConfig } from "../kube/kubeconfig.js";
import { createClusterClient } from "../kube/client.js";
import { createLogger } from "../kube/log.js";
import { withMeta, type Logger } from "../contract/index.js";
import type { ClusterClient, ListerWatcher } from "../kube/types.js";
import { createExecaExecutor, createHost, type HostMode } from "../agent/host/index.js";
import { runAgent } from "../agent/agent.js";
import { agentHealth, serveHealth } from "../agent/health.js";
import { SYSTEM_NAMESPACE } from "../contract/index.js";

export interface AgentCommandOptions {
  nodeName?: string;
  hostRoot: string;
  hostMode: string;
  namespace: string;
  kubeconfig?: string;
  healthAddr: string;
  driftInterval: string;
}

export interface AgentCommandDeps {
  connect(kubeconfig: string | undefined): ClusterClient & ListerWatcher;
  logger(): Logger;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal(): AbortSignal;
}

const defaultDeps: AgentCommandDeps = {
  connect: (kubeconfig) => createClusterClient(loadKubeConfig(kubeconfig), { userAgent: "olares-node-agent" }),
  logger: () => createLogger({ name: "node-agent" }),
  stopSignal: () => {
    const controller = new AbortController();
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => controller.abort(new Error(`received ${sig}`)));
    return controller.signal;
  },
};

const HOST_MODES: HostMode[] = ["nsenter", "chroot", "direct"];

/** Checks the options; errors name the flag and the rule. */
export function checkAgentOptions(opts: AgentCommandOptions): { nodeName: string; hostMode: HostMode; driftIntervalMs: number } {
  if (!opts.nodeName) throw new Error("--node-name: required (or set NODE_NAME from the downward API)");
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(opts.nodeName)) throw new Error(`--node-name: "${opts.nodeName}" is not a valid node name`);
  if (!opts.hostRoot.startsWith("/")) throw new Error(`--host-root: "${opts.hostRoot}" must be an absolute path`);
  if (!HOST_MODES.includes(opts.hostMode as HostMode)) throw new Error(`--host-mode: "${opts.hostMode}" must be one of ${HOST_MODES.join(", ")}`);
  const seconds = Number(opts.driftInterval);
  if (!Number.isInteger(seconds) || seconds < 10) throw new Error(`--drift-interval: "${opts.driftInterval}" must be a whole number of seconds >= 10`);
  return { nodeName: opts.nodeName, hostMode: opts.hostMode as HostMode, driftIntervalMs: seconds * 1000 };
}

export async function runAgentCommand(opts: AgentCommandOptions, deps: AgentCommandDeps = defaultDeps): Promise<void> {
  const { nodeName, hostMode, driftIntervalMs } = checkAgentOptions(opts);
  const logger = deps.logger();
  const log = withMeta(logger, { node: nodeName });
  const client = deps.connect(opts.kubeconfig);
  const host = createHost({ root: opts.hostRoot, exec: createExecaExecutor(), mode: hostMode, log: (m) => log.info(m) });
  const health = agentHealth(10 * 60 * 1000);
  const server = await serveHealth(opts.healthAddr, health);
  log.info("node agent starting", { hostRoot: opts.hostRoot, hostMode, namespace: opts.namespace, health: opts.healthAddr });
  // The image sets 64 (Dockerfile): with libuv's default 4, storage copies blocked in FUSE stall every fs call.
  const threadpool = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  if (!(threadpool >= 32)) log.warn("UV_THREADPOOL_SIZE is below 32: a storage migration whose object store goes away stalls the agent's own file I/O until JuiceFS gives up; set UV_THREADPOOL_SIZE=64 as the image does", { threadpool });
  try {
    await runAgent({
      client,
      host,
      nodeName,
      namespace: opts.namespace,
      log,
      logger,
      signal: deps.stopSignal(),
      driftIntervalMs,
      onSync: () => health.markSynced(),
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    log.info("node agent stopped");
  }
}

export function registerAgentCommand(program: Command, deps: AgentCommandDeps = defaultDeps): void {
  program
    .command("agent")
    .description("Run the node agent: apply this node's config from the OlaresInstallation (runs in the privileged DaemonSet)")
    .option("--node-name <name>", "this node's name (env NODE_NAME)", process.env["NODE_NAME"])
    .option("--host-root <dir>", "where the host's root filesystem is mounted (env HOST_ROOT)", process.env["HOST_ROOT"] ?? "/host")
    .option("--host-mode <mode>", "how host commands run: nsenter (hostPID pod), chroot or direct", "nsenter")
    .option("--namespace <ns>", "namespace of node configs and of the agent (env POD_NAMESPACE)", process.env["POD_NAMESPACE"] ?? SYSTEM_NAMESPACE)
    .option("--kubeconfig <file>", "kubeconfig file (default: in-cluster service account, env KUBECONFIG)", process.env["KUBECONFIG"])
    .option("--health-addr <addr>", "listen address of /healthz and /readyz (env OLARES_AGENT_HEALTH_ADDR)", process.env["OLARES_AGENT_HEALTH_ADDR"] ?? ":18099")
    .option("--drift-interval <seconds>", "how often to check managed files for drift and re-detect GPUs", "300")
    .action(async (opts: AgentCommandOptions) => {
      await runAgentCommand(opts, deps);
    });
}
