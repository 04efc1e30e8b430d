// Runs the real node agent for every node-agent pod the simulator starts: the pod hook of the
// simulator's kubelet stand-in calls startAgentInProcess with one simulated host per node (a temp dir
// as host root plus a RecordingExecutor that emulates apt/dpkg/systemd, from test/agent-host). Hosts
// outlive pods, as real hosts outlive the DaemonSet's pods. GPU nodes get an NVIDIA device in sysfs and
// a loaded 570 driver. The olaresd release download is answered from memory: the simulation has no network.
import { rm } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { FakeSystem } from "../agent-host/fake-system.js";
import { startAgentInProcess, type InProcessAgent } from "../support/in-process-agent.js";
import type { SyncOutcome } from "../../operator/src/agent/agent.js";
import { TOOLKIT_PACKAGES } from "../../operator/src/agent/tasks/nvidia-toolkit.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import type { Logger } from "../../operator/src/kube/log.js";
import { LABEL_NAME, NODE_AGENT_NAME } from "../../operator/src/contract/index.js";
import { OLARESD_RELEASE_BASE } from "../../operator/src/render/stages/olaresd.js";
import { GPU_PRESENT_LABEL } from "./controllers/nodes.js";
import type { Simulator } from "./server.js";
import type { KObj } from "./types.js";

export const SIM_DRIVER_VERSION = "570.133.20";
/** The CUDA version the 570 driver's nvidia-smi reports. */
export const SIM_CUDA_VERSION = "12.8";
const TOOLKIT_VERSION = "1.17.5-1";

export interface SimulatedHost {
  nodeName: string;
  system: FakeSystem;
  /** The host root directory. */
  root: string;
}

export interface AgentRunnerOptions {
  /** The agents' timing knobs (defaults: production timings shortened for a simulation). */
  tuning?: Parameters<typeof startAgentInProcess>[0]["tuning"];
  logger?: Logger;
  onSync?: (nodeName: string, outcome: SyncOutcome) => void;
  /** The storage engine's host, tools and service manager per node (the storage tier runs real FUSE/JuiceFS). */
  storage?: (nodeName: string) => NonNullable<Parameters<typeof startAgentInProcess>[0]["storage"]>;
}

export interface AgentRunner {
  /** Simulated hosts by node name (created when the first agent pod starts on the node). */
  readonly hosts: Map<string, SimulatedHost>;
  /** Nodes whose agent is running now. */
  running(): string[];
  /** How many agents were started in total (pod restarts included). */
  readonly started: number;
  /** Stops the agents, restores fetch, removes the host directories. */
  stop(): Promise<void>;
  /** Stops one node's agent (it stays stopped until its pod starts again): a test runs that node's agent elsewhere. */
  stopAgent(nodeName: string): Promise<void>;
}

/** One-file ustar archive, gzipped: the shape of an olaresd release tarball. */
function tarGz(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => header.write(s, off, len, "utf8");
  put(name, 0, 100);
  put("0000755\0", 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(content.length.toString(8).padStart(11, "0") + "\0", 124, 12);
  put(Math.floor(Date.now() / 1000).toString(8).padStart(11, "0") + "\0", 136, 12);
  put("        ", 148, 8);
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return gzipSync(Buffer.concat([header, content, pad, Buffer.alloc(1024)]));
}

let fetchPatched = 0;
let originalFetch: typeof fetch | undefined;

/** Answers olaresd release downloads from memory; every other URL goes to the real fetch. */
export function patchReleaseDownloads(): () => void {
  if (fetchPatched++ === 0) {
    originalFetch = globalThis.fetch;
    const real = originalFetch;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (!url.startsWith(`${OLARESD_RELEASE_BASE}/`)) return real(input, init);
      const file = url.slice(url.lastIndexOf("/") + 1);
      const m = /^([a-z-]+)-v[0-9A-Za-z.+-]+-linux-(amd64|arm64)\.tar\.gz$/.exec(file);
      if (!m) return new Response(`simulated release mirror: no ${file}`, { status: 404 });
      const binary = Buffer.from(`#!/bin/sh\n# simulated ${file}\n`);
      return new Response(new Uint8Array(tarGz(m[1]!, binary)), { status: 200, headers: { "content-type": "application/gzip" } });
    }) as typeof fetch;
  }
  return () => {
    if (--fetchPatched === 0 && originalFetch) globalThis.fetch = originalFetch;
  };
}

