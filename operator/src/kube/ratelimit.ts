// Token bucket (client-go flowcontrol / golang.org/x/time/rate): `burst` tokens, refilled at `qps`.
// Waiters reserve tokens in arrival order, so a burst of callers is spread out fairly.
import { realClock, type Clock } from "./clock.js";

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(qps > 0)) throw new Error(`rate limiter: qps must be > 0 (got ${qps})`);
    if (!(burst >= 1)) throw new Error(`rate limiter: burst must be >= 1 (got ${burst})`);
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }

  /** Takes a token now if one is available. */
  tryAccept(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Reserves a token and returns how many ms the caller must wait before using it. */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  /** Waits for a token (client-go `Accept()`/`Wait(ctx)`). */
  async wait(signal?: AbortSignal): Promise<void> {
    const delay = this.reserve();
    if (delay > 0) await this.clock.sleep(delay, signal);
  }
}
