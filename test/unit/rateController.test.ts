import { SyncError } from "../../shared/core/errors";
import { RateController } from "../../shared/partnerCenter/rateController";
import { TokenBucket } from "../../simulator/rateLimit";

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}

describe("RateController decisions (fake time)", () => {
  it("a known limit paces calls 1/rate apart after a burst of ten", () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    const waits = Array.from({ length: 14 }, () => Math.round(rate.reserve().waitInMs));
    expect(waits).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 300, 400]);
    c.advance(60_000); // idle: the schedule does not bank more than the burst
    expect(Array.from({ length: 11 }, () => Math.round(rate.reserve().waitInMs))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100]);
  });

  it("never goes above a known limit, however many calls succeed", () => {
    const rate = new RateController({ limitPerMinute: 500, now: clock().now });
    for (let i = 0; i < 1000; i++) rate.onSuccess(rate.reserve().ticket);
    expect(rate.callsPerMinute).toBeCloseTo(500, 6);
  });

  it("a 429 pauses every call until Retry-After has passed, and slows down by 10%", () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    const { ticket } = rate.reserve();
    rate.onThrottled(ticket, 5_000);
    expect(rate.waitInMs()).toBe(5_000);
    expect(rate.reserve().waitInMs).toBe(5_000);
    expect(rate.callsPerMinute).toBeCloseTo(540, 6);
    expect(rate.snapshot()).toMatchObject({ throttled: 1, decreases: 1, pausedUntil: c.now() + 5_000 });
  });

  it("a 429 again before the rate came back from a decrease cuts deeper: 20%", () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    rate.onThrottled(rate.reserve().ticket, 1_000);
    c.advance(2_000);
    rate.onThrottled(rate.reserve().ticket, 1_000);
    expect(rate.callsPerMinute).toBeCloseTo(540 * (600 / 540) ** (2 / 60) * 0.8, 6);
    c.advance(120_000);
    // The return goes back to the rate that 429 cut (where the first return had come to).
    expect(rate.callsPerMinute).toBeGreaterThan(540);
    expect(rate.callsPerMinute).toBeLessThan(600);
  });

  it("slows down once for a burst of 429s to calls sent before the decrease", () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    const tickets = [rate.reserve().ticket, rate.reserve().ticket, rate.reserve().ticket];
    c.advance(300);
    for (const t of tickets) rate.onThrottled(t, 1_000);
    expect(rate.snapshot()).toMatchObject({ throttled: 3, decreases: 1 });
    expect(rate.callsPerMinute).toBeCloseTo(540, 6);
    c.advance(1_000);
    rate.onThrottled(rate.reserve().ticket, 1_000); // sent after the decrease: counts
    expect(rate.snapshot().decreases).toBe(2);
  });

  it("an unknown limit: doubles every 20 answered calls, halves at the first 429, comes back within a minute, then adds 0.02% a call", () => {
    const c = clock();
    expect(new RateController({ now: c.now }).snapshot()).toMatchObject({ phase: "probing", callsPerMinute: 500 });
    const rate = new RateController({ startPerMinute: 60, now: c.now });
    // A caller that always has work: each call waits for its slot.
    const call = () => {
      const slot = rate.reserve();
      c.advance(slot.waitInMs);
      return slot.ticket;
    };
    for (let i = 0; i < 40; i++) rate.onSuccess(call());
    expect(rate.callsPerMinute).toBeCloseTo(240, 6);
    rate.onThrottled(call(), 1_000);
    expect(rate.snapshot()).toMatchObject({ phase: "adapting", callsPerMinute: expect.closeTo(120, 6) });
    // A minute without a 429 gives back what the 429 took, and no more.
    const cutAt = c.now();
    while (c.now() < cutAt + 60_000) rate.onSuccess(call());
    expect(rate.callsPerMinute).toBeGreaterThanOrEqual(240);
    expect(rate.callsPerMinute).toBeLessThan(240 * 1.0002 ** 300);
    const back = rate.callsPerMinute;
    for (let i = 0; i < 200; i++) rate.onSuccess(call());
    expect(rate.callsPerMinute).toBeCloseTo(back * 1.0002 ** 200, 6);
  });

  it("a stray 429 costs a sparse caller at most a minute: the rate it cut comes back, geometrically, with no call needed", () => {
    const c = clock();
    const rate = new RateController({ startPerMinute: 600, now: c.now });
    for (let i = 0; i < 64; i++) {
      c.advance(1_000);
      rate.onSuccess(rate.reserve().ticket);
    }
    const before = rate.callsPerMinute;
    rate.onThrottled(rate.reserve().ticket, 1_000);
    const after = rate.callsPerMinute;
    expect(after).toBeLessThan(before / 10); // cut from the ~60 a minute really sent
    c.advance(30_000);
    expect(rate.callsPerMinute).toBeCloseTo(after * Math.sqrt(before / after), 3); // halfway, geometrically
    c.advance(30_000);
    expect(rate.callsPerMinute).toBeCloseTo(before, 6);
    c.advance(60_000);
    expect(rate.callsPerMinute).toBeCloseTo(before, 6); // the return ends there: no growth without use
  });

  it("a 429 during the return cuts from where the rate has come to, and returns only there", () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    rate.onThrottled(rate.reserve().ticket, 1_000);
    expect(rate.callsPerMinute).toBeCloseTo(540, 6);
    c.advance(30_000);
    const midway = rate.callsPerMinute;
    expect(midway).toBeCloseTo(540 * Math.sqrt(600 / 540), 6);
    rate.onThrottled(rate.reserve().ticket, 1_000);
    expect(rate.callsPerMinute).toBeCloseTo(midway * 0.9, 6);
    c.advance(120_000);
    expect(rate.callsPerMinute).toBeCloseTo(midway, 6);
  });

  it("readyInMs: when a run's several calls could all go at once", () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    expect(rate.readyInMs(4)).toBe(0);
    for (let i = 0; i < 10; i++) rate.reserve(); // the burst is spent
    expect(Math.round(rate.readyInMs(1))).toBe(100);
    expect(Math.round(rate.readyInMs(4))).toBe(400);
    rate.onThrottled(c.now(), 2_000);
    expect(Math.round(rate.readyInMs(1))).toBeGreaterThanOrEqual(2_000);
  });

  it("does not speed up while the caller cannot use the rate, and slows down from what it really sent", () => {
    const c = clock();
    const rate = new RateController({ startPerMinute: 600, now: c.now });
    // One call a second, far under the 600 a minute allowed: nothing is learnt about the limit.
    for (let i = 0; i < 100; i++) {
      c.advance(1_000);
      rate.onSuccess(rate.reserve().ticket);
    }
    expect(rate.callsPerMinute).toBeLessThan(600 * 2 ** (32 / 20));
    const before = rate.callsPerMinute;
    for (let i = 0; i < 100; i++) {
      c.advance(1_000);
      rate.onSuccess(rate.reserve().ticket);
    }
    expect(rate.callsPerMinute).toBe(before);
    rate.onThrottled(rate.reserve().ticket, 1_000);
    // About 60 a minute went out: the decrease starts there, not from the unused allowance.
    expect(rate.callsPerMinute).toBeGreaterThanOrEqual(29);
    expect(rate.callsPerMinute).toBeLessThanOrEqual(32);
  });

  it("acquire with a longest wait refuses a longer one without taking the slot: Throttled, retry after the wait", async () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 60, now: c.now });
    rate.onThrottled(rate.reserve().ticket, 30_000);
    const granted = rate.snapshot().granted;
    await expect(rate.acquire({ maxWaitInMs: 10_000 })).rejects.toMatchObject({ code: "Throttled", statusCode: 429, retryAfterInMs: 30_000 });
    await expect(rate.acquire({ maxWaitInMs: 10_000 })).rejects.toBeInstanceOf(SyncError);
    expect(rate.snapshot().granted).toBe(granted);
  });

  it("a call stopped while it waits gives its slot back: the next one does not queue behind it", async () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 60, now: c.now });
    for (let i = 0; i < 10; i++) rate.reserve(); // the burst is spent: the next slot is 1 s away
    const stopped = new AbortController();
    const waiting = rate.acquire({ abortSignal: stopped.signal, sleep: (_ms, signal) => new Promise((_, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted")))) });
    stopped.abort();
    await expect(waiting).rejects.toThrow("aborted");
    expect(rate.snapshot().granted).toBe(10);
    expect(Math.round(rate.reserve().waitInMs)).toBe(1_000);
  });

  it("acquire sleeps until the slot, and again when a pause began while it slept", async () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    const slept: number[] = [];
    for (let i = 0; i < 10; i++) rate.reserve();
    let first = true;
    const ticket = await rate.acquire({
      sleep: async (ms) => {
        slept.push(Math.round(ms));
        c.advance(ms);
        // Another call got a 429 while this one waited.
        if (first) rate.onThrottled(c.now() - 1, 2_000);
        first = false;
      },
    });
    expect(slept[0]).toBe(100);
    expect(slept[1]).toBeGreaterThanOrEqual(1_999);
    expect(ticket).toBeGreaterThanOrEqual(c.now() - 1);
  });

  it("a waiter whose slot a pause voids gives that slot back before it takes another: one slot granted, not two", async () => {
    const c = clock();
    const rate = new RateController({ limitPerMinute: 600, now: c.now });
    for (let i = 0; i < 10; i++) rate.reserve();
    let first = true;
    await rate.acquire({
      sleep: async (ms) => {
        c.advance(ms);
        if (first) rate.onThrottled(c.now() - 1, 2_000);
        first = false;
      },
    });
    // Before: the void slot stayed granted, and every later call waited one interval more.
    expect(rate.snapshot().granted).toBe(11);
  });
});

