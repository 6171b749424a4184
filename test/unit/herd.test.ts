import { simulateHerd } from "../../bench/herd";

/**
 * The herd of issue 24 on the model of bench/herd.ts (virtual clock, the host's queue rules,
 * the real RateController and the real deferral and sweep decisions): 90 targets at a known
 * 6 calls a minute, a 5-minute schedule, host batch 16, maxDequeueCount 3.
 */
describe("the timer's fan-out of 90 targets at 6 calls a minute", () => {
  it("before: throttling alone poisoned healthy targets, with hundreds of deferred rows", () => {
    const before = simulateHerd({ policy: "before" });
    expect(before.poisoned).toBeGreaterThan(0);
    expect(before.deferredRows).toBeGreaterThan(500);
  });

  it("ends with every target in sync, 0 poisoned, 0 failed invocations and at most 2 deferred rows per target", () => {
    const after = simulateHerd({ policy: "after" });
    expect(after).toMatchObject({ inSync: 90, poisoned: 0, failedInvocations: 0 });
    expect(after.maxDeferredRowsPerTarget).toBeLessThanOrEqual(2);
  });

  it("three ticks over the backlog: never two messages of one target, still 0 poisoned and at most 2 deferred rows per target", () => {
    const after = simulateHerd({ policy: "after", ticks: 3 });
    expect(after).toMatchObject({ poisoned: 0, failedInvocations: 0, maxMessagesPerTarget: 1 });
    expect(after.maxDeferredRowsPerTarget).toBeLessThanOrEqual(2);
  });
});
