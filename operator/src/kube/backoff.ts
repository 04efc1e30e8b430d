// Jittered exponential backoff (client-go wait.Backoff / reflector backoff manager): delays grow by
// `factor` up to `capMs`; a long quiet period resets them.
export interface BackoffOptions {
  initialMs?: number;
  factor?: number;
  capMs?: number;
  /** Extra random fraction added to each delay (0.5 → up to +50%), never beyond the cap. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly factor: number;
  private readonly capMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 800;
    this.factor = opts.factor ?? 2;
    this.capMs = opts.capMs ?? 30_000;
    this.jitter = opts.jitter ?? 0.5;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0)) throw new Error(`backoff.initialMs: must be > 0 (got ${this.initialMs})`);
    if (!(this.factor >= 1)) throw new Error(`backoff.factor: must be >= 1 (got ${this.factor})`);
    if (!(this.capMs >= this.initialMs)) throw new Error(`backoff.capMs: must be >= initialMs (got ${this.capMs})`);
  }

  /** The next delay, then grows. */
  next(): number {
    const base = Math.min(this.capMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.min(this.capMs, Math.round(base * (1 + this.random() * this.jitter)));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
