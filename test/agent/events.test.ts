// The agent's Kubernetes Events on its Node: applied, degraded, reboot requested, drift, cleanup; an
// Event that cannot be written never breaks a sync or the loop.
import { expect } from "chai";
import { agentRig, fileTask, makeConfig, NS, type AgentRig } from "./helpers.js";
import { NODE_EVENT, runAgent } from "../../operator/src/agent/agent.js";
import { ANNOTATION_ALLOW_REBOOT, ANNOTATION_DRIFT_POLICY, ANNOTATION_STATE, CLEANUP_CONFIG } from "../../operator/src/contract/index.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const MOTD = "/etc/motd";

interface SeenEvent {
  type: string;
  reason: string;
  message: string;
}

function seen(rig: AgentRig): SeenEvent[] {
  return rig.fake.events.map((e) => ({ type: String(e["type"]), reason: String(e["reason"]), message: String(e["message"]) }));
}

describe("node agent events", () => {
  let rig: AgentRig;
  afterEach(async () => rig?.cleanup());

  it("records config applied on the Node itself (uid included), in the default namespace", async () => {
    rig = await agentRig();
    const config = makeConfig([fileTask("motd", MOTD, "managed\n")]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("applied");
    await rig.agent.flushEvents();
    expect(seen(rig)).to.deep.equal([{ type: "Normal", reason: NODE_EVENT.applied, message: `Applied node config ${config.id} (changed: motd)` }]);
    const ev = rig.fake.events[0] as KubeObject;
    expect(ev.metadata.namespace).to.equal("default");
    expect(ev["involvedObject"]).to.include({ apiVersion: "v1", kind: "Node", name: "n1", uid: rig.node().metadata.uid });
    expect(ev["source"]).to.deep.equal({ component: "olares-node-agent" });

    // An in-sync pass records nothing.
    expect(await rig.agent.sync()).to.equal("in-sync");
    await rig.agent.flushEvents();
    expect(rig.fake.events).to.have.length(1);
  });

  it("records degraded with the reason", async () => {
    rig = await agentRig();
    await rig.desire("0123456789");
    expect(await rig.agent.sync()).to.equal("degraded");
    await rig.agent.flushEvents();
    expect(seen(rig)).to.deep.equal([
      { type: "Warning", reason: NODE_EVENT.degraded, message: `ConfigMissing: configmap ${NS}/olares-node-config-0123456789 not found` },
    ]);
  });

  it("records RebootRequired as degraded, then the reboot request, then the applied config", async () => {
    rig = await agentRig();
    await rig.rebootableHost();
    const config = makeConfig([fileTask("driver", "/etc/modprobe.d/olares.conf", "options nvidia x=1\n", "reboot")]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("degraded");
    await rig.desire(config.id, { [ANNOTATION_ALLOW_REBOOT]: "true" });
    expect(await rig.agent.sync()).to.equal("rebooting");
    expect(await rig.agent.sync()).to.equal("applied");
    await rig.agent.flushEvents();
    const events = seen(rig);
    expect(events.map((e) => `${e.type} ${e.reason}`)).to.deep.equal([
      `Warning ${NODE_EVENT.degraded}`,
      `Normal ${NODE_EVENT.rebootRequested}`,
      `Normal ${NODE_EVENT.applied}`,
    ]);
    expect(events[0]!.message).to.match(/^RebootRequired: config .* needs a reboot for driver/);
    expect(events[1]!.message).to.equal(`Rebooting to finish config ${config.id} (driver)`);
  });

  it("records drift once per finding, and the heal", async () => {
    rig = await agentRig();
    const config = makeConfig([fileTask("motd", MOTD, "managed\n")]);
    await rig.publish(config);
    await rig.desire(config.id);
    await rig.agent.sync();
    await rig.writeHostFile(MOTD, "edited by hand\n");
    rig.agent.checkNow();
    expect(await rig.agent.sync()).to.equal("drift-reported");
    rig.agent.checkNow();
    expect(await rig.agent.sync()).to.equal("drift-reported");
    await rig.desire(config.id, { [ANNOTATION_DRIFT_POLICY]: "Heal" });
    rig.agent.checkNow();
    expect(await rig.agent.sync()).to.equal("healed");
    await rig.agent.flushEvents();
    expect(seen(rig).slice(1)).to.deep.equal([
      { type: "Warning", reason: NODE_EVENT.driftDetected, message: "/etc/motd (motd): content changed (driftPolicy Report: not healed)" },
      { type: "Warning", reason: NODE_EVENT.driftDetected, message: "/etc/motd (motd): content changed (driftPolicy Heal: healing)" },
      { type: "Normal", reason: NODE_EVENT.driftHealed, message: "Healed drift: motd" },
    ]);
  });

  it("records cleanup done", async () => {
    rig = await agentRig();
    const config = makeConfig([fileTask("motd", MOTD, "managed\n")]);
    await rig.publish(config);
    await rig.desire(config.id);
    await rig.agent.sync();
    await rig.desire(CLEANUP_CONFIG);
    expect(await rig.agent.sync()).to.equal("cleaned");
    await rig.agent.flushEvents();
    expect(seen(rig).at(-1)).to.deep.equal({ type: "Normal", reason: NODE_EVENT.cleanupDone, message: `Undid host configuration of node config ${config.id}` });
  });

  it("keeps syncing and reporting when every Event write fails", async () => {
    rig = await agentRig({ agent: { resyncMs: 60_000 } });
    let attempts = 0;
    rig.fake.createEvent = async () => {
      attempts++;
      throw new Error("events are forbidden");
    };
    const config = makeConfig([fileTask("motd", MOTD, "from the loop\n")]);
    await rig.publish(config);
    await rig.desire("0123456789");
    expect(await rig.agent.sync()).to.equal("degraded");
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("applied");
    await rig.agent.flushEvents();
    expect(attempts).to.equal(2);

    // The loop too: a failing Event write is no failed sync.
    const outcomes: string[] = [];
    const loop = runAgent({
      client: rig.fake,
      host: rig.host,
      nodeName: "n1",
      namespace: NS,
      log: { info: () => undefined, warn: () => undefined, error: (m) => outcomes.push(`error ${m}`) },
      signal: rig.controller.signal,
      onSync: (o) => outcomes.push(o),
    });
    await rig.writeHostFile(MOTD, "edited\n");
    await rig.desire(CLEANUP_CONFIG);
    const start = Date.now();
    while (rig.annotations()[ANNOTATION_STATE] !== "Done" || !outcomes.includes("cleaned")) {
      if (Date.now() - start > 3000) throw new Error(`cleanup not reported: ${outcomes.join(", ")}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    rig.controller.abort();
    await loop;
    expect(outcomes.filter((o) => o.startsWith("error"))).to.deep.equal([]);
    expect(attempts).to.be.greaterThan(2);
  });
});
