import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Command } from "commander";
import { FakeCluster } from "../support/fake-cluster.js";
import { silentLogger } from "../../operator/src/kube/log.js";
import { checkAgentOptions, registerAgentCommand, type AgentCommandOptions } from "../../operator/src/cli/agent.js";
import { agentHealth, parseListenAddress, serveHealth } from "../../operator/src/agent/health.js";
import { nodeConfigObjects } from "../../operator/src/controller/node-rollout.js";
import { ANNOTATION_DESIRED_CONFIG, ANNOTATION_STATE } from "../../operator/src/contract/index.js";
import { fileTask, makeConfig, nodeObject, NS } from "./helpers.js";

const base: AgentCommandOptions = { nodeName: "n1", hostRoot: "/host", hostMode: "nsenter", namespace: NS, healthAddr: ":18099", driftInterval: "300" };

describe("agent command", () => {
  it("checks its options, naming the flag", () => {
    expect(checkAgentOptions(base)).to.deep.equal({ nodeName: "n1", hostMode: "nsenter", driftIntervalMs: 300_000 });
    const { nodeName: _n, ...noName } = base;
    expect(() => checkAgentOptions(noName)).to.throw(/--node-name: required/);
    expect(() => checkAgentOptions({ ...base, nodeName: "Bad Name" })).to.throw(/--node-name: "Bad Name"/);
    expect(() => checkAgentOptions({ ...base, hostRoot: "host" })).to.throw(/--host-root/);
    expect(() => checkAgentOptions({ ...base, hostMode: "ssh" })).to.throw(/--host-mode: "ssh" must be one of nsenter, chroot, direct/);
    expect(() => checkAgentOptions({ ...base, driftInterval: "1" })).to.throw(/--drift-interval/);
  });

  it("runs the agent from the command line until stopped", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "olares-agent-cli-"));
    const fake = new FakeCluster();
    fake.seed(nodeObject("n1"));
    const config = makeConfig([fileTask("motd", "/etc/motd", "cli\n")]);
    for (const cm of nodeConfigObjects([config], {}, [], NS)) await fake.apply(cm);
    await fake.patch({ apiVersion: "v1", kind: "Node", name: "n1" }, { metadata: { annotations: { [ANNOTATION_DESIRED_CONFIG]: config.id } } }, "merge");
    const stop = new AbortController();
    const program = new Command().exitOverride();
    registerAgentCommand(program, { connect: () => fake, logger: silentLogger, stopSignal: () => stop.signal });
    const running = program.parseAsync(["node", "olares-operator", "agent", "--node-name", "n1", "--host-root", root, "--host-mode", "direct", "--health-addr", "127.0.0.1:0"]);
    const start = Date.now();
    while (fake.peek({ apiVersion: "v1", kind: "Node", name: "n1" })?.metadata.annotations?.[ANNOTATION_STATE] !== "Done") {
      if (Date.now() - start > 3000) throw new Error("agent did not finish");
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await readFile(path.join(root, "etc/motd"), "utf8")).to.equal("cli\n");
    stop.abort();
    await running;
    await rm(root, { recursive: true, force: true });
  });
});

describe("agent health endpoint", () => {
  it("answers /healthz always and /readyz only after a recent sync", async () => {
    let now = 1000;
    const health = agentHealth(100, () => now);
    const server = await serveHealth("127.0.0.1:0", health);
    const port = (server.address() as AddressInfo).port;
    const status = async (p: string) => (await fetch(`http://127.0.0.1:${port}${p}`)).status;
    try {
      expect(await status("/healthz")).to.equal(200);
      expect(await status("/readyz")).to.equal(503);
      health.markSynced();
      expect(await status("/readyz")).to.equal(200);
      now += 500;
      expect(await status("/readyz")).to.equal(503);
      expect(await status("/other")).to.equal(404);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(parseListenAddress(":18099")).to.deep.equal({ port: 18099 });
    expect(parseListenAddress("[::1]:9")).to.deep.equal({ host: "::1", port: 9 });
    expect(() => parseListenAddress("nope")).to.throw(/--health-addr/);
  });
});