/**
 * The controller against a simulated limit: the simulator's own token bucket (500 a
 * minute, 10 s of burst) on a fake clock, calls one after another with 30 ms of latency,
 * every 429 retried. Time is the last answer; the ideal is calls / rate.
 */
function runAgainstLimit(controller: RateController, c: ReturnType<typeof clock>, calls: number, perMinute: number): { ratio: number; throttledShare: number } {
  const server = new TokenBucket({ perMinute }, c.now);
  const started = c.now();
  let sent = 0;
  let throttled = 0;
  for (let done = 0; done < calls; ) {
    const { ticket, waitInMs } = controller.reserve();
    c.advance(waitInMs + 30);
    sent++;
    const admitted = server.take();
    if (admitted.ok) {
      controller.onSuccess(ticket);
      done++;
    } else {
      throttled++;
      controller.onThrottled(ticket, admitted.retryAfterMs);
    }
  }
  const ideal = (calls / perMinute) * 60_000;
  if (process.env.SHOW_RATE) console.log(JSON.stringify({ ratio: (c.now() - started) / ideal, throttled, sent, rate: controller.callsPerMinute }));
  return { ratio: (c.now() - started) / ideal, throttledShare: throttled / sent };
}

describe("RateController under a simulated limit of 500 calls a minute", () => {
  it("told the limit: within 1.02x of the ideal time, no 429", () => {
    const c = clock(0);
    const result = runAgainstLimit(new RateController({ limitPerMinute: 500, now: c.now }), c, 3_000, 500);
    expect(result.throttledShare).toBe(0);
    expect(result.ratio).toBeLessThanOrEqual(1.02);
  });

  it("not told: finds it from 60 a minute, within 1.1x of the ideal time, at most 1% of calls answered 429", () => {
    const c = clock(0);
    const controller = new RateController({ startPerMinute: 60, now: c.now });
    const result = runAgainstLimit(controller, c, 10_000, 500);
    expect(result.throttledShare).toBeLessThanOrEqual(0.01);
    expect(result.ratio).toBeLessThanOrEqual(1.1);
    expect(controller.callsPerMinute).toBeGreaterThan(400);
    expect(controller.callsPerMinute).toBeLessThan(650);
  });

  it("told too much (1,000 a minute against 500): the 429s bring it down and the run still ends near the ideal", () => {
    const c = clock(0);
    const controller = new RateController({ limitPerMinute: 1_000, now: c.now });
    const result = runAgainstLimit(controller, c, 5_000, 500);
    expect(result.throttledShare).toBeLessThanOrEqual(0.02);
    expect(result.ratio).toBeLessThanOrEqual(1.1);
  });
});
