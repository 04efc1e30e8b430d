// `olares-operator run`: connect, start the manager and the endpoints, stop gracefully on SIGTERM/SIGINT
// (or when leadership is lost, so a standby takes over).
import { warmUpValidation } from "../api/index.js";
import { hostname } from "node:os";
import { join } from "node:path";
import { loadKubeConfig } from "../kube/kubeconfig.js";
import { createClusterClient } from "../kube/client.js";
import { createLogger, type Logger } from "../kube/log.js";
import { createMetrics } from "../kube/metrics.js";
import type { KubeClient, ListerWatcher } from "../kube/types.js";
import { Manager } from "./manager.js";
import { Helm, startReleaseFileServer } from "../helm/index.js";
import type { ReleaseFilesEndpoint } from "../render/index.js";
import { informersNotStalledCheck, informersSyncedCheck, startHealthServer } from "../kube/health.js";

/** Where unpacked releases are kept (an emptyDir or PVC in the chart). */
export const DEFAULT_RELEASE_CACHE = process.env["OLARES_RELEASE_CACHE"] ?? "/var/cache/olares-operator";

export interface RunOptions {
  kubeconfig?: string;
  metricsAddr: string;
  leaderElect: boolean;
  namespace: string;
  image: string;
  /** Lease identity; default the pod name (HOSTNAME). */
  identity?: string;
  qps?: number;
  burst?: number;
  /** The pinned helm binary that installs the Olares release. */
  helm?: string;
  /** Versioned cache of unpacked Olares releases. */
  releaseCache?: string;
  /** A mirror URL or directory standing in for the official Olares CDN. */
  mirror?: string;
  /** The user helm impersonates to install the release (the chart's installer ServiceAccount). */
  helmAs?: string;
  /** Connect as this user (impersonated): the release's installer client. */
  impersonate?: string;
  /**
   * Serve an airgap release's files to the nodes: where to listen ([host]:port, default ":8087"), and the
   * URL the node agents reach it at (the chart's release-files Service). Off unless the URL is set.
   */
  releaseFilesAddr?: string;
  releaseFilesUrl?: string;
}

export interface RunDeps {
  connect(opts: RunOptions, metrics: ReturnType<typeof createMetrics>): KubeClient & ListerWatcher;
  logger(): Logger;
  /** Aborts when the process should stop. */
  stopSignal(): AbortSignal;
}

export const defaultRunDeps: RunDeps = {
  connect: (opts, metrics) =>
    createClusterClient(loadKubeConfig(opts.kubeconfig), {
      metrics,
      userAgent: "olares-operator",
      ...(opts.impersonate ? { impersonateUser: opts.impersonate } : {}),
      ...(opts.qps !== undefined ? { qps: opts.qps } : {}),
      ...(opts.burst !== undefined ? { burst: opts.burst } : {}),
    }),
  logger: () => createLogger({ name: "operator" }),
  stopSignal: () => {
    const controller = new AbortController();
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => controller.abort(new Error(`received ${sig}`)));
    return controller.signal;
  },
};

/** Parses ":8080" or "127.0.0.1:8080" (port 0: any free port). */
export function parseListenAddress(addr: string): { host?: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`--metrics-addr: "${addr}" must be [host]:port with port 0..65535`);
  return { ...(m[1] ? { host: m[1].replace(/^\[|\]$/g, "") } : {}), port };
}

/**
 * The chart's release-files Service has no selector (only the leader has published the manifests): with
 * OLARES_RELEASE_FILES_SERVICE set, the leader points it at its own Pod (POD_NAME, POD_UID, POD_IP from the
 * downward API).
 */
