/**
 * The simulator's throttle: a token bucket per partner account, as "500 requests per
 * minute per tenant identifier" (partner-center-api-wave2.md §5) would be enforced, with a
 * 429 and Retry-After when it is empty.
 *
 * Time can be scaled for benchmarks: with `timeScale` k the bucket fills k times faster
 * (500/min simulated = 500·k/min real), and Retry-After is what the service would say in
 * simulated seconds (whole seconds, at least 1) divided by k. Since that is usually under a
 * real second, the wait also goes out as `retry-after-ms` (which the engine reads before
 * Retry-After); `Retry-After` itself is the real wait rounded up to whole seconds.
 */
export interface RateLimitOptions {
  /** Calls per simulated minute. */
  perMinute: number;
  /** Bucket size in calls; default 10 simulated seconds' worth. */
  burst?: number;
  /** Simulated time runs this many times faster than real time; default 1. */
  timeScale?: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number; retryAfterMs: number };

export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private readonly timeScale: number;
  private tokens: number;
  private last: number;

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.timeScale = options.timeScale ?? 1;
    this.ratePerMs = (options.perMinute * this.timeScale) / 60_000;
    this.capacity = Math.max(1, options.burst ?? options.perMinute / 6);
    this.tokens = this.capacity;
    this.last = this.now();
  }

  take(): Admission {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.ratePerMs);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    const realWaitMs = (1 - this.tokens) / this.ratePerMs;
    // The service speaks whole seconds of its own (simulated) time.
    const simulatedSeconds = Math.max(1, Math.ceil((realWaitMs * this.timeScale) / 1000));
    const retryAfterMs = Math.ceil((simulatedSeconds * 1000) / this.timeScale);
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)), retryAfterMs };
  }
}
