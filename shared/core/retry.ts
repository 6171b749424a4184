/**
 * Retry decisions, as plain data: no sleeping, no I/O, randomness injected. The one
 * loop that waits is in http.ts.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff step; doubles each retry. */
  retryDelayInMs: number;
  /** Cap on one backoff step. */
  maxRetryDelayInMs: number;
  /** The whole operation, waits included, ends by this budget. */
  totalTimeoutInMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxRetries: 3,
  retryDelayInMs: 500,
  maxRetryDelayInMs: 8_000,
  totalTimeoutInMs: 120_000,
};

export interface AttemptFailure {
  /** HTTP status, when the service answered. */
  status?: number;
  /** Node/axios system error code, when it did not (ECONNRESET, ETIMEDOUT...). */
  networkCode?: string;
  /** What the service asked us to wait (Retry-After / retry-after-ms). */
  retryAfterInMs?: number;
}

export type RetryDecision = { retryAfterInMs: number } | { stop: true; reason: string };

/** Throttling and transient server states; 501 and 505 will not change on retry. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

const RETRYABLE_NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  // The connection dropped mid-body (partnerClient's name for axios's aborted stream).
  "ERR_RESPONSE_ABORTED",
]);

export function isRetryableNetworkCode(code: string): boolean {
  return RETRYABLE_NETWORK_CODES.has(code);
}

export function isRetryable(failure: AttemptFailure): boolean {
  if (failure.status !== undefined) return isRetryableStatus(failure.status);
  return failure.networkCode !== undefined && isRetryableNetworkCode(failure.networkCode);
}

/** Capped exponential backoff with full jitter in [half, whole] of the step. */
export function backoffInMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.maxRetryDelayInMs, policy.retryDelayInMs * 2 ** retry);
  return Math.round(step / 2 + (step / 2) * random());
}

/**
 * @param retry how many retries were already made (0 after the first attempt)
 * @param elapsedInMs time spent on the operation so far
 */
export function decideRetry(
  retry: number,
  failure: AttemptFailure,
  elapsedInMs: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): RetryDecision {
  if (!isRetryable(failure)) return { stop: true, reason: "not retryable" };
  if (retry >= policy.maxRetries) return { stop: true, reason: `gave up after ${retry + 1} attempts` };
  // The server's own wait wins over ours when it gave one (429/503 guidance).
  const delay = failure.retryAfterInMs ?? backoffInMs(retry, policy, random);
  if (elapsedInMs + delay > policy.totalTimeoutInMs) {
    return { stop: true, reason: `waiting ${Math.ceil(delay / 1000)} s more would pass the ${policy.totalTimeoutInMs / 1000} s limit` };
  }
  return { retryAfterInMs: delay };
}

/** Retry-After as seconds or an HTTP date; retry-after-ms when present. */
export function parseRetryAfter(headers: Record<string, unknown>, nowInMs: number): number | undefined {
  const ms = headers["retry-after-ms"];
  if (typeof ms === "string" && /^\d+$/.test(ms.trim())) return Number(ms.trim());
  const value = headers["retry-after"];
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowInMs);
}
