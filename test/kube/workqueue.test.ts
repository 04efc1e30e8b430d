import { expect } from "chai";
import { FakeClock, flush } from "../../operator/src/kube/clock.js";
import { createMetrics } from "../../operator/src/kube/metrics.js";
import { TokenBucket } from "../../operator/src/kube/ratelimit.js";
import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  WorkQueue,
  defaultControllerRateLimiter,
} from "../../operator/src/kube/workqueue.js";

const next = async (q: WorkQueue): Promise<string> => {
  const item = await q.get();
  if (item.shutdown) throw new Error("queue shut down");
  return item.key;
};

describe("workqueue", () => {
  let clock: FakeClock;
  beforeEach(() => (clock = new FakeClock()));

  it("de-duplicates keys waiting to be processed, in FIFO order", async () => {
    const q = new WorkQueue({ clock });
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.len()).to.equal(2);
    expect(await next(q)).to.equal("a");
    expect(await next(q)).to.equal("b");
    expect(q.len()).to.equal(0);
  });

  it("parks a key re-added while in progress and hands it out again only after done()", async () => {
    const q = new WorkQueue({ clock });
    q.add("a");
    const key = await next(q);
    q.add("a");
    q.add("a");
    expect(q.len()).to.equal(0);
    let second: string | undefined;
    void next(q).then((k) => (second = k));
    await flush();
    expect(second).to.equal(undefined);
    q.done(key);
    await flush();
    expect(second).to.equal("a");
  });

  it("never runs one key on two workers at once", async () => {
    const q = new WorkQueue({ clock });
    const active = new Set<string>();
    let overlaps = 0;
    const runs: Record<string, number> = {};
    const workers = q.runWorkers(4, async (key) => {
      if (active.has(key)) overlaps++;
      active.add(key);
      runs[key] = (runs[key] ?? 0) + 1;
      if (runs[key] === 1) q.add(key); // an event arrives while reconciling
      await new Promise((r) => setTimeout(r, 2));
      active.delete(key);
    });
    for (let i = 0; i < 20; i++) q.add(["x", "y"][i % 2]!);
    await new Promise((r) => setTimeout(r, 40));
    await q.shutDown();
    await workers;
    expect(overlaps).to.equal(0);
    expect(runs).to.deep.equal({ x: 2, y: 2 });
  });

  it("backs off per key exponentially from 5 ms to the cap, and forget() resets", () => {
    const limiter = new ItemExponentialRateLimiter<string>(5, 5 * 60_000);
    const delays = Array.from({ length: 18 }, () => limiter.when("k"));
    expect(delays.slice(0, 6)).to.deep.equal([5, 10, 20, 40, 80, 160]);
    expect(delays.at(-1)).to.equal(300_000);
    expect(limiter.when("other")).to.equal(5);
    expect(limiter.numRequeues("k")).to.equal(18);
    limiter.forget("k");
    expect(limiter.numRequeues("k")).to.equal(0);
    expect(limiter.when("k")).to.equal(5);
  });

  it("limits retries overall with a token bucket (10 qps, burst 100) combined as the max", () => {
    const bucket = new BucketRateLimiter<string>(10, 100, clock);
    const delays = Array.from({ length: 102 }, (_, i) => bucket.when(`k${i}`));
    expect(delays.slice(0, 100).every((d) => d === 0)).to.equal(true);
    expect(delays.slice(100)).to.deep.equal([100, 200]);

    const combined = new MaxOfRateLimiter<string>(new ItemExponentialRateLimiter(5, 1000), new BucketRateLimiter(10, 1, clock));
    expect(combined.when("a")).to.equal(5); // bucket had its one token
    expect(combined.when("a")).to.equal(100); // bucket now the slower one
    expect(combined.numRequeues("a")).to.equal(2);
  });

  it("addRateLimited delays by the backoff; forget() starts over", async () => {
    const q = new WorkQueue({ clock, rateLimiter: defaultControllerRateLimiter<string>(clock) });
    q.addRateLimited("a");
    expect(q.len()).to.equal(0);
    await clock.advance(4);
    expect(q.len()).to.equal(0);
    await clock.advance(1);
    expect(q.len()).to.equal(1);
    q.done(await next(q));
    q.addRateLimited("a");
    await clock.advance(9);
    expect(q.len()).to.equal(0);
    await clock.advance(1);
    expect(q.len()).to.equal(1);
    expect(q.numRequeues("a")).to.equal(2);
    q.forget("a");
    expect(q.numRequeues("a")).to.equal(0);
  });

  it("addAfter keeps the earliest due time and de-duplicates", async () => {
    const q = new WorkQueue({ clock });
    q.addAfter("a", 1000);
    q.addAfter("a", 5000);
    q.addAfter("b", 500);
    expect(q.delayed()).to.equal(2);
    await clock.advance(500);
    expect(q.len()).to.equal(1);
    await clock.advance(500);
    expect(q.len()).to.equal(2);
    await clock.advance(10_000);
    expect(q.len()).to.equal(2);
    q.addAfter("c", 0);
    expect(q.len()).to.equal(3);
  });

  it("maps handler outcomes: success forgets, requeueAfterMs schedules, a throw backs off", async () => {
    const q = new WorkQueue({ clock });
    const seen: string[] = [];
    let failures = 0;
    const workers = q.runWorkers(1, async (key) => {
      seen.push(`${key}@${clock.now() - start}`);
      if (key === "fail" && failures++ < 2) throw new Error("boom");
      if (key === "poll" && seen.filter((s) => s.startsWith("poll")).length < 2) return { requeueAfterMs: 30_000 };
      return {};
    });
    const start = clock.now();
    q.add("fail");
    q.add("poll");
    await clock.advance(0);
    await clock.advance(5);
    await clock.advance(10);
    await clock.advance(30_000);
    expect(seen).to.deep.equal(["fail@0", "poll@0", "fail@5", "fail@15", "poll@30000"]);
    expect(q.numRequeues("fail")).to.equal(0);
    await q.shutDown();
    await workers;
  });

  it("shuts down: ignores new keys, drops delayed ones, drains queued and in-progress work", async () => {
    const q = new WorkQueue({ clock });
    q.add("a");
    q.add("b");
    q.addAfter("later", 1000);
    const key = await next(q);
    let drained = false;
    const shutdown = q.shutDown().then(() => (drained = true));
    q.add("c");
    expect(q.delayed()).to.equal(0);
    expect(await next(q)).to.equal("b");
    q.done("b");
    await flush();
    expect(drained).to.equal(false);
    q.done(key);
    await shutdown;
    expect(drained).to.equal(true);
    expect(await q.get()).to.deep.equal({ shutdown: true });
  });

  it("shutDown without drain drops queued keys and wakes idle workers", async () => {
    const q = new WorkQueue({ clock });
    const workers = q.runWorkers(2, async () => ({}));
    await flush();
    q.shutDown({ drain: false });
    await workers;
    const q2 = new WorkQueue({ clock });
    q2.add("x");
    await q2.shutDown({ drain: false });
    expect(q2.len()).to.equal(0);
  });

  it("reports depth, adds and retries as metrics", async () => {
    const metrics = createMetrics();
    const q = new WorkQueue({ clock, metrics, name: "installation" });
    q.add("a");
    q.add("b");
    q.addRateLimited("c");
    const text = await metrics.registry.metrics();
    expect(text).to.include('olares_operator_workqueue_depth{queue="installation"} 2');
    expect(text).to.include('olares_operator_workqueue_retries_total{queue="installation"} 1');
  });

  it("rejects bad settings naming the field", async () => {
    expect(() => new ItemExponentialRateLimiter(0)).to.throw(/baseMs: must be > 0/);
    expect(() => new TokenBucket(0, 1)).to.throw(/qps must be > 0/);
    const err = await new WorkQueue({ clock }).runWorkers(0, async () => ({})).catch((e: Error) => e);
    expect((err as Error).message).to.match(/workers: must be an integer >= 1/);
  });

  it("token bucket: burst at once, then one token per 1/qps, waiters served in order", async () => {
    const bucket = new TokenBucket(2, 3, clock);
    expect([bucket.tryAccept(), bucket.tryAccept(), bucket.tryAccept(), bucket.tryAccept()]).to.deep.equal([true, true, true, false]);
    await clock.advance(500);
    expect(bucket.tryAccept()).to.equal(true);
    const order: number[] = [];
    void bucket.wait().then(() => order.push(1));
    void bucket.wait().then(() => order.push(2));
    await clock.advance(499);
    expect(order).to.deep.equal([]);
    await clock.advance(1);
    expect(order).to.deep.equal([1]);
    await clock.advance(500);
    expect(order).to.deep.equal([1, 2]);
  });
});
