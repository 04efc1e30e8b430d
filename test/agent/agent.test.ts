import { expect } from "chai";
import { existsSync } from "node:fs";
import path from "node:path";
import { agentRig, fileTask, makeConfig, nodeObject, NS, type AgentRig } from "./helpers.js";
import { runAgent } from "../../operator/src/agent/agent.js";
import {
  ANNOTATION_ALLOW_REBOOT,
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_DRIFT_POLICY,
  ANNOTATION_REASON,
  ANNOTATION_STATE,
  ANNOTATION_WAS_UNSCHEDULABLE,
  CLEANUP_CONFIG,
} from "../../operator/src/contract/index.js";
import { STATE_FILE } from "../../operator/src/agent/agent-state.js";
import type { HostTask } from "../../operator/src/contract/index.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const MOTD = "/etc/motd";
const ISSUE = "/etc/issue.net";

function failingPackages(): HostTask {
  return { kind: "packages", id: "packages/base", description: "base packages", disruption: "none", names: ["curl"] };
}

function pod(name: string, namespace: string, nodeName: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: `u-${name}`, controller: true }] },
    spec: { nodeName },
  };
}

describe("node agent", () => {
  let rig: AgentRig;
  afterEach(async () => rig?.cleanup());

  it("applies the desired config and reports current-config, Done and an empty reason", async () => {
    rig = await agentRig();
    const config = makeConfig([fileTask("motd", MOTD, "welcome to olares\n")]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("applied");
    expect(await rig.hostFile(MOTD)).to.equal("welcome to olares\n");
    expect(rig.annotations()).to.include({ [ANNOTATION_CURRENT_CONFIG]: config.id, [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "" });
    expect(JSON.parse((await rig.hostFile(STATE_FILE))!).applied.id).to.equal(config.id);

    rig.fake.resetRequests();
    expect(await rig.agent.sync()).to.equal("in-sync");
    expect(rig.fake.changingWrites()).to.deep.equal([]);
  });

  it("goes Degraded naming the failed task and rolls back what the config already changed", async () => {
    rig = await agentRig();
    await rig.writeHostFile("/usr/bin/apt-get", "");
    await rig.writeHostFile(MOTD, "original motd\n");
    rig.exec.on(["apt-get", "install"], { exitCode: 100, stderr: "E: Unable to locate package curl" });
    const config = makeConfig([fileTask("motd", MOTD, "managed\n"), failingPackages()]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("degraded");
    const a = rig.annotations();
    expect(a[ANNOTATION_STATE]).to.equal("Degraded");
    expect(a[ANNOTATION_REASON]).to.match(/^Task packages\/base failed: .*Unable to locate package curl/);
    expect(a[ANNOTATION_REASON]).to.match(/rolled back: motd/);
    expect(a[ANNOTATION_CURRENT_CONFIG]).to.equal(undefined);
    expect(await rig.hostFile(MOTD)).to.equal("original motd\n");
  });

  it("reverting to the config it still runs after a failed attempt → re-verifies the host and reports Done", async () => {
    rig = await agentRig({ agent: { retryBaseMs: 60_000, driftIntervalMs: 60_000 } });
    await rig.writeHostFile("/usr/bin/apt-get", "");
    const good = makeConfig([fileTask("motd", MOTD, "managed\n")]);
    await rig.publish(good);
    await rig.desire(good.id);
    expect(await rig.agent.sync()).to.equal("applied");

    rig.exec.on(["apt-get", "install"], { exitCode: 100, stderr: "E: Unable to locate package curl" });
    const bad = makeConfig([fileTask("motd", MOTD, "managed\n"), failingPackages()]);
    await rig.publish(bad);
    await rig.desire(bad.id);
    expect(await rig.agent.sync()).to.equal("degraded");
    expect(rig.annotations()).to.include({ [ANNOTATION_STATE]: "Degraded", [ANNOTATION_CURRENT_CONFIG]: good.id });

    await rig.desire(good.id);
    expect(await rig.agent.sync()).to.equal("in-sync");
    expect(rig.annotations()).to.include({ [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "", [ANNOTATION_CURRENT_CONFIG]: good.id });
    rig.fake.resetRequests();
    expect(await rig.agent.sync()).to.equal("in-sync");
    expect(rig.fake.changingWrites()).to.deep.equal([]);
  });

  it("reverting after a failed attempt that left the host drifted → reports the drift, not Done", async () => {
    rig = await agentRig({ agent: { retryBaseMs: 60_000, driftIntervalMs: 60_000 } });
    const good = makeConfig([fileTask("motd", MOTD, "managed\n")]);
    await rig.publish(good);
    await rig.desire(good.id);
    expect(await rig.agent.sync()).to.equal("applied");
    await rig.desire("0123456789");
    expect(await rig.agent.sync()).to.equal("degraded");
    await rig.writeHostFile(MOTD, "edited by hand\n");

    await rig.desire(good.id);
    expect(await rig.agent.sync()).to.equal("drift-reported");
    expect(rig.annotations()[ANNOTATION_STATE]).to.equal("Degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/^Drift: \/etc\/motd \(motd\)/);
  });

  it("backs off retries of a failed config, but tries a new desired config at once", async () => {
    rig = await agentRig({ agent: { retryBaseMs: 60_000 } });
    await rig.desire("0123456789");
    expect(await rig.agent.sync()).to.equal("degraded");
    rig.fake.resetRequests();
    expect(await rig.agent.sync()).to.equal("waiting");
    expect(rig.fake.changingWrites()).to.deep.equal([]);
    const config = makeConfig([fileTask("motd", MOTD, "fixed\n")]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("applied");
  });

  it("ignores a tampered state file instead of undoing what it claims", async () => {
    rig = await agentRig();
    await rig.writeHostFile(MOTD, "keep me\n");
    const bogus = { id: "0000000000", group: "default", tasks: [fileTask("motd", MOTD, "x\n")] };
    await rig.writeHostFile(STATE_FILE, JSON.stringify({ version: 1, applied: bogus }));
    await rig.desire(CLEANUP_CONFIG);
    expect(await rig.agent.sync()).to.equal("cleaned");
    expect(await rig.hostFile(MOTD)).to.equal("keep me\n");
  });

  it("rejects a hostile config before running anything, naming the field", async () => {
    rig = await agentRig();
    const hostile = makeConfig([{ kind: "resolvConf", id: "dns", description: "dns", disruption: "none", nameservers: ["1.1.1.1; rm -rf /"] } as HostTask]);
    await rig.publish(hostile);
    await rig.desire(hostile.id);
    expect(await rig.agent.sync()).to.equal("degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/^ConfigInvalid: dns\.nameservers\[0\]: "1\.1\.1\.1; rm -rf \/" must be an IPv4 or IPv6 address/);
    expect(rig.exec.calls).to.deep.equal([]);
    expect(existsSync(path.join(rig.root, "etc/resolv.conf"))).to.equal(false);
  });

  it("reports a missing or tampered ConfigMap as Degraded", async () => {
    rig = await agentRig();
    await rig.desire("0123456789");
    expect(await rig.agent.sync()).to.equal("degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/^ConfigMissing: configmap olares-system\/olares-node-config-0123456789 not found/);

    const config = makeConfig([fileTask("motd", MOTD, "a\n")]);
    const tampered = { ...config, tasks: [fileTask("motd", MOTD, "b\n")] };
    await rig.publish(tampered);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/content hash .* does not match config id/);
  });

  it("reports drift naming the file, clears it when the file is restored, and heals with driftPolicy Heal", async () => {
    rig = await agentRig();
    const config = makeConfig([fileTask("motd", MOTD, "managed\n")]);
    await rig.publish(config);
    await rig.desire(config.id);
    await rig.agent.sync();

    await rig.writeHostFile(MOTD, "edited by hand\n");
    rig.agent.checkNow();
    expect(await rig.agent.sync()).to.equal("drift-reported");
    expect(rig.annotations()[ANNOTATION_STATE]).to.equal("Degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/^Drift: \/etc\/motd \(motd\)/);

    await rig.writeHostFile(MOTD, "managed\n");
    expect(await rig.agent.sync()).to.equal("in-sync");
    expect(rig.annotations()).to.include({ [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "" });

    await rig.writeHostFile(MOTD, "edited again\n");
    await rig.desire(config.id, { [ANNOTATION_DRIFT_POLICY]: "Heal" });
    rig.agent.checkNow();
    expect(await rig.agent.sync()).to.equal("healed");
    expect(await rig.hostFile(MOTD)).to.equal("managed\n");
    expect(rig.annotations()).to.include({ [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "" });
  });

  it("undoes tasks a new config dropped, back to the original host state", async () => {
    rig = await agentRig();
    await rig.writeHostFile(ISSUE, "distro banner\n");
    const first = makeConfig([fileTask("motd", MOTD, "managed\n"), fileTask("issue", ISSUE, "olares banner\n")]);
    const second = makeConfig([fileTask("motd", MOTD, "managed v2\n")]);
    for (const c of [first, second]) await rig.publish(c);
    await rig.desire(first.id);
    expect(await rig.agent.sync()).to.equal("applied");
    expect(await rig.hostFile(ISSUE)).to.equal("olares banner\n");
    await rig.desire(second.id);
    expect(await rig.agent.sync()).to.equal("applied");
    expect(await rig.hostFile(ISSUE)).to.equal("distro banner\n");
    expect(await rig.hostFile(MOTD)).to.equal("managed v2\n");

    // A task renamed but owning the same file is not undone.
    const renamed = makeConfig([fileTask("motd-renamed", MOTD, "managed v2\n")]);
    await rig.publish(renamed);
    await rig.desire(renamed.id);
    expect(await rig.agent.sync()).to.equal("applied");
    expect(await rig.hostFile(MOTD)).to.equal("managed v2\n");
  });

  it("goes Degraded when undoing a dropped task fails, naming the task", async () => {
    rig = await agentRig();
    await rig.writeHostFile("/usr/bin/apt-get", "");
    let installed = false;
    rig.exec.on(["dpkg-query"], () => (installed ? { stdout: "curl\tii \t1.0\n" } : { exitCode: 1 }));
    rig.exec.on(["apt-get", "install"], () => {
      installed = true;
      return { exitCode: 0 };
    });
    rig.exec.on(["apt-get", "remove"], { exitCode: 100, stderr: "E: dpkg was interrupted" });
    const first = makeConfig([failingPackages()]);
    const second = makeConfig([fileTask("motd", MOTD, "managed\n")]);
    for (const c of [first, second]) await rig.publish(c);
    await rig.desire(first.id);
    expect(await rig.agent.sync()).to.equal("applied");
    await rig.desire(second.id);
    expect(await rig.agent.sync()).to.equal("degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/^Undo of tasks removed from the config failed: task packages\/base: .*dpkg was interrupted/);
  });

  it("undoes the applied config on desired-config=cleanup, even after its ConfigMap is gone", async () => {
    rig = await agentRig();
    await rig.writeHostFile(ISSUE, "distro banner\n");
    const config = makeConfig([fileTask("motd", MOTD, "managed\n"), fileTask("issue", ISSUE, "olares banner\n")]);
    await rig.publish(config);
    await rig.desire(config.id);
    await rig.agent.sync();
    await rig.fake.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: NS, name: `olares-node-config-${config.id}` });

    await rig.desire(CLEANUP_CONFIG);
    expect(await rig.agent.sync()).to.equal("cleaned");
    expect(await rig.hostFile(MOTD)).to.equal(undefined);
    expect(await rig.hostFile(ISSUE)).to.equal("distro banner\n");
    expect(rig.annotations()).to.include({ [ANNOTATION_CURRENT_CONFIG]: CLEANUP_CONFIG, [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "" });
  });

  it("cordons and drains for a drain-level change and uncordons the node it cordoned", async () => {
    rig = await agentRig({ nodes: [nodeObject("n1"), nodeObject("n2")] });
    rig.fake.seed(pod("web", "apps", "n1"));
    rig.fake.seed(pod("agent", NS, "n1"));
    rig.fake.seed(pod("other", "apps", "n2"));
    const config = makeConfig([fileTask("motd", MOTD, "managed\n", "drain")]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("applied");
    const patches = rig.fake.requests.filter((r) => r.verb === "patch" && r.ref.kind === "Node").map((r) => JSON.stringify(r.body));
    expect(patches.some((p) => p.includes('"unschedulable":true') && p.includes('"olares.com/was-unschedulable":"false"'))).to.equal(true);
    expect(rig.fake.requests.filter((r) => r.verb === "evict").map((r) => `${r.ref.namespace}/${r.ref.name}`)).to.deep.equal(["apps/web"]);
    expect(rig.node()["spec"]).to.deep.equal({});
    expect(rig.annotations()).to.not.have.property(ANNOTATION_WAS_UNSCHEDULABLE);
    expect(rig.annotations()[ANNOTATION_STATE]).to.equal("Done");
  });

  it("leaves an already-cordoned node cordoned after a drain-level change", async () => {
    rig = await agentRig({ nodes: [nodeObject("n1", { unschedulable: true }), nodeObject("n2")] });
    const config = makeConfig([fileTask("motd", MOTD, "managed\n", "reboot")]);
    await rig.publish(config);
    await rig.desire(config.id, { [ANNOTATION_ALLOW_REBOOT]: "true" });
    await rig.rebootableHost();
    expect(await rig.agent.sync()).to.equal("rebooting");
    expect(rig.annotations()[ANNOTATION_WAS_UNSCHEDULABLE]).to.equal("true");
    expect(await rig.agent.sync()).to.equal("applied");
    expect(rig.node()["spec"]).to.deep.equal({ unschedulable: true });
    expect(rig.annotations()).to.not.have.property(ANNOTATION_WAS_UNSCHEDULABLE);
  });

  it("never cordons or drains the only node of a cluster", async () => {
    rig = await agentRig();
    rig.fake.seed(pod("web", "apps", "n1"));
    const config = makeConfig([fileTask("motd", MOTD, "managed\n", "drain")]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("applied");
    expect(rig.fake.requests.filter((r) => r.verb === "evict")).to.deep.equal([]);
    expect(rig.fake.requests.some((r) => r.verb === "patch" && JSON.stringify(r.body).includes("unschedulable"))).to.equal(false);
  });

  it("holds a reboot-level change as RebootRequired until reboots are allowed, then reboots through the host and finishes after boot", async () => {
    rig = await agentRig();
    await rig.rebootableHost();
    const config = makeConfig([fileTask("driver", "/etc/modprobe.d/olares.conf", "options nvidia x=1\n", "reboot")]);
    await rig.publish(config);
    await rig.desire(config.id);
    expect(await rig.agent.sync()).to.equal("degraded");
    expect(rig.annotations()[ANNOTATION_STATE]).to.equal("Degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/^RebootRequired: config .* needs a reboot for driver; set spec\.nodes\.rollout\.allowReboot=true/);
    expect(rig.exec.commands()).to.not.include("systemctl reboot");

    await rig.desire(config.id, { [ANNOTATION_ALLOW_REBOOT]: "true" });
    expect(await rig.agent.sync()).to.equal("rebooting");
    expect(rig.exec.commands()).to.include("systemctl reboot");
    expect(rig.annotations()[ANNOTATION_STATE]).to.equal("Working");
    expect(JSON.parse((await rig.hostFile(STATE_FILE))!).reboot).to.include({ configId: config.id, bootId: "boot-1" });

    expect(await rig.agent.sync()).to.equal("applied");
    expect(rig.annotations()).to.include({ [ANNOTATION_CURRENT_CONFIG]: config.id, [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "" });
    expect(JSON.parse((await rig.hostFile(STATE_FILE))!).reboot).to.equal(undefined);
  });

  it("reports a requested reboot that never happens, and finishes after a manual reboot", async () => {
    rig = await agentRig({ agent: { rebootTimeoutMs: 0 } });
    await rig.writeHostFile("/proc/sys/kernel/random/boot_id", "boot-1\n");
    const config = makeConfig([fileTask("driver", "/etc/modprobe.d/olares.conf", "x\n", "reboot")]);
    await rig.publish(config);
    await rig.desire(config.id, { [ANNOTATION_ALLOW_REBOOT]: "true" });
    expect(await rig.agent.sync()).to.equal("rebooting");
    await new Promise((r) => setTimeout(r, 5));
    expect(await rig.agent.sync()).to.equal("degraded");
    expect(rig.annotations()[ANNOTATION_REASON]).to.match(/^RebootTimeout: reboot requested at .* did not happen; reboot the node to finish/);
    // A manual reboot later still finishes the handshake.
    await rig.writeHostFile("/proc/sys/kernel/random/boot_id", "boot-manual\n");
    expect(await rig.agent.sync()).to.equal("applied");
    expect(rig.annotations()).to.include({ [ANNOTATION_CURRENT_CONFIG]: config.id, [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "" });
  });

  it("runs as a loop on node watch events until aborted", async () => {
    rig = await agentRig({ agent: { resyncMs: 60_000 } });
    const config = makeConfig([fileTask("motd", MOTD, "from the loop\n")]);
    await rig.publish(config);
    const outcomes: string[] = [];
    const loop = runAgent({
      client: rig.fake,
      host: rig.host,
      nodeName: "n1",
      namespace: NS,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      signal: rig.controller.signal,
      onSync: (o) => outcomes.push(o),
    });
    await waitFor(() => outcomes.includes("idle"));
    await rig.desire(config.id);
    await waitFor(() => rig.annotations()[ANNOTATION_STATE] === "Done");
    expect(await rig.hostFile(MOTD)).to.equal("from the loop\n");
    rig.controller.abort();
    await loop;
    expect(outcomes).to.include("applied");
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