/** An Ubuntu-like host: apt, live systemd; GPU nodes carry a Turing+ NVIDIA card with the driver loaded. */
export async function createSimulatedHost(nodeName: string, gpu: boolean): Promise<SimulatedHost> {
  const system = await FakeSystem.create({ live: true, manager: "apt", installed: ["tzdata", ...(gpu ? [`nvidia-driver-${SIM_DRIVER_VERSION.split(".")[0]}`] : [])] });
  await system.file("/etc/os-release", 'ID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04.2 LTS"\n');
  await system.file("/proc/sys/kernel/osrelease", "6.8.0-57-generic\n");
  await system.file("/etc/hostname", `${nodeName}\n`);
  // As bootstrap/install.sh leaves it: drop-ins (the agent's NVIDIA runtime) come from conf.d.
  await system.file("/etc/containerd/config.toml", `version = 3\nimports = ["/etc/containerd/conf.d/*.toml"]\n`);
  if (gpu) {
    const slot = "/sys/bus/pci/devices/0000:01:00.0";
    await system.file(`${slot}/vendor`, "0x10de\n");
    await system.file(`${slot}/class`, "0x030000\n");
    await system.file(`${slot}/device`, "0x2204\n");
    await system.file("/proc/driver/nvidia/gpus/0000:01:00.0/information", "Model: \t\t NVIDIA GeForce RTX 3090\n");
    await system.file("/proc/driver/nvidia/version", `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${SIM_DRIVER_VERSION}  Release Build\n`);
    // nvidia-smi as the 570 driver ships it: the CUDA version it reports is what the agent labels
    // gpu.bytetrade.io/cuda-supported from (and what the release's hami device plugin selects).
    await system.file("/usr/bin/nvidia-smi", "#!/bin/sh\n", 0o755);
    system.exec.use((argv) => (argv[0] === "nvidia-smi" ? { exitCode: 0, stdout: `| NVIDIA-SMI ${SIM_DRIVER_VERSION}    Driver Version: ${SIM_DRIVER_VERSION}    CUDA Version: ${SIM_CUDA_VERSION}     |\n` } : undefined));
    system.packageVersions.set(`nvidia-driver-${SIM_DRIVER_VERSION.split(".")[0]}`, `${SIM_DRIVER_VERSION}-0ubuntu1`);
    system.aptVersions.set(`nvidia-driver-${SIM_DRIVER_VERSION.split(".")[0]}`, [`${SIM_DRIVER_VERSION}-0ubuntu1`]);
    system.aptVersions.set("nvidia-container-toolkit", [TOOLKIT_VERSION]);
    for (const p of TOOLKIT_PACKAGES) system.aptVersions.set(p, [TOOLKIT_VERSION]);
  }
  return { nodeName, system, root: system.root };
}

export const isNodeAgentPod = (pod: KObj): boolean =>
  pod.metadata.labels?.[LABEL_NAME] === NODE_AGENT_NAME || (pod.metadata.ownerReferences ?? []).some((r) => r.kind === "DaemonSet" && r.name === NODE_AGENT_NAME);

/**
 * Connects the simulator's pod hook to the real agent: each node-agent pod runs startAgentInProcess for
 * its node (through the simulator's HTTP API, like the in-cluster agent) until the pod goes away.
 */
export function attachAgents(sim: Simulator, opts: AgentRunnerOptions = {}): AgentRunner {
  if (!sim.controllers) throw new Error("attachAgents: the simulator runs without controllers (controllers: false), so no pod ever starts");
  const restoreFetch = patchReleaseDownloads();
  // One client for every agent: per-agent rate limits would be meaningless in one process.
  const client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "olares-node-agent (simulated)", qps: 0 });
  const hosts = new Map<string, SimulatedHost>();
  const creating = new Map<string, Promise<SimulatedHost>>();
  const agents = new Map<string, InProcessAgent>();
  let started = 0;
  let stopped = false;

  const hostFor = (node: KObj): Promise<SimulatedHost> => {
    const name = node.metadata.name!;
    let p = creating.get(name);
    if (!p) {
      p = createSimulatedHost(name, node.metadata.labels?.[GPU_PRESENT_LABEL] === "true").then((h) => {
        hosts.set(name, h);
        return h;
      });
      creating.set(name, p);
    }
    return p;
  };

  sim.controllers.onPod(async (pod, node) => {
    if (!isNodeAgentPod(pod) || stopped) return undefined;
    const nodeName = node.metadata.name!;
    const host = await hostFor(node);
    await agents.get(nodeName)?.stop();
    const agent = startAgentInProcess({
      client,
      nodeName,
      hostRoot: host.root,
      executor: host.system.exec,
      ...(opts.logger ? { logger: opts.logger } : {}),
      tuning: { resyncMs: 1000, retryBaseMs: 200, retryMaxMs: 2000, driftIntervalMs: 60_000, ...opts.tuning },
      ...(opts.onSync ? { onSync: (o: SyncOutcome) => opts.onSync!(nodeName, o) } : {}),
      ...(opts.storage ? { storage: opts.storage(nodeName) } : {}),
    });
    agents.set(nodeName, agent);
    started++;
    return {
      ready: Promise.resolve(),
      stop: async () => {
        if (agents.get(nodeName) === agent) agents.delete(nodeName);
        await agent.stop();
      },
    };
  });

  return {
    hosts,
    running: () => [...agents.keys()].sort(),
    async stopAgent(nodeName: string) {
      const a = agents.get(nodeName);
      agents.delete(nodeName);
      await a?.stop();
    },
    get started() {
      return started;
    },
    async stop() {
      stopped = true;
      sim.controllers?.onPod(undefined);
      await Promise.all([...agents.values()].map((a) => a.stop()));
      agents.clear();
      restoreFetch();
      await Promise.all([...creating.values()].map(async (p) => rm((await p).root, { recursive: true, force: true })));
    },
  };
}
