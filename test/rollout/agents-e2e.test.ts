// The rollout controller step and real in-process agents (temp-dir hosts) on one FakeCluster.
import { expect } from "chai";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FakeCluster } from "../support/fake-cluster.js";
import { RecordingExecutor } from "../support/recording-executor.js";
import { startAgentInProcess, type InProcessAgent } from "../support/in-process-agent.js";
import { nodeConfigObjects, rolloutNodeConfigs, type RolloutStatus } from "../../operator/src/controller/node-rollout.js";
import { ANNOTATION_STATE } from "../../operator/src/contract/index.js";
import { nodeConfigId, type HostTask } from "../../operator/src/contract/index.js";
import type { NodeConfig } from "../../operator/src/contract/index.js";
import { context, inFlight, node } from "./helpers.js";

const NODES = ["node-a", "node-b", "node-c"];

function configOf(tasks: HostTask[]): NodeConfig {
  return { id: nodeConfigId(tasks), group: "default", tasks };
}

interface Cluster {
  fake: FakeCluster;
  roots: Record<string, string>;
  agents: InProcessAgent[];
  maxInFlight: number;
  stop(): Promise<void>;
}

async function clusterWithAgents(prepare: (name: string, root: string, exec: RecordingExecutor) => Promise<void> = async () => undefined, tuning: { retryBaseMs?: number; retryMaxMs?: number } = {}): Promise<Cluster> {
  const fake = new FakeCluster();
  for (const n of NODES) fake.seed(node(n));
  const roots: Record<string, string> = {};
  const agents: InProcessAgent[] = [];
  const cluster: Cluster = {
    fake,
    roots,
    agents,
    maxInFlight: 0,
    async stop() {
      unsubscribe();
      await Promise.all(agents.map((a) => a.stop()));
      await Promise.all(Object.values(roots).map((r) => rm(r, { recursive: true, force: true })));
    },
  };
  const unsubscribe = fake.onChange((ev) => {
    if (ev.object.kind === "Node") cluster.maxInFlight = Math.max(cluster.maxInFlight, inFlight(fake).length);
  });
  for (const name of NODES) {
    const root = await mkdtemp(path.join(tmpdir(), `olares-e2e-${name}-`));
    roots[name] = root;
    const exec = new RecordingExecutor();
    await prepare(name, root, exec);
    agents.push(startAgentInProcess({ client: fake, nodeName: name, hostRoot: root, executor: exec, tuning: { resyncMs: 20, retryBaseMs: 60_000, ...tuning } }));
  }
  return cluster;
}

