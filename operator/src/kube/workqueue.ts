// Rate-limited work queue (client-go util/workqueue): keys are de-duplicated while waiting; a key being
// processed is never handed out again until done() (re-adds meanwhile are parked and queued after);
// delayed adds keep the earliest due time; retries back off per key (exponential) combined with a
// global token bucket; shutDown() drains.
import { realClock, type Clock, type TimerHandle } from "./clock.js";
import { silentLogger } from "./log.js";
import { withMeta, type Logger } from "../contract/index.js";
import type { OperatorMetrics } from "./metrics.js";
import { TokenBucket } from "./ratelimit.js";

export interface RateLimiter<K> {
  /** Delay before `key` may be retried; counts a failure. */
  when(key: K): number;
  forget(key: K): void;
  numRequeues(key: K): number;
}

/** Per-key exponential backoff: base · 2^failures, capped (client-go ItemExponentialFailureRateLimiter). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();
  constructor(
    readonly baseMs = 5,
    readonly maxMs = 5 * 60_000,
  ) {
    if (!(baseMs > 0)) throw new Error(`workqueue backoff baseMs: must be > 0 (got ${baseMs})`);
    if (!(maxMs >= baseMs)) throw new Error(`workqueue backoff maxMs: must be >= baseMs (got ${maxMs})`);
  }
  when(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }
  forget(key: K): void {
    this.failures.delete(key);
  }
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

/** Overall retry rate, independent of keys (client-go BucketRateLimiter). */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private readonly bucket: TokenBucket;
  constructor(qps = 10, burst = 100, clock: Clock = realClock) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }
  when(_key: K): number {
    return this.bucket.reserve();
  }
  forget(_key: K): void {
    // the bucket keeps no per-key state
  }
  numRequeues(_key: K): number {
    return 0;
  }
}

/** The slowest of several limiters (client-go MaxOfRateLimiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }
  when(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.when(key)));
  }
  forget(key: K): void {
    this.limiters.forEach((l) => l.forget(key));
  }
  numRequeues(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.numRequeues(key)));
  }
}

/** controller-runtime's default: 5 ms → 5 min per key (we cap lower than its 1000 s), 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter<K>(clock: Clock = realClock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialRateLimiter<K>(5, 5 * 60_000), new BucketRateLimiter<K>(10, 100, clock));
}

export interface ReconcileResult {
  /** Retry with rate limiting (like an error, without logging one). */
  requeue?: boolean;
  /** Look again after this long (periodic check); resets the key's backoff. */
  requeueAfterMs?: number;
}

export interface WorkQueueOptions<K> {
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter<K>;
  metrics?: OperatorMetrics;
  logger?: Logger;
}

export class WorkQueue<K = string> {
  readonly name: string;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter<K>;
  private readonly log: Logger;
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting = new Map<K, { at: number; timer: TimerHandle }>();
  private getters: Array<(v: { key: K; shutdown: false } | { shutdown: true }) => void> = [];
  private drainWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(private readonly opts: WorkQueueOptions<K> = {}) {
    this.name = opts.name ?? "olares";
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>(this.clock);
    this.log = withMeta(opts.logger ?? silentLogger(), { queue: this.name });
  }

  /** Queues `key` unless it is already waiting; a key in progress is parked until done(). */
  add(key: K): void {
    if (this.shuttingDown) return;
    this.opts.metrics?.queueAdds.inc({ queue: this.name });
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` after `ms`; when already scheduled, the earlier time wins (requeueAfter). */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  /** Retries `key` after its rate-limited delay (per-key backoff, max'ed with the global bucket). */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.opts.metrics?.queueRetries.inc({ queue: this.name });
    this.addAfter(key, this.limiter.when(key));
  }

  /** Clears the key's failure history (call after a success). */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.limiter.numRequeues(key);
  }

  /** Keys ready to be handed out (not counting delayed or in-progress ones). */
  len(): number {
    return this.queue.length;
  }

  /** Keys scheduled for later. */
  delayed(): number {
    return this.waiting.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Next key to process (call done(key) afterwards), or shutdown once the queue is closed and empty. */
  get(): Promise<{ key: K; shutdown: false } | { shutdown: true }> {
    if (this.queue.length > 0) return Promise.resolve({ key: this.take(), shutdown: false });
    if (this.shuttingDown) return Promise.resolve({ shutdown: true });
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    this.checkDrained();
  }

  /**
   * Stops accepting keys and drops delayed ones. With `drain` (default, client-go ShutDownWithDrain)
   * keys already queued are still handed out; resolves once they and every key in progress are done.
   * Without it, queued keys are dropped and only work in progress is awaited.
   */
  shutDown(opts: { drain?: boolean } = {}): Promise<void> {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.timer.cancel();
    this.waiting.clear();
    if (opts.drain === false) {
      for (const k of this.queue) this.dirty.delete(k);
      this.queue.length = 0;
      this.updateDepth();
    }
    this.getters.splice(0).forEach((g) => g({ shutdown: true }));
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.checkDrained();
    return drained;
  }

  private checkDrained(): void {
    if (this.shuttingDown && this.processing.size === 0 && this.queue.length === 0) {
      this.drainWaiters.splice(0).forEach((w) => w());
    }
  }

  /**
   * Runs `n` workers until shutDown(). The handler's result decides what happens to the key:
   * success → forget; requeueAfterMs → forget + addAfter; requeue or a throw → addRateLimited.
   */
  async runWorkers(n: number, handler: (key: K) => Promise<ReconcileResult | void>): Promise<void> {
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`workers: must be an integer >= 1 (got ${n})`);
    const worker = async (): Promise<void> => {
      for (;;) {
        const item = await this.get();
        if (item.shutdown) return;
        const { key } = item;
        try {
          const result = (await handler(key)) ?? {};
          if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
            this.forget(key);
            this.addAfter(key, result.requeueAfterMs);
          } else if (result.requeue) {
            this.addRateLimited(key);
          } else {
            this.forget(key);
          }
        } catch (err) {
          this.log.error("reconcile failed; retrying with backoff", { key: String(key), err, retries: this.numRequeues(key) });
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
  }

  private push(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.processing.add(key);
      this.dirty.delete(key);
      getter({ key, shutdown: false });
    } else {
      this.queue.push(key);
    }
    this.updateDepth();
  }

  private take(): K {
    const key = this.queue.shift()!;
    this.processing.add(key);
    this.dirty.delete(key);
    this.updateDepth();
    return key;
  }

  private updateDepth(): void {
    this.opts.metrics?.queueDepth.set({ queue: this.name }, this.queue.length);
  }
}