export function releaseFilesEndpoint(namespace: string, port: number, env: NodeJS.ProcessEnv = process.env): ReleaseFilesEndpoint | undefined {
  const service = env["OLARES_RELEASE_FILES_SERVICE"];
  if (!service) return undefined;
  const missing = ["POD_NAME", "POD_UID", "POD_IP"].filter((k) => !env[k]);
  if (missing.length) throw new Error(`OLARES_RELEASE_FILES_SERVICE=${service} needs ${missing.join(", ")} (downward API) to point the Service at the leader`);
  return { namespace, service, port, podName: env["POD_NAME"]!, podUid: env["POD_UID"]!, podIP: env["POD_IP"]! };
}

/** Runs until stopped; resolves after a clean shutdown. Rejects when leadership is lost (exit non-zero). */
export async function runOperator(opts: RunOptions, deps: RunDeps = defaultRunDeps): Promise<void> {
  const { host, port } = parseListenAddress(opts.metricsAddr);
  const log = deps.logger();
  const metrics = createMetrics({ defaultMetrics: true });
  const client = deps.connect(opts, metrics);
  const identity = opts.identity ?? process.env["POD_NAME"] ?? process.env["HOSTNAME"] ?? hostname();
  warmUpValidation();
  const helmAs = opts.helmAs ?? process.env["OLARES_HELM_AS"];
  const filesUrl = opts.releaseFilesUrl ?? process.env["OLARES_RELEASE_FILES_URL"];
  const filesAt = filesUrl ? parseListenAddress(opts.releaseFilesAddr ?? process.env["OLARES_RELEASE_FILES_ADDR"] ?? ":8087") : undefined;
  const files = filesAt ? await startReleaseFileServer({ port: filesAt.port, ...(filesAt.host ? { host: filesAt.host } : {}), log }) : undefined;
  const filesEndpoint = files ? releaseFilesEndpoint(opts.namespace, files.port) : undefined;
  const manager = new Manager({
    client,
    operatorImage: opts.image,
    namespace: opts.namespace,
    logger: log,
    metrics,
    ...(opts.leaderElect ? { leaderElection: { identity } } : {}),
    release: {
      ...(helmAs ? { installerClient: deps.connect({ ...opts, impersonate: helmAs }, metrics) } : {}),
      installer: new Helm({ bin: opts.helm ?? process.env["OLARES_HELM"] ?? "helm", ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}), ...(helmAs ? { kubeAsUser: helmAs } : {}), home: join(opts.releaseCache ?? DEFAULT_RELEASE_CACHE, "helm-home") }),
      cacheDir: opts.releaseCache ?? DEFAULT_RELEASE_CACHE,
      ...((opts.mirror ?? process.env["OLARES_RELEASE_MIRROR"]) ? { mirror: opts.mirror ?? process.env["OLARES_RELEASE_MIRROR"] } : {}),
      ...(files && filesUrl ? { files: { server: files, url: filesUrl, ...(filesEndpoint ? { endpoint: filesEndpoint } : {}) } } : {}),
    },
  });
  const server = await startHealthServer({
    port,
    ...(host ? { host } : {}),
    registry: metrics.registry,
    liveness: [informersNotStalledCheck(manager.cache)],
    readiness: [informersSyncedCheck(manager.cache)],
    logger: log,
  });
  log.info("olares-operator starting", { namespace: opts.namespace, image: opts.image, leaderElect: opts.leaderElect, identity, metricsAddr: opts.metricsAddr, helmAs: helmAs ?? "(the operator's own credentials)" });
  const signal = deps.stopSignal();
  const stopRequested = new Promise<"stop">((resolve) => {
    if (signal.aborted) resolve("stop");
    else signal.addEventListener("abort", () => resolve("stop"), { once: true });
  });
  void manager.start().catch((err: unknown) => log.error("manager failed to start", { err }));
  const why = await Promise.race([stopRequested, manager.lostLeadership.then(() => "lost leadership" as const)]);
  log.info("shutting down", { reason: why === "stop" ? String((signal.reason as Error | undefined)?.message ?? "stop") : why });
  await manager.stop();
  await server.close();
  await files?.close();
  const lost = why === "lost leadership";
  if (lost) throw new Error("lost leadership");
}
