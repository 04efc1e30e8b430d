// startSimulator(): the simulated cluster — REST API over node:http with bearer-token auth, a kubeconfig
// for clients, the garbage collector, CRD serving, and the controller stand-ins.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SimApi } from "./api.js";
import { startControllers, type Controllers, type PodFailure } from "./controllers/index.js";
import { crdSchemaProcessor, startCrdController } from "./crd.js";
import { Faults } from "./faults.js";
import { startGarbageCollector, type GarbageCollector } from "./gc.js";
import { createHandler, type RequestRecord } from "./http.js";
import { ResourceRegistry } from "./registry.js";
import { ObjectStore } from "./store.js";
import type { KObj } from "./types.js";
import type { WatchCounters } from "./watch.js";

export interface SimulatorOptions {
  /** Number of nodes, 1..1000 (default 1). */
  nodes?: number;
  /** How many of them have an NVIDIA GPU (default 0). */
  gpuNodes?: number;
  /** Node i's InternalIP (default 10.0.x.y). */
  nodeInternalIP?: (i: number) => string;
  gpusPerNode?: number;
  /** Milliseconds from a pod's binding to Running+Ready (default 0). */
  podReadyDelayMs?: number;
  /** Milliseconds a Job pod runs before it Succeeds (default 0). */
  jobDurationMs?: number;
  /** Object name → failure for its pods. */
  failures?: Record<string, PodFailure>;
  /** Events kept for watch resumption (default 100000). */
  historySize?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 5000 ms). */
  bookmarkIntervalMs?: number;
  /** Reported by /version; kubectl's dispatcher picks its version from it (default v1.33.1+k3s1). */
  gitVersion?: string;
  /** Run the node/pod/workload stand-ins (default true). Without them nothing creates nodes or pods. */
  controllers?: boolean;
  token?: string;
  /**
   * Serve HTTPS with the self-signed test certificate in test/sim/tls (default true). kubectl only sends
   * a bearer token over TLS (client-go drops user credentials for plain-http servers).
   */
  tls?: boolean;
  /** Where to write the kubeconfig (default: a new temp dir). */
  kubeconfigPath?: string;
  port?: number;
}

export interface Simulator {
  url: string;
  token: string;
  kubeconfigPath: string;
  store: ObjectStore;
  api: SimApi;
  faults: Faults;
  controllers?: Controllers;
  /** Every API request (watches once, when they start). */
  requests: RequestRecord[];
  /** Open watch streams. */
  watches: WatchCounters;
  /** Resolves when the GC and controllers have no queued work (delayed pod transitions excluded). */
  settle(): Promise<void>;
  /** Convenience for tests: create objects in-process as a user would (fieldManager "sim-seed"). */
  seed(...objects: KObj[]): KObj[];
  stop(): Promise<void>;
}

const TLS_DIR = join(dirname(fileURLToPath(import.meta.url)), "tls");
const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const nodeCount = opts.nodes ?? 1;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 1000) throw new Error(`startSimulator: nodes must be an integer within 1..1000, got ${opts.nodes}`);
  const gitVersion = opts.gitVersion ?? "v1.33.1+k3s1";
  const token = opts.token ?? randomBytes(16).toString("hex");
  const store = new ObjectStore({ historySize: opts.historySize });
  const registry = new ResourceRegistry();
  const api = new SimApi(store, registry);
  api.schema = crdSchemaProcessor;
  const faults = new Faults(store);
  const gc: GarbageCollector = startGarbageCollector(api);
  const stopCrds = startCrdController(api);
  const nsRt = registry.get("", "namespaces")!;
  for (const ns of SYSTEM_NAMESPACES) api.create(nsRt, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, { fieldManager: "k3s" });

  const controllers = opts.controllers === false
    ? undefined
    : startControllers(api, faults, {
        nodes: { count: nodeCount, gpuNodes: opts.gpuNodes ?? 0, gpusPerNode: opts.gpusPerNode ?? 1, kubeletVersion: gitVersion, ...(opts.nodeInternalIP ? { internalIP: opts.nodeInternalIP } : {}) },
        pods: { readyDelayMs: opts.podReadyDelayMs ?? 0, jobDurationMs: opts.jobDurationMs ?? 0, failures: opts.failures },
      });

  const requests: RequestRecord[] = [];
  const watches: WatchCounters = { open: 0 };
  const handler = createHandler({
    api,
    faults,
    token,
    gitVersion,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 5000,
    watches,
    onRequest: (r) => requests.push(r),
  });
  const useTls = opts.tls !== false;
  const server: Server = useTls
    ? createTlsServer({ cert: readFileSync(join(TLS_DIR, "sim-cert.pem")), key: readFileSync(join(TLS_DIR, "sim-key.pem")) }, (req, res) => void handler(req, res))
    : createServer((req, res) => void handler(req, res));
  server.keepAliveTimeout = 60_000;
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `${useTls ? "https" : "http"}://127.0.0.1:${port}`;
  const kubeconfigPath = opts.kubeconfigPath ?? join(mkdtempSync(join(tmpdir(), "olares-sim-")), "kubeconfig");
  writeFileSync(kubeconfigPath, kubeconfig(url, token, useTls ? readFileSync(join(TLS_DIR, "sim-cert.pem")) : undefined), { mode: 0o600 });

  const settle = async () => {
    for (let i = 0; i < 200; i++) {
      await gc.idle();
      await new Promise((r) => setImmediate(r));
      if (!controllers || controllers.isIdle()) {
        await new Promise((r) => setImmediate(r));
        if (!controllers || controllers.isIdle()) return;
      }
    }
  };

  return {
    url,
    token,
    kubeconfigPath,
    store,
    api,
    faults,
    controllers,
    requests,
    watches,
    settle,
    seed: (...objects) =>
      objects.map((o) => {
        const rt = api.resolve(o.apiVersion, o.kind);
        return api.create(rt, o.metadata.namespace, o, { fieldManager: "sim-seed" });
      }),
    async stop() {
      controllers?.stop();
      gc.stop();
      stopCrds();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function kubeconfig(url: string, token: string, caCert?: Buffer): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: olares-sim",
    "  cluster:",
    `    server: ${url}`,
    ...(caCert ? [`    certificate-authority-data: ${caCert.toString("base64")}`] : []),
    "contexts:",
    "- name: olares-sim",
    "  context:",
    "    cluster: olares-sim",
    "    user: olares-sim",
    "    namespace: default",
    "current-context: olares-sim",
    "users:",
    "- name: olares-sim",
    "  user:",
    `    token: ${token}`,
    "",
  ].join("\n");
}
