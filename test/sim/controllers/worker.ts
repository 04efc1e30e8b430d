// A de-duplicating work queue: each key is reconciled at most once per tick; failures retry with
// per-key exponential backoff (so a permanently failing object cannot spin the event loop).
export class Worker {
  private readonly keys = new Set<string>();
  private scheduled = false;
  private running = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private idleWaiters: Array<() => void> = [];
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly reconcile: (key: string) => void,
    private readonly retryMs = 20,
    private readonly maxRetryMs = 5000,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.keys.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.add(key);
    }, ms);
    this.timers.add(t);
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const batch = [...this.keys];
    this.keys.clear();
    this.running = true;
    for (const key of batch) {
      try {
        this.reconcile(key);
        this.failures.delete(key);
      } catch {
        // Conflicts with concurrent writers and objects that vanished: retry from fresh state.
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        this.addAfter(key, Math.min(this.maxRetryMs, this.retryMs * 2 ** (n - 1)));
      }
    }
    this.running = false;
    if (this.keys.size === 0 && !this.scheduled) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** True when no key is queued or being reconciled (delayed retries do not count). */
  get isIdle(): boolean {
    return this.keys.size === 0 && !this.scheduled && !this.running;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.keys.clear();
  }
}
