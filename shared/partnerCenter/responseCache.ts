/**
 * Answers that change rarely (a country's validation rules, the verdict on one address),
 * kept per process so that a run that changes an address does not ask again: keyed by
 * the API base URL (the cloud) and what was asked. Concurrent askers share one call; a
 * failed call is not kept.
 */
export interface ResponseCacheOptions {
  /** How long an answer is kept; default a day. */
  ttlInMs?: number;
  /** Oldest answers are dropped beyond this many. */
  maxEntries?: number;
  now?: () => number;
}

export const DAY_IN_MS = 24 * 60 * 60 * 1000;

export class ResponseCache {
  private readonly entries = new Map<string, { expiresAt: number; value: Promise<unknown> }>();
  private readonly ttlInMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: ResponseCacheOptions = {}) {
    this.ttlInMs = options.ttlInMs ?? DAY_IN_MS;
    this.maxEntries = options.maxEntries ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** The kept answer for `key`, or `load()`'s (then kept); `cached` says which. */
  async getOrLoad<T>(key: string, load: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > this.now()) return { value: (await hit.value) as T, cached: true };
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { expiresAt: this.now() + this.ttlInMs, value });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    try {
      return { value: await value, cached: false };
    } catch (err) {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
      throw err;
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The cache every client of this process shares unless given its own. */
export const PROCESS_RESPONSE_CACHE = new ResponseCache();
