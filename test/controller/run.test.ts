import { expect } from "chai";
import { harness } from "./harness.js";
import { parseListenAddress, runOperator } from "../../operator/src/controller/run.js";
import { silentLogger } from "../../operator/src/kube/log.js";

describe("runOperator", function () {
  this.timeout(10_000);

  it("reconciles until SIGTERM-like abort, then shuts down cleanly", async () => {
    const h = harness();
    const stop = new AbortController();
    const running = runOperator(
      { metricsAddr: "127.0.0.1:0", leaderElect: true, namespace: "olares-operator", image: "img:test", identity: "pod-a" },
      { connect: () => h.cluster, logger: () => silentLogger(), stopSignal: () => stop.signal },
    );
    const deadline = Date.now() + 8000;
    while (!(h.cr().status as { phase?: string } | undefined)?.phase) {
      if (Date.now() > deadline) throw new Error("no status written");
      await new Promise((r) => setTimeout(r, 10));
    }
    stop.abort(new Error("received SIGTERM"));
    await running;
    const lease = h.cluster.peek({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", name: "olares-operator", namespace: "olares-operator" });
    expect((lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? "", "the lease is released on shutdown").to.not.equal("pod-a");
    expect((h.cr().status as { phase: string }).phase).to.be.oneOf(["Pending", "Installing"]);
  });

  it("rejects a bad --metrics-addr before connecting", async () => {
    expect(() => parseListenAddress("8080")).to.throw('--metrics-addr: "8080" must be [host]:port');
    expect(parseListenAddress(":8080")).to.deep.equal({ port: 8080 });
    expect(parseListenAddress("[::1]:9")).to.deep.equal({ host: "::1", port: 9 });
    let connected = false;
    await runOperator(
      { metricsAddr: "nope", leaderElect: false, namespace: "x", image: "i" },
      { connect: () => ((connected = true), harness().cluster), logger: () => silentLogger(), stopSignal: () => new AbortController().signal },
    ).then(
      () => expect.fail("should reject"),
      (err: Error) => expect(err.message).to.include("--metrics-addr"),
    );
    expect(connected).to.equal(false);
  });
});
