import { expect } from "chai";
import { FakeClock } from "../../operator/src/kube/clock.js";
import { ApiError } from "../../operator/src/kube/errors.js";
import { EventRecorder } from "../../operator/src/kube/events.js";
import { createMetrics } from "../../operator/src/kube/metrics.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { FakeCluster } from "../support/fake-cluster.js";

const cr: KubeObject = { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares", uid: "u-1", resourceVersion: "5" } };

describe("event recorder", () => {
  let clock: FakeClock;
  let fake: FakeCluster;
  beforeEach(() => {
    clock = new FakeClock();
    fake = new FakeCluster(() => new Date(clock.now()));
  });

  it("writes a core/v1 Event about the object (cluster-scoped → default namespace)", async () => {
    const rec = new EventRecorder({ client: fake, clock, instance: "operator-0" });
    await rec.emit(cr, "Normal", "StageReady", "Prerequisites are ready");
    expect(fake.events).to.have.length(1);
    const ev = fake.events[0]!;
    expect(ev.metadata.namespace).to.equal("default");
    expect(ev.metadata.name).to.match(/^olares\.[0-9a-f]+$/);
    expect(ev).to.deep.include({
      apiVersion: "v1",
      kind: "Event",
      type: "Normal",
      reason: "StageReady",
      message: "Prerequisites are ready",
      count: 1,
      reportingComponent: "olares-operator",
      reportingInstance: "operator-0",
      involvedObject: { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", name: "olares", uid: "u-1", resourceVersion: "5" },
    });
  });

  it("aggregates identical events into one Event with a count, patching at most once per interval", async () => {
    const rec = new EventRecorder({ client: fake, clock, patchIntervalMs: 30_000 });
    await rec.emit(cr, "Warning", "ApplyFailed", "conflict");
    for (let i = 0; i < 5; i++) {
      await clock.advance(1_000);
      rec.record(cr, "Warning", "ApplyFailed", "conflict");
    }
    await rec.flush();
    expect(fake.events).to.have.length(1);
    expect(fake.writes().map((w) => w.verb)).to.deep.equal(["createEvent", "patch"]);
    const patch = fake.writes()[1]!;
    expect(patch.body).to.deep.equal({ count: 6, lastTimestamp: new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z") });
    rec.record(cr, "Warning", "ApplyFailed", "another message");
    await rec.flush();
    expect(fake.events).to.have.length(2);
  });

  it("coalesces repeats through a timer when they come faster than the patch interval", async () => {
    const rec = new EventRecorder({ client: fake, clock, patchIntervalMs: 30_000 });
    await rec.emit(cr, "Normal", "Progressing", "waiting");
    for (let i = 0; i < 10; i++) rec.record(cr, "Normal", "Progressing", "waiting");
    await clock.advance(29_999);
    expect(fake.writes()).to.have.length(1);
    await clock.advance(1);
    await rec.flush();
    expect(fake.writes().map((w) => [w.verb, (w.body as { count?: number }).count])).to.deep.equal([["createEvent", 1], ["patch", 11]]);
  });

  it("re-creates an aggregated event the server already expired", async () => {
    const rec = new EventRecorder({ client: fake, clock, patchIntervalMs: 0 });
    await rec.emit(cr, "Normal", "R", "m");
    fake.injectFault({ verb: "patch" }, new ApiError(404, "NotFound", "gone"));
    await rec.emit(cr, "Normal", "R", "m");
    expect(fake.events.map((e) => e["count"])).to.deep.equal([1, 2]);
  });

  it("never rejects nor blocks when writing fails, and counts what it drops", async () => {
    const metrics = createMetrics();
    fake.injectFault({ verb: "createEvent" }, new ApiError(403, "Forbidden", "events is forbidden"), 10);
    const rec = new EventRecorder({ client: fake, clock, metrics, maxPending: 2 });
    await rec.emit(cr, "Warning", "A", "1");
    rec.record(cr, "Warning", "B", "2");
    rec.record(cr, "Warning", "C", "3");
    rec.record(cr, "Warning", "D", "4"); // backlog full
    await rec.flush();
    const dropped = (await metrics.eventsDropped.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(dropped).to.deep.include.members([["error", 3], ["backlog", 1]]);
  });

  it("keeps secret values out of event messages", async () => {
    const rec = new EventRecorder({ client: fake, clock });
    await rec.emit(cr, "Warning", "SecretInvalid", "rejected password=hunter2 for owner");
    expect(fake.events[0]!["message"]).to.not.include("hunter2");
  });
});
