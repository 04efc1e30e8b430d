import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { configMap, eventually, raw, sleep, startBed, type Bed } from "./helpers.js";

describe("simulator: fault injection", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ nodes: 2 });
  });
  afterEach(() => bed.sim.faults.reset());
  after(() => bed.sim.stop());

  it("fails a share of requests per verb with 500/503/429 and Retry-After", async () => {
    bed.sim.faults.setErrorRate("list", { rate: 1, codes: [429], retryAfterSeconds: 3 });
    const r = await raw(bed.sim, "GET", "/api/v1/namespaces/default/configmaps");
    expect(r.status).to.equal(429);
    expect(r.headers.get("retry-after")).to.equal("3");
    expect(r.json).to.include({ kind: "Status", reason: "TooManyRequests", code: 429 });
    expect((await raw(bed.sim, "GET", "/api/v1/namespaces/default")).status, "other verbs unaffected").to.equal(200);
    bed.sim.faults.setErrorRate("*", 0.5);
    const codes = await Promise.all(Array.from({ length: 60 }, () => raw(bed.sim, "GET", "/api/v1/namespaces/default").then((x) => x.status)));
    const failed = codes.filter((c) => c !== 200);
    expect(failed.length).to.be.within(10, 50);
    expect(new Set(failed)).to.satisfy((s: Set<number>) => [...s].every((c) => [500, 503, 429].includes(c)));
  });

  it("adds latency to every request", async () => {
    bed.sim.faults.latencyMs = 120;
    const t0 = Date.now();
    await raw(bed.sim, "GET", "/api/v1/namespaces/default");
    expect(Date.now() - t0).to.be.greaterThan(110);
  });

  it("forces the next N writes to 409 Conflict", async () => {
    bed.sim.faults.forceConflicts(2);
    const a = await raw(bed.sim, "POST", "/api/v1/namespaces/default/configmaps", configMap("fc"));
    const b = await raw(bed.sim, "POST", "/api/v1/namespaces/default/configmaps", configMap("fc"));
    const c = await raw(bed.sim, "POST", "/api/v1/namespaces/default/configmaps", configMap("fc"));
    expect([a.status, b.status, c.status]).to.deep.equal([409, 409, 201]);
    expect(a.json.reason).to.equal("Conflict");
  });

  it("drops every watch after N seconds", async () => {
    bed.sim.faults.dropWatchesAfterSeconds = 1;
    let ended = false;
    const t0 = Date.now();
    await new k8s.Watch(bed.kc).watch("/api/v1/namespaces/default/configmaps", { resourceVersion: String(bed.sim.store.resourceVersion) }, () => {}, () => (ended = true));
    await eventually(() => ended, 3000, "watch drop");
    expect(Date.now() - t0).to.be.within(900, 2500);
  });

  it("compacts history on demand so older resourceVersions get 410 Gone", async () => {
    const rv = String(bed.sim.store.resourceVersion);
    bed.sim.seed(configMap("after"));
    bed.sim.faults.compactHistory();
    const events: Array<{ type: string; obj: any }> = [];
    await new k8s.Watch(bed.kc).watch("/api/v1/namespaces/default/configmaps", { resourceVersion: rv }, (type, obj) => events.push({ type, obj }), () => {});
    await eventually(() => events.length > 0, 2000, "error event");
    expect(events[0].type).to.equal("ERROR");
    expect(events[0].obj.code).to.equal(410);
  });

  it("pauses node readiness: nodes go Unknown and new pods stay unready until resumed", async () => {
    bed.sim.faults.pauseNodeReadiness(true);
    await bed.sim.settle();
    const node = await bed.core.readNode({ name: "sim-node-1" });
    expect(node.status!.conditions!.find((c) => c.type === "Ready")!.status).to.equal("Unknown");
    bed.sim.seed({ apiVersion: "v1", kind: "Pod", metadata: { name: "waits", namespace: "default" }, spec: { containers: [{ name: "c", image: "c" }] } });
    await bed.sim.settle();
    await sleep(20);
    const podsRt = bed.sim.api.registry.get("", "pods")!;
    expect(bed.sim.api.get(podsRt, "default", "waits").status.phase).to.equal("Pending");
    bed.sim.faults.pauseNodeReadiness(false);
    await eventually(() => bed.sim.api.get(podsRt, "default", "waits").status.phase === "Running", 2000, "pod start after resume");
    await bed.sim.settle();
    expect((await bed.core.readNode({ name: "sim-node-1" })).status!.conditions!.find((c) => c.type === "Ready")!.status).to.equal("True");
  });

  it("the CLI flags start a standalone simulator and print the kubectl line", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["--import", "tsx", "test/sim/cli.ts", "--nodes", "2", "--error-rate-verb", "create=0", "--latency", "1"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      child.stdout.on("data", (c) => (out += c));
      const line = await eventually(() => out.match(/^KUBECONFIG=(\S+) kubectl get nodes$/m), 8000, "cli output");
      const r = await bed.kubectl(["--kubeconfig", line![1], "get", "nodes", "-o", "name"]);
      expect(r.stdout.trim().split("\n")).to.deep.equal(["node/sim-node-0", "node/sim-node-1"]);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
