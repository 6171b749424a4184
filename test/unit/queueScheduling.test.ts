import { Semaphore } from "../../shared/core/pool";
import { planSweep, scheduleIntervalInMs } from "../../shared/engine/sweep";
import { deferralDelayInSeconds, MAX_DEFERRAL_IN_MS } from "../../shared/host/requeue";
import { LeaseExpiryJudge } from "../../shared/stores/leaseExpiry";

describe("a deferred message's delay", () => {
  const at = (line = { endsAt: 0 }) => ({ now: 1_000_000, line, random: () => 0.5 });
  it("is its place in the account's line at the pace, not the next free slot", () => {
    // 80 messages ahead at 6 a minute: 800 s, whatever the next free slot (10 s) says.
    expect(deferralDelayInSeconds({ retryAfterInMs: 10_000, backlog: 80, callsPerMinute: 6, ...at() })).toBe(800);
  });
  it("messages deferred together take turns one pace apart, instead of coming back together", () => {
    const line = { endsAt: 0 };
    const delays = [0, 1, 2].map(() => deferralDelayInSeconds({ backlog: 80, callsPerMinute: 6, ...at(line) }));
    expect(delays).toEqual([800, 810, 820]);
  });
  it("is at least the Retry-After, and spread +/-5%", () => {
    expect(deferralDelayInSeconds({ retryAfterInMs: 45_000, backlog: 0, callsPerMinute: 6, ...at() })).toBe(45);
    expect(deferralDelayInSeconds({ backlog: 60, callsPerMinute: 6, ...at(), random: () => 0 })).toBe(570);
    expect(deferralDelayInSeconds({ backlog: 60, callsPerMinute: 6, ...at(), random: () => 1 })).toBe(630);
  });
  it("never outlasts the deferral limit", () => {
    expect(deferralDelayInSeconds({ backlog: 1e9, callsPerMinute: 1, ...at() })).toBe(MAX_DEFERRAL_IN_MS / 1000);
  });
});

describe("a sweep", () => {
  it("skips targets an earlier sweep still has queued, and spreads the rest over the schedule's interval at the rate", () => {
    const plan = planSweep(["a", "b", "c", "d"], new Set(["b"]), 1, 5 * 60_000);
    expect(plan).toMatchObject({ targets: ["a", "c", "d"], skipped: ["b"], needsInMs: 180_000, intervalInMs: 300_000, delays: [0, 60, 120] });
  });
  it("an interval is the schedule's, not what is left until the next tick", () => {
    // 10 s before a tick of a 5-minute schedule, the interval is still 5 minutes.
    expect(scheduleIntervalInMs("0 */5 * * * *", new Date("2026-01-01T00:04:50Z"))).toBe(300_000);
  });
});

describe("lease expiry on the monotonic clock", () => {
  it("a lease ETag seen unchanged for a whole duration has ended; a renewal (new ETag) starts the count again", () => {
    let t = 0;
    const judge = new LeaseExpiryJudge(() => t);
    const seen = (etag: string) => judge.ended({ target: "x", etag, durationInMs: 1_000 });
    expect(seen("e1")).toBe(false);
    t = 900;
    expect(seen("e1")).toBe(false);
    expect(seen("e2")).toBe(false);
    t = 1_800;
    expect(seen("e2")).toBe(false);
    t = 1_900;
    expect(seen("e2")).toBe(true);
  });
  it("the service's Timestamp and Date decide without any sighting", () => {
    const judge = new LeaseExpiryJudge(() => 0);
    expect(judge.ended({ target: "x", etag: "e", timestamp: "2026-01-01T00:00:00.500Z", serviceDate: "Thu, 01 Jan 2026 00:00:02 GMT", durationInMs: 1_000 })).toBe(true);
    expect(judge.ended({ target: "y", etag: "e", timestamp: "2026-01-01T00:00:01.500Z", serviceDate: "Thu, 01 Jan 2026 00:00:02 GMT", durationInMs: 1_000 })).toBe(false);
  });
});

describe("the call gate", () => {
  it("a wait for a slot ends when the run is stopped, and the slot goes to the next waiter", async () => {
    const gate = new Semaphore(1);
    let release!: () => void;
    const holder = gate.run(() => new Promise<void>((r) => (release = r)));
    const stopped = new AbortController();
    const waiting = gate.run(async () => "never", stopped.signal);
    const next = gate.run(async () => "next");
    stopped.abort();
    await expect(waiting).rejects.toMatchObject({ code: "Aborted" });
    release();
    await holder;
    await expect(next).resolves.toBe("next");
  });
});
