// The storage switch end to end on the cluster simulator: the chart's manifests, the real operator
// (in-process), one real node agent whose node configs run on a simulated host but whose storage engine
// runs on this machine for real — redis-server, MinIO and JuiceFS (FUSE) started from the unit files the
// agent wrote (the unit runner stands in for systemd), rsync copying real trees. The Olares root lives
// under /var/tmp (the API refuses a rootPath in /tmp); the managed services use their fixed ports
// (6379, 9000, 9090) on the primary's node address, so they must be free. Nodes get loopback addresses
// (127.0.2.<i+1>) the services can bind; with `nodes: 2+` the workers are WorkerNodes (their own mount
// namespace with their own tree at the same root path) running their own in-process agents.
import { appendFileSync, promises as fs, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { parse } from "yaml";
import { attachAgents, type AgentRunner } from "../../sim/agent-runner.js";
import { startSimulator, type Simulator } from "../../sim/server.js";
import type { KObj } from "../../sim/types.js";
import {
  EXAMPLE,
  ensureTools,
  installOperatorManifests,
  installation,
  kubectlOk,
  operatorManifests,
  ownerCompletesWizard,
  startOperatorInProcess,
  waitFor,
  type InProcessOperator,
} from "../../e2e/cluster.js";
import type { Logger } from "../../../operator/src/contract/index.js";
import { StorageNode } from "./env.js";
import { WorkerNode } from "./worker-node.js";

export const NODE = "sim-node-0";
export const MANAGED_PORTS = [6379, 9000, 9090];
/** The simulated nodes' InternalIPs: loopback addresses, so the primary's services can bind them. */
export const nodeAddress = (i: number) => `127.0.2.${i + 1}`;

async function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Every line the operator logged, with its metadata (the secret grep reads them). */
export class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  constructor(private readonly file = process.env["STORAGE_TEST_LOG"]) {}
  private push(level: string, msg: string, meta?: Record<string, unknown>) {
    const line = `${level} ${msg} ${meta ? JSON.stringify(meta) : ""}`;
    this.lines.push(line);
    // STORAGE_TEST_LOG=<file> also writes the lines there, for a failing run
    if (this.file) appendFileSync(this.file, `${new Date().toISOString()} ${line}\n`);
  }
  info(msg: string, meta?: Record<string, unknown>) {
    this.push("info", msg, meta);
  }
  warn(msg: string, meta?: Record<string, unknown>) {
    this.push("warn", msg, meta);
  }
  error(msg: string, meta?: Record<string, unknown>) {
    this.push("error", msg, meta);
  }
  debug(msg: string, meta?: Record<string, unknown>) {
    this.push("debug", msg, meta);
  }
}

export class StorageCluster {
  operator!: InProcessOperator;
  readonly operatorLog = new CapturingLogger();

  private constructor(
    readonly sim: Simulator,
    readonly agents: AgentRunner,
    readonly node: StorageNode,
    readonly agentLog: CapturingLogger,
    /** sim-node-1.. (each in its own mount namespace), when started with nodes ≥ 2. */
    readonly workers: WorkerNode[] = [],
  ) {}

  static async start(opts: { nodes?: number } = {}): Promise<StorageCluster> {
    const count = opts.nodes ?? 1;
    for (const p of MANAGED_PORTS) {
      for (const h of ["127.0.0.1", nodeAddress(0)]) if (!(await portFree(p, h))) throw new Error(`${h}:${p} is in use: the managed Redis/MinIO of this tier need it`);
    }
    ensureTools();
    await fs.mkdir("/var/tmp", { recursive: true });
    const node = await StorageNode.create({ base: await fs.mkdtemp("/var/tmp/olares-switch-") });
    const workers: WorkerNode[] = [];
    for (let i = 1; i < count; i++) workers.push(await WorkerNode.create(`sim-node-${i}`, node.root, await fs.mkdtemp("/var/tmp/olares-worker-")));
    const sim = await startSimulator({ nodes: count, nodeInternalIP: nodeAddress });
    ownerCompletesWizard(sim);
    const agentLog = new CapturingLogger();
    const agents = attachAgents(sim, {
      logger: agentLog,
      storage: (name) => {
        const w = workers.find((x) => x.name === name);
        const n = w ?? node;
        return { host: n.host, services: n.runner, binaries: n.bins, servicePaths: n.paths, pollMs: 200 };
      },
    });
    const cluster = new StorageCluster(sim, agents, node, agentLog, workers);
    await installOperatorManifests(sim.kubeconfigPath, await operatorManifests());
    await cluster.startOperator();
    return cluster;
  }

  get kubeconfig(): string {
    return this.sim.kubeconfigPath;
  }

  get rootfs(): string {
    return path.join(this.node.root, "rootfs");
  }

  async startOperator(): Promise<void> {
    this.operator = await startOperatorInProcess(this.kubeconfig, { logger: this.operatorLog });
  }

  /** examples/olares.yaml with this tier's root path and the given storage. */
  installationYaml(storage: Record<string, unknown>): string {
    const doc = parse(readExample()) as KObj;
    doc.spec.storage = { rootPath: this.node.root, ...storage };
    return JSON.stringify(doc);
  }

  async apply(storage: Record<string, unknown>): Promise<void> {
    await kubectlOk(this.kubeconfig, ["apply", "-f", "-"], { input: this.installationYaml(storage) });
  }

  async patchStorage(storage: Record<string, unknown>): Promise<void> {
    await kubectlOk(this.kubeconfig, ["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { storage } })]);
  }

  cr(): KObj | undefined {
    return installation(this.sim);
  }

  async waitFor<T>(check: () => T | undefined | false, timeoutMs: number, what: string | (() => string)): Promise<T> {
    return waitFor(this.sim, check, timeoutMs, what);
  }

  events(): KObj[] {
    return this.sim.store.list("/events");
  }

  nodeAnnotations(name = NODE): Record<string, string> {
    return this.sim.store.get("/nodes", "", name)?.metadata.annotations ?? {};
  }

  async stop(): Promise<void> {
    await this.operator?.stop();
    await this.agents.stop();
    await this.sim.stop();
    for (const w of this.workers) await w.cleanup();
    await this.node.cleanup();
  }
}

function readExample(): string {
  return readFileSync(EXAMPLE, "utf8");
}
