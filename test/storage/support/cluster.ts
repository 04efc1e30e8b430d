// The storage switch end to end on the cluster simulator: the chart's manifests, the real operator
// (in-process), one real node agent whose node configs run on a simulated host but whose storage engine
// runs on this machine for real — redis-server, MinIO and JuiceFS (FUSE) started from the unit files the
// agent wrote (the unit runner stands in for systemd), rsync copying real trees. The Olares root lives
// under /var/tmp (the API refuses a rootPath in /tmp); the managed services use their fixed ports
// (6379, 9000, 9090) on the primary's node address, so they must be free. Nodes get loopback addresses
// (127.0.2.<i+1>) the services can bind; with `nodes: 2+` the workers are WorkerNodes (their own mount
// namespace with their own tree at the same root path) running their own in-process agents.
import { appendFileSync, promises as fs, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { homedir } from "node:os";
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
import { parseManagedStoragePorts, type Logger } from "../../../operator/src/contract/index.js";
import { DEFAULT_BINARIES, type Binaries } from "../../../operator/src/agent/storage/index.js";
import { buildFixtureRelease, type FixtureRelease } from "../../../hack/fixture-release/build.js";
import { DEFAULT_FIXTURE_VERSION } from "../../../hack/fixture-release/version.js";
import type { SimulatedHost } from "../../sim/agent-runner.js";
import { StorageNode } from "./env.js";
import { WorkerNode } from "./worker-node.js";

export const NODE = "sim-node-0";
/**
 * The managed Redis/MinIO ports of this run: olares-cli's 6379/9000/9090, or OLARES_STORAGE_MANAGED_PORTS
 * ("<redis>,<minio>,<console>"), which the in-process operator reads too — so a second run of the
 * storage tier on the same machine can use others.
 */
export const STORAGE_PORTS = parseManagedStoragePorts(process.env["OLARES_STORAGE_MANAGED_PORTS"]) ?? { redis: 6379, minio: 9000, console: 9090 };
export const MANAGED_PORTS = [STORAGE_PORTS.redis, STORAGE_PORTS.minio, STORAGE_PORTS.console];
/** The simulated nodes' InternalIPs: loopback addresses, so the primary's services can bind them. */
export const nodeAddress = (i: number) => `127.0.2.${i + 1}`;

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

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

/** The binaries where the manifest's components put them on a simulated host (its root is a directory here). */
export function hostBinaries(hostRoot: string): Binaries {
  return { redisServer: hostRoot + DEFAULT_BINARIES.redisServer, minio: hostRoot + DEFAULT_BINARIES.minio, juicefs: hostRoot + DEFAULT_BINARIES.juicefs };
}

function linkTree(from: string, to: string): void {
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const link = path.join(to, e.name);
    if (e.isDirectory()) {
      mkdirSync(link, { recursive: true });
      linkTree(path.join(from, e.name), link);
    } else if (!lstatSync(link, { throwIfNoEntry: false })) symlinkSync(path.join(from, e.name), link);
  }
}

/** containerd's ctr as far as the release's image import uses it (the simulated hosts have no containerd). */
function emulateCtr(host: SimulatedHost): void {
  const images = new Set<string>();
  host.system.exec.use((argv) => {
    if (argv[0] !== "ctr") return undefined;
    const i = argv.indexOf("images");
    const verb = argv[i + 1];
    if (verb === "ls") return { exitCode: 0, stdout: [...images].map((r) => `${r}\n`).join("") };
    if (verb === "import") images.add(argv[argv.indexOf("--index-name") + 1]!);
    return { exitCode: 0 };
  });
}

/** The storage variant of the fixture release (its manifest lists juicefs, minio, redis, redis-231), as an airgap directory of links. */
export interface ReleaseMirror {
  release: FixtureRelease;
  /** The airgap directory the operator reads and serves to the nodes (links into the fixture's CDN dir). */
  dir: string;
  /** The operator's release-files URL the nodes download from. */
  filesUrl: string;
  /** The operator's own release cache (unpacked wizard), apart from the run's shared one. */
  cache: string;
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
    /** With `manifestBinaries`: where the release's files come from. */
    readonly mirror?: ReleaseMirror,
  ) {}

  /**
   * `manifestBinaries`: the storage binaries reach each node only through the release manifest (the
   * operator serves the storage fixture release's files, the agent installs its juicefs/redis/minio
   * components onto the node's simulated host root, and the engine runs them from there).
   */
  static async start(opts: { nodes?: number; manifestBinaries?: boolean } = {}): Promise<StorageCluster> {
    const count = opts.nodes ?? 1;
    for (const p of MANAGED_PORTS) {
      for (const h of ["127.0.0.1", nodeAddress(0)]) if (!(await portFree(p, h))) throw new Error(`${h}:${p} is in use: the managed Redis/MinIO of this tier need it (another run? set OLARES_STORAGE_MANAGED_PORTS=<redis>,<minio>,<console> for this one)`);
    }
    ensureTools();
    await fs.mkdir("/var/tmp", { recursive: true });
    const node = await StorageNode.create({ base: await fs.mkdtemp("/var/tmp/olares-switch-") });
    const workers: WorkerNode[] = [];
    for (let i = 1; i < count; i++) workers.push(await WorkerNode.create(`sim-node-${i}`, node.root, await fs.mkdtemp("/var/tmp/olares-worker-")));
    let mirror: ReleaseMirror | undefined;
    if (opts.manifestBinaries) {
      const fixtureRoot = process.env.OLARES_FIXTURE_DIR ?? path.join(homedir(), ".cache/olares-operator/fixture-release");
      const release = buildFixtureRelease(DEFAULT_FIXTURE_VERSION, fixtureRoot, { storage: true });
      const dir = await fs.mkdtemp(path.join(node.base, "airgap-"));
      linkTree(release.cdnDir, dir);
      const port = await freeLoopbackPort();
      // Its own release cache: the run's shared one may hold this version unpacked from the plain fixture
      // (no storage components in its manifest), and the operator would never read this mirror.
      const cache = await fs.mkdtemp(path.join(node.base, "release-cache-"));
      mirror = { release, dir, filesUrl: `http://127.0.0.1:${port}`, cache };
    }
    const sim = await startSimulator({ nodes: count, nodeInternalIP: nodeAddress });
    ownerCompletesWizard(sim);
    const agentLog = new CapturingLogger();
    const ctrEmulated = new Set<string>();
    const agents = attachAgents(sim, {
      logger: agentLog,
      storage: (name) => {
        const w = workers.find((x) => x.name === name);
        const n = w ?? node;
        const simHost = agents.hosts.get(name);
        if (mirror && simHost && !ctrEmulated.has(name)) {
          emulateCtr(simHost);
          ctrEmulated.add(name);
        }
        const binaries = mirror && simHost ? hostBinaries(simHost.root) : n.bins;
        return { host: n.host, services: n.runner, binaries, servicePaths: n.paths, pollMs: 200 };
      },
    });
    const cluster = new StorageCluster(sim, agents, node, agentLog, workers, mirror);
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
    const m = this.mirror;
    const addr = m ? new URL(m.filesUrl) : undefined;
    this.operator = await startOperatorInProcess(this.kubeconfig, { logger: this.operatorLog, ...(m && addr ? { release: { mirror: m.dir, releaseFilesUrl: m.filesUrl, releaseFilesAddr: `${addr.hostname}:${addr.port}`, releaseCache: m.cache } } : {}) });
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