async function rollUntil(cluster: Cluster, configs: NodeConfig[], stop: (s: RolloutStatus) => boolean, nodesSpec = {}): Promise<RolloutStatus> {
  for (const cm of nodeConfigObjects(configs)) await cluster.fake.apply(cm);
  const ctx = context(cluster.fake, nodesSpec);
  const deadline = Date.now() + 5000;
  for (;;) {
    const status = await rolloutNodeConfigs(ctx, configs);
    if (stop(status)) return status;
    if (Date.now() > deadline) throw new Error(`rollout did not settle: ${status.message}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("rollout with real agents", () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("configures 3 nodes one at a time", async () => {
    cluster = await clusterWithAgents();
    const config = configOf([{ kind: "file", id: "motd", description: "motd", disruption: "none", path: "/etc/motd", content: "olares\n", mode: 0o644 }]);
    const status = await rollUntil(cluster, [config], (s) => s.done, { rollout: { maxUnavailable: 1 } });
    expect(status).to.include({ total: 3, updated: 3, degraded: 0 });
    expect(cluster.maxInFlight).to.equal(1);
    for (const n of NODES) expect(await readFile(path.join(cluster.roots[n]!, "etc/motd"), "utf8")).to.equal("olares\n");
  });

  it("a node retrying the config that failed on it stays Degraded between retries (no Working flap), then Done once the host is fixed", async () => {
    let broken = true;
    let attempts = 0;
    cluster = await clusterWithAgents(async (name, root, exec) => {
      await mkdir(path.join(root, "usr/bin"), { recursive: true });
      await writeFile(path.join(root, "usr/bin/apt-get"), "");
      const installed = new Set<string>();
      exec.on(["dpkg-query"], (argv) => ({ stdout: argv.slice(3).filter((n) => installed.has(n)).map((n) => `${n}\tii \t1.0\n`).join("") }));
      exec.on(["apt-get", "install"], (argv) => {
        if (name === "node-b" && broken) {
          attempts++;
          return { exitCode: 100, stderr: "E: broken mirror" };
        }
        argv.filter((a) => /^[a-z0-9][a-z0-9+.-]*$/.test(a) && a !== "install").forEach((n) => installed.add(n));
        return { exitCode: 0 };
      });
    }, { retryBaseMs: 20, retryMaxMs: 40 });
    const states: string[] = [];
    const unsubscribe = cluster.fake.onChange((ev) => {
      if (ev.object.kind !== "Node" || ev.object.metadata.name !== "node-b") return;
      const s = ev.object.metadata.annotations?.[ANNOTATION_STATE];
      if (s && states.at(-1) !== s) states.push(s);
    });
    try {
      const config = configOf([{ kind: "packages", id: "packages/base", description: "base", disruption: "none", names: ["curl"] }]);
      await rollUntil(cluster, [config], (s) => s.degraded > 0 && s.working === 0, { rollout: { maxUnavailable: 2 } });
      const failedAt = attempts;
      const deadline = Date.now() + 5000;
      while (attempts < failedAt + 3 && Date.now() < deadline) {
        await rolloutNodeConfigs(context(cluster.fake, { rollout: { maxUnavailable: 2 } }), [config]);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(attempts, "the agent retried").to.be.at.least(failedAt + 3);
      const afterFailure = states.slice(states.indexOf("Degraded"));
      expect(afterFailure, "retries keep the node Degraded").to.deep.equal(["Degraded"]);
      // with node-b Degraded the whole time, node-c (a healthy node) was never handed the failing config
      expect(cluster.fake.peek({ apiVersion: "v1", kind: "Node", name: "node-c" })!.metadata.annotations?.[ANNOTATION_STATE]).to.equal(undefined);
      broken = false;
      const done = await rollUntil(cluster, [config], (s) => s.done, { rollout: { maxUnavailable: 2 } });
      expect(done).to.include({ updated: 3, degraded: 0 });
      expect(states.slice(states.indexOf("Degraded")), "a successful retry goes straight to Done").to.deep.equal(["Degraded", "Done"]);
    } finally {
      unsubscribe();
    }
  });

  it("stops at a node whose config fails and names it", async () => {
    cluster = await clusterWithAgents(async (name, root, exec) => {
      await mkdir(path.join(root, "usr/bin"), { recursive: true });
      await writeFile(path.join(root, "usr/bin/apt-get"), "");
      // A tiny dpkg: apt-get install records names, dpkg-query reports them installed.
      const installed = new Set<string>();
      exec.on(["dpkg-query"], (argv) => ({ stdout: argv.slice(3).filter((n) => installed.has(n)).map((n) => `${n}\tii \t1.0\n`).join("") }));
      exec.on(["apt-get", "install"], (argv) => {
        if (name === "node-b") return { exitCode: 100, stderr: "E: broken mirror" };
        argv.filter((a) => /^[a-z0-9][a-z0-9+.-]*$/.test(a) && a !== "install").forEach((n) => installed.add(n));
        return { exitCode: 0 };
      });
    });
    const config = configOf([{ kind: "packages", id: "packages/base", description: "base", disruption: "none", names: ["curl"] }]);
    const status = await rollUntil(cluster, [config], (s) => s.degraded > 0 && s.working === 0);
    expect(status.degradedNodes).to.have.length(1);
    expect(status.degradedNodes[0]!.name).to.equal("node-b");
    expect(status.degradedNodes[0]!.reason).to.match(/^Task packages\/base failed: .*broken mirror/);
    // node-c was never started on the bad config.
    await new Promise((r) => setTimeout(r, 50));
    await rolloutNodeConfigs(context(cluster.fake, {}), [config]);
    expect(cluster.fake.peek({ apiVersion: "v1", kind: "Node", name: "node-c" })!.metadata.annotations?.[ANNOTATION_STATE]).to.equal(undefined);
    expect(status.done).to.equal(false);
    expect(cluster.maxInFlight).to.equal(1);
  });
});
