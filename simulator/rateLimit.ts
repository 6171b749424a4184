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

export class TokenBucket implements Limiter {
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

/** Anything that admits or refuses one call: a bucket, a window, a bucket shared with another tool. */
export interface Limiter {
  take(): Admission;
}

/**
 * At most `requests` calls in any `windowSeconds` (simulated) seconds, counted over a
 * sliding window: a call is refused until the oldest call of the window leaves it.
 */
export interface SlidingWindowOptions {
  requests: number;
  /** Default 60 simulated seconds. */
  windowSeconds?: number;
  timeScale?: number;
}

export class SlidingWindow implements Limiter {
  private readonly windowMs: number;
  private readonly timeScale: number;
  /** Admission times of the calls in the window (a ring of `requests`). */
  private readonly times: number[] = [];
  private next = 0;

  constructor(
    private readonly options: SlidingWindowOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.timeScale = options.timeScale ?? 1;
    this.windowMs = ((options.windowSeconds ?? 60) * 1000) / this.timeScale;
  }

  take(): Admission {
    const now = this.now();
    if (this.times.length < this.options.requests) {
      this.times.push(now);
      return { ok: true };
    }
    const oldest = this.times[this.next];
    if (now - oldest >= this.windowMs) {
      this.times[this.next] = now;
      this.next = (this.next + 1) % this.options.requests;
      return { ok: true };
    }
    return refusal(oldest + this.windowMs - now, this.timeScale);
  }
}

/**
 * A token bucket of which another consumer (another tool of the same tenant) takes
 * `otherPerMinute` at the same time, at an even pace: the tokens it takes are gone
 * before the engine's calls can have them. Its calls are not counted as ours.
 */
export interface SharedBucketOptions extends RateLimitOptions {
  otherPerMinute: number;
}

export class SharedBucket implements Limiter {
  private readonly bucket: TokenBucket;
  private readonly otherGapMs: number;
  /** The bucket's clock: moved to each of the other consumer's calls in turn, then to ours. */
  private at: number;
  /** When the other consumer's next new call goes out. */
  private nextOther: number;
  /** Its refused calls, tried again after their Retry-After (sorted). */
  private readonly retries: number[] = [];
  /** Calls of the other consumer the bucket refused (that tool's 429s). */
  otherThrottled = 0;

  constructor(
    options: SharedBucketOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.at = now();
    this.bucket = new TokenBucket(options, () => this.at);
    this.otherGapMs = 60_000 / (options.otherPerMinute * (options.timeScale ?? 1));
    this.nextOther = this.at + this.otherGapMs;
  }

  take(): Admission {
    const now = this.now();
    // The other consumer's calls due by now, each at its own time: it calls whether we do
    // or not, and tries a refused call again after its Retry-After, as a good client does.
    for (;;) {
      const retry = this.retries[0] ?? Infinity;
      const t = Math.min(retry, this.nextOther);
      if (t > now) break;
      if (retry <= this.nextOther) this.retries.shift();
      else this.nextOther += this.otherGapMs;
      this.at = t;
      const admitted = this.bucket.take();
      if (!admitted.ok) {
        this.otherThrottled++;
        const again = t + admitted.retryAfterMs;
        this.retries.splice(sortedIndex(this.retries, again), 0, again);
      }
    }
    this.at = now;
    return this.bucket.take();
  }
}

function sortedIndex(sorted: readonly number[], value: number): number {
  let i = sorted.length;
  while (i > 0 && sorted[i - 1] > value) i--;
  return i;
}

/** A simulator's limit, as configured. */
export type LimitOptions = ({ kind?: "bucket" } & RateLimitOptions) | ({ kind: "window" } & SlidingWindowOptions) | ({ kind: "shared" } & SharedBucketOptions);

export function createLimiter(options: LimitOptions): Limiter {
  if (options.kind === "window") return new SlidingWindow(options);
  if (options.kind === "shared") return new SharedBucket(options);
  return new TokenBucket(options);
}

function refusal(realWaitMs: number, timeScale: number): Admission {
  const simulatedSeconds = Math.max(1, Math.ceil((realWaitMs * timeScale) / 1000));
  const retryAfterMs = Math.ceil((simulatedSeconds * 1000) / timeScale);
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)), retryAfterMs };
}
