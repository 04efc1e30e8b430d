// Informer behaviour under a fake clock: watchdog, resync, reconnect backoff, bounded relists,
// resume from the last resourceVersion, and the CacheSet view — against a scripted source and the FakeCluster.
import { expect } from "chai";
import { FakeClock } from "../../operator/src/kube/clock.js";
import { ApiError } from "../../operator/src/kube/errors.js";
import { CacheSet } from "../../operator/src/kube/cache.js";
import { createInformer, type Informer, type InformerOptions } from "../../operator/src/kube/informer.js";
import { createMetrics } from "../../operator/src/kube/metrics.js";
import type { ListOptions, ListResult, ListerWatcher, WatchEvent, WatchHandle, WatchOptions } from "../../operator/src/kube/types.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { FakeCluster } from "../support/fake-cluster.js";

const cm = (name: string, rv: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns", resourceVersion: rv } });

/** A ListerWatcher whose answers the test scripts; records every call. */
class ScriptedSource implements ListerWatcher {
  readonly lists: ListOptions[] = [];
  readonly watches: WatchOptions[] = [];
  listAnswers: Array<ListResult | Error> = [];
  current?: { onEvent: (ev: WatchEvent) => void; onDone: (err?: unknown) => void; stopped: boolean };

  async listWithVersion(_apiVersion: string, _kind: string, opts: ListOptions = {}): Promise<ListResult> {
    this.lists.push(opts);
    const answer = this.listAnswers.shift() ?? { items: [], resourceVersion: "1" };
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async watch(_a: string, _k: string, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onDone: (err?: unknown) => void): Promise<WatchHandle> {
    this.watches.push(opts);
    const session = { onEvent, onDone, stopped: false };
    this.current = session;
    return { stop: () => void (session.stopped = true) };
  }

  send(ev: WatchEvent): void {
    this.current!.onEvent(ev);
  }

  end(err?: unknown): void {
    this.current!.onDone(err);
  }
}

describe("informer", () => {
  let clock: FakeClock;
  let informers: Informer[];
  beforeEach(() => {
    clock = new FakeClock();
    informers = [];
  });
  afterEach(async () => {
    await Promise.all(informers.map((i) => i.stop()));
  });

  const start = (source: ListerWatcher, extra: Partial<InformerOptions> = {}) => {
    const events: string[] = [];
    const informer = createInformer({
      source,
      apiVersion: "v1",
      kind: "ConfigMap",
      clock,
      resyncPeriodMs: 0,
      watchdogMs: 60_000,
      minRelistIntervalMs: 5_000,
      backoff: { initialMs: 1_000, capMs: 30_000, jitter: 0 },
      ...extra,
    });
    informer.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata.name}`),
      onUpdate: (o, n) => events.push(o.metadata.resourceVersion === n.metadata.resourceVersion ? `resync ${n.metadata.name}` : `update ${n.metadata.name}`),
      onDelete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    informers.push(informer);
    return { informer, events };
  };

  it("relists when the watch went silent for longer than the watchdog allows", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [{ items: [cm("a", "5")], resourceVersion: "10" }, { items: [cm("a", "5"), cm("b", "30")], resourceVersion: "40" }];
    const { informer, events } = start(source);
    await clock.advance(0);
    expect(informer.hasSynced()).to.equal(true);
    await clock.advance(30_000);
    source.send({ type: "BOOKMARK", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "", resourceVersion: "20" } } });
    await clock.advance(59_999); // a bookmark re-armed the watchdog
    expect(source.lists).to.have.length(1);
    await clock.advance(1);
    expect(source.lists).to.have.length(2);
    expect(source.watches.map((w) => w.resourceVersion)).to.deep.equal(["10", "40"]);
    expect(events).to.deep.equal(["add a", "add b"]);
    expect(informer.counters()).to.deep.equal({ relists: 2, watches: 2 });
  });

  it("resumes a failed watch from the last resourceVersion with growing, capped backoff", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [{ items: [], resourceVersion: "10" }];
    const metrics = createMetrics();
    start(source, { metrics });
    await clock.advance(0);
    source.send({ type: "ADDED", object: cm("a", "11") });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = source.watches.length;
      source.end(new ApiError(0, "ServiceUnavailable", "connection reset"));
      const t0 = clock.now();
      while (source.watches.length === before) await clock.advance(100);
      delays.push(clock.now() - t0);
    }
    expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(new Set(source.watches.slice(1).map((w) => w.resourceVersion))).to.deep.equal(new Set(["11"]));
    expect(source.lists).to.have.length(1);
    expect(source.watches.every((w) => w.allowWatchBookmarks === true)).to.equal(true);
    expect((await metrics.informerWatchRestarts.get()).values[0]?.value).to.equal(7);
  });

  it("re-opens a cleanly closed watch at once from the last resourceVersion", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [{ items: [], resourceVersion: "10" }];
    start(source);
    await clock.advance(0);
    source.send({ type: "MODIFIED", object: cm("a", "12") });
    source.end();
    await clock.advance(0);
    expect(source.watches.map((w) => w.resourceVersion)).to.deep.equal(["10", "12"]);
  });

  it("treats a watch closed within a second without events as a failure (no hot loop)", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [{ items: [], resourceVersion: "10" }];
    start(source);
    await clock.advance(0);
    source.end();
    await clock.advance(0);
    expect(source.watches).to.have.length(1);
    await clock.advance(1_000);
    expect(source.watches).to.have.length(2);
  });

  it("relists on 410 Gone but never more often than the minimum relist interval", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [
      { items: [cm("a", "1")], resourceVersion: "10" },
      { items: [cm("a", "1")], resourceVersion: "20" },
      { items: [], resourceVersion: "30" },
    ];
    const { events } = start(source);
    await clock.advance(0);
    source.end(new ApiError(410, "Expired", "too old resource version"));
    await clock.advance(4_999);
    expect(source.lists).to.have.length(1);
    await clock.advance(1);
    expect(source.lists).to.have.length(2);
    source.end(new ApiError(410, "Expired", "too old resource version"));
    await clock.advance(4_999);
    expect(source.lists).to.have.length(2);
    await clock.advance(1);
    expect(source.lists).to.have.length(3);
    expect(events).to.deep.equal(["add a", "delete a"]);
    expect(source.watches.map((w) => w.resourceVersion)).to.deep.equal(["10", "20", "30"]);
  });

  it("retries a failing list with backoff and reports synced only after a list succeeded", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [new ApiError(503, "ServiceUnavailable", "x"), new ApiError(503, "ServiceUnavailable", "x"), { items: [cm("a", "1")], resourceVersion: "5" }];
    const { informer } = start(source, { minRelistIntervalMs: 0 });
    await clock.advance(0);
    expect(informer.hasSynced()).to.equal(false);
    await clock.advance(1_000);
    expect(informer.hasSynced()).to.equal(false);
    await clock.advance(2_000);
    expect(informer.hasSynced()).to.equal(true);
    expect(source.lists).to.have.length(3);
  });

  it("re-delivers every cached object on resync", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [{ items: [cm("a", "1"), cm("b", "2")], resourceVersion: "5" }];
    const { events } = start(source, { resyncPeriodMs: 30_000, watchdogMs: 600_000 });
    await clock.advance(0);
    await clock.advance(30_000);
    await clock.advance(30_000);
    expect(events).to.deep.equal(["add a", "add b", "resync a", "resync b", "resync a", "resync b"]);
  });

  it("keeps running when a handler throws, and stops cleanly", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [{ items: [], resourceVersion: "5" }];
    const { informer, events } = start(source);
    informer.addHandler({ onAdd: () => { throw new Error("handler bug"); } });
    await clock.advance(0);
    source.send({ type: "ADDED", object: cm("a", "6") });
    expect(events).to.deep.equal(["add a"]);
    await informer.stop();
    expect(source.current!.stopped).to.equal(true);
    expect(clock.pending()).to.equal(0);
  });

  it("flags a stall for /healthz when even relists fail for long", async () => {
    const source = new ScriptedSource();
    source.listAnswers = [{ items: [], resourceVersion: "5" }, ...Array.from({ length: 50 }, () => new ApiError(0, "ServiceUnavailable", "down"))];
    const { informer } = start(source, { watchdogMs: 10_000, minRelistIntervalMs: 0 });
    await clock.advance(0);
    expect(informer.isStalled()).to.equal(false);
    await clock.advance(21_000);
    expect(informer.isStalled()).to.equal(true);
  });

  it("against the FakeCluster: a dropped watch resumes, a compacted history forces a relist that repairs the cache", async () => {
    const fake = new FakeCluster();
    await fake.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns" }, data: {} });
    const { informer, events } = start(fake, { minRelistIntervalMs: 0 });
    await informer.waitForSync();
    fake.dropWatches(new ApiError(0, "ServiceUnavailable", "connection reset"));
    await fake.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b", namespace: "ns" }, data: {} });
    await clock.advance(1_000); // backoff, then resume from the last RV: the missed ADDED is replayed
    expect(events).to.deep.equal(["add a", "add b"]);
    expect(informer.counters().relists).to.equal(1);

    fake.dropWatches(new ApiError(0, "ServiceUnavailable", "connection reset"));
    await fake.delete({ apiVersion: "v1", kind: "ConfigMap", name: "a", namespace: "ns" });
    fake.compact();
    await clock.advance(2_000);
    expect(informer.counters().relists).to.equal(2);
    expect(events).to.deep.equal(["add a", "add b", "delete a"]);
    expect(informer.list().map((o) => o.metadata.name)).to.deep.equal(["b"]);
  });

  it("follows the FakeCluster and serves a CacheSet as ObservedState", async () => {
    const fake = new FakeCluster();
    await fake.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns", labels: { app: "olares" } }, data: { k: "1" } });
    await fake.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other", namespace: "ns" }, data: {} });
    const { informer } = start(fake, { labelSelector: "app=olares" });
    const nodes = start(fake, { apiVersion: "v1", kind: "Node" }).informer;
    const cache = new CacheSet([informer, nodes]);
    await cache.waitForSync();
    await fake.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    await fake.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns", labels: { app: "olares" } }, data: { k: "2" } });
    await clock.advance(0);
    expect(cache.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "a" })?.["data"]).to.deep.equal({ k: "2" });
    expect(cache.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "other" })).to.equal(undefined);
    expect(cache.list("v1", "Node").map((n) => n.metadata.name)).to.deep.equal(["n1"]);
    expect(cache.hasSynced()).to.equal(true);
    expect(() => cache.list("apps/v1", "DaemonSet")).to.throw(/apps\/v1 DaemonSet is not watched/);
    // frozen: callers cannot corrupt the cache, and reads share the stored object without copying
    const stored = cache.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "a" })!;
    expect(() => (stored.metadata.name = "mutated")).to.throw(TypeError);
    expect(() => ((stored["data"] as Record<string, string>)["k"] = "3")).to.throw(TypeError);
    expect(cache.list("v1", "ConfigMap", "ns")[0]).to.equal(stored);
    expect(cache.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "a" })?.metadata.name).to.equal("a");
  });
});
