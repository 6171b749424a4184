import { SyncError } from "./errors";

/** Runs `fn` over `items` with at most `concurrency` in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** At most `permits` holders at once; waiters are served in order. */
export class Semaphore {
  readonly permits: number;
  private available: number;
  private readonly waiting: (() => void)[] = [];

  constructor(permits: number) {
    this.permits = Math.max(1, Math.floor(permits));
    this.available = this.permits;
  }

  /**
   * With `abortSignal`, a wait for a permit ends when the signal fires (the caller's run was
   * stopped): it leaves the line, holds nothing, and rejects with Aborted.
   */
  async run<T>(fn: () => Promise<T>, abortSignal?: AbortSignal): Promise<T> {
    if (abortSignal?.aborted) throw new SyncError("Aborted", "The operation was aborted while it waited for a slot.");
    if (this.available > 0) this.available--;
    else {
      await new Promise<void>((resolve, reject) => {
        const take = () => {
          abortSignal?.removeEventListener("abort", leave);
          resolve();
        };
        const leave = () => {
          const at = this.waiting.indexOf(take);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new SyncError("Aborted", "The operation was aborted while it waited for a slot."));
        };
        abortSignal?.addEventListener("abort", leave, { once: true });
        this.waiting.push(take);
      });
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.available++;
    }
  }
}
