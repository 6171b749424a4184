import { SyncError } from "./errors";
import { decideRetry, DEFAULT_RETRY_POLICY, type AttemptFailure, type RetryPolicy } from "./retry";

export interface RetryLoopOptions {
  policy?: Partial<RetryPolicy>;
  random?: () => number;
  sleep?: (ms: number, abortSignal?: AbortSignal) => Promise<void>;
  now?: () => number;
  abortSignal?: AbortSignal;
}

/** An attempt that failed: the error to surface and what decideRetry needs to know. */
export class AttemptError extends Error {
  constructor(
    readonly error: SyncError,
    readonly failure: AttemptFailure,
  ) {
    super(error.message);
  }
}

export function sleep(ms: number, abortSignal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (abortSignal?.aborted) return reject(new SyncError("Aborted", "The operation was aborted."));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new SyncError("Aborted", "The operation was aborted."));
    };
    const timer = setTimeout(() => {
      abortSignal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    abortSignal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The only loop that waits between attempts. `op` throws AttemptError for a failed attempt. */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, options: RetryLoopOptions = {}): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const started = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (!(err instanceof AttemptError)) throw err;
      const decision = decideRetry(attempt, err.failure, now() - started, policy, options.random);
      if ("stop" in decision) throw err.error;
      await wait(decision.retryAfterInMs, options.abortSignal);
    }
  }
}
