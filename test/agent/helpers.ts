// Fixtures for agent tests: a temp-dir host with a RecordingExecutor, FakeCluster with nodes and
// node-config ConfigMaps, and a NodeAgent wired to both.
import { writeFileSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FakeCluster } from "../support/fake-cluster.js";
import { createHost, type Host } from "../../operator/src/agent/host/index.js";
import { RecordingExecutor } from "../support/recording-executor.js";
import { nodeConfigId, type HostTask } from "../../operator/src/contract/index.js";
import type { KubeObject, NodeConfig } from "../../operator/src/contract/index.js";
import { NodeAgent, type AgentLog, type AgentOptions } from "../../operator/src/agent/agent.js";
import { nodeConfigObjects } from "../../operator/src/controller/node-rollout.js";
import { ANNOTATION_DESIRED_CONFIG } from "../../operator/src/contract/index.js";

export const NS = "olares-system";
const BOOT_ID = "/proc/sys/kernel/random/boot_id";

export function fileTask(id: string, filePath: string, content: string, disruption: HostTask["disruption"] = "none"): HostTask {
  return { kind: "file", id, description: `write ${filePath}`, disruption, path: filePath, content, mode: 0o644 };
}

export function makeConfig(tasks: HostTask[], group = "default"): NodeConfig {
  return { id: nodeConfigId(tasks), group, tasks };
}

export interface AgentRig {
  root: string;
  exec: RecordingExecutor;
  host: Host;
  fake: FakeCluster;
  logs: string[];
  agent: NodeAgent;
  controller: AbortController;
  /** Publishes the config's ConfigMap. */
  publish(config: NodeConfig): Promise<void>;
  /** Sets desired-config (and optional extra annotations) on the node. */
  desire(id: string, extra?: Record<string, string>): Promise<void>;
  node(name?: string): KubeObject;
  annotations(name?: string): Record<string, string>;
  hostFile(p: string): Promise<string | undefined>;
  writeHostFile(p: string, content: string): Promise<void>;
  /** Boot id "boot-1"; `systemctl reboot` on the host "reboots" it (boot id becomes "boot-2"). */
  rebootableHost(): Promise<void>;
  cleanup(): Promise<void>;
}

export function nodeObject(name: string, opts: { unschedulable?: boolean; labels?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...opts.labels } },
    spec: opts.unschedulable ? { unschedulable: true } : {},
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };
}

export async function agentRig(opts: { nodes?: KubeObject[]; agent?: Partial<AgentOptions> } = {}): Promise<AgentRig> {
  const root = await mkdtemp(path.join(tmpdir(), "olares-agent-"));
  const exec = new RecordingExecutor();
  const host = createHost({ root, exec, mode: "direct" });
  const fake = new FakeCluster();
  for (const n of opts.nodes ?? [nodeObject("n1")]) fake.seed(n);
  const logs: string[] = [];
  const log: AgentLog = {
    info: (m, meta) => logs.push(`info ${m} ${JSON.stringify(meta ?? {})}`),
    warn: (m, meta) => logs.push(`warn ${m} ${JSON.stringify(meta ?? {})}`),
    error: (m, meta) => logs.push(`error ${m} ${JSON.stringify(meta ?? {})}`),
  };
  const controller = new AbortController();
  const agent = new NodeAgent({
    client: fake,
    host,
    nodeName: "n1",
    namespace: NS,
    log,
    signal: controller.signal,
    retryBaseMs: 0,
    drain: { retryDelayMs: 1, pollMs: 1, timeoutMs: 2000 },
    ...opts.agent,
  });
  const nodeRef = (name: string) => ({ apiVersion: "v1", kind: "Node", name });
  return {
    root,
    exec,
    host,
    fake,
    logs,
    agent,
    controller,
    async publish(config) {
      for (const cm of nodeConfigObjects([config], {}, [], NS)) await fake.apply(cm);
    },
    async desire(id, extra = {}) {
      await fake.patch(nodeRef("n1"), { metadata: { annotations: { [ANNOTATION_DESIRED_CONFIG]: id, ...extra } } }, "merge");
    },
    node: (name = "n1") => fake.peek(nodeRef(name))!,
    annotations: (name = "n1") => fake.peek(nodeRef(name))?.metadata.annotations ?? {},
    hostFile: async (p) => readFile(path.join(root, p), "utf8").catch(() => undefined),
    async writeHostFile(p, content) {
      await mkdir(path.dirname(path.join(root, p)), { recursive: true });
      await writeFile(path.join(root, p), content);
    },
    async rebootableHost() {
      await mkdir(path.dirname(path.join(root, BOOT_ID)), { recursive: true });
      await writeFile(path.join(root, BOOT_ID), "boot-1\n");
      exec.on(["systemctl", "reboot"], () => {
        writeFileSync(path.join(root, BOOT_ID), "boot-2\n");
        return { exitCode: 0 };
      });
    },
    async cleanup() {
      controller.abort();
      await rm(root, { recursive: true, force: true });
    },
  };
}
