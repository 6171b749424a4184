import { AttemptError, withRetry } from "../../shared/core/http";
import { SyncError } from "../../shared/core/errors";
import { backoffInMs, decideRetry, DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter } from "../../shared/core/retry";

describe("isRetryableStatus", () => {
  it.each([408, 429, 500, 502, 503, 504, 599])("retries %i", (s) => expect(isRetryableStatus(s)).toBe(true));
  it.each([200, 400, 401, 403, 404, 409, 412, 501, 505])("does not retry %i", (s) => expect(isRetryableStatus(s)).toBe(false));
});

describe("decideRetry", () => {
  const half = () => 0.5;

  it("waits what the server asked on 429", () => {
    expect(decideRetry(0, { status: 429, retryAfterInMs: 7000 }, 0, DEFAULT_RETRY_POLICY, half)).toEqual({ retryAfterInMs: 7000 });
  });

  it("backs off exponentially with jitter, capped", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, retryDelayInMs: 100, maxRetryDelayInMs: 300, maxRetries: 10 };
    expect([0, 1, 2, 3].map((r) => backoffInMs(r, policy, () => 1))).toEqual([100, 200, 300, 300]);
    expect(backoffInMs(1, policy, () => 0)).toBe(100);
    expect(decideRetry(1, { status: 503 }, 0, policy, () => 1)).toEqual({ retryAfterInMs: 200 });
  });

  it("retries network failures", () => {
    expect(decideRetry(0, { networkCode: "ECONNRESET" }, 0, DEFAULT_RETRY_POLICY, half)).toHaveProperty("retryAfterInMs");
    expect(decideRetry(0, { networkCode: "ENOTFOUND" }, 0)).toMatchObject({ stop: true });
  });

  it.each([400, 401, 403, 404, 409, 412])("never retries %i", (status) => {
    expect(decideRetry(0, { status }, 0)).toEqual({ stop: true, reason: "not retryable" });
  });

  it("stops after maxRetries", () => {
    expect(decideRetry(3, { status: 503 }, 0)).toMatchObject({ stop: true, reason: "gave up after 4 attempts" });
  });

  it("stops when the wait would pass the total time budget", () => {
    expect(decideRetry(0, { status: 429, retryAfterInMs: 200_000 }, 0)).toMatchObject({ stop: true });
    expect(decideRetry(0, { status: 503 }, 119_900, DEFAULT_RETRY_POLICY, () => 1)).toMatchObject({ stop: true });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds, HTTP dates and retry-after-ms", () => {
    expect(parseRetryAfter({ "retry-after": "57" }, 0)).toBe(57_000);
    expect(parseRetryAfter({ "retry-after-ms": "250" }, 0)).toBe(250);
    expect(parseRetryAfter({ "retry-after": new Date(10_000).toUTCString() }, 4_000)).toBe(6_000);
    expect(parseRetryAfter({ "retry-after": "soon" }, 0)).toBeUndefined();
    expect(parseRetryAfter({}, 0)).toBeUndefined();
  });
});

describe("withRetry", () => {
  const failure = (status: number) => new AttemptError(new SyncError("ServiceUnavailable", `got ${status}`, { statusCode: status }), { status });

  it("retries a retryable failure and returns the later success, sleeping the decided delays", async () => {
    const waits: number[] = [];
    let calls = 0;
    const value = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw failure(503);
        return "ok";
      },
      { random: () => 1, policy: { retryDelayInMs: 10 }, sleep: async (ms) => void waits.push(ms) },
    );
    expect(value).toBe("ok");
    expect(waits).toEqual([10, 20]);
  });

  it("surfaces the SyncError, not the attempt wrapper, when it gives up", async () => {
    await expect(withRetry(async () => { throw failure(401); }, { sleep: async () => {} })).rejects.toMatchObject({ code: "ServiceUnavailable", statusCode: 401 });
  });

  it("lets other errors through at once", async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw new SyncError("ResponseParseError", "bad"); })).rejects.toMatchObject({ code: "ResponseParseError" });
    expect(calls).toBe(1);
  });

  it("stops waiting when aborted", async () => {
    const controller = new AbortController();
    const pending = withRetry(async () => { throw failure(503); }, { policy: { retryDelayInMs: 60_000, maxRetryDelayInMs: 60_000 }, abortSignal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "Aborted" });
  });
});
