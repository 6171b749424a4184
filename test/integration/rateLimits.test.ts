import { Engine } from "../../shared/engine/engine";
import { loadSettings } from "../../shared/config/settings";
import type { LimitOptions } from "../../simulator/rateLimit";
import { startHarness, type Harness } from "../support/harness";

/**
 * The budget against the simulator's five limits of issue 20, with small numbers: 120
 * customers (6 drifted), time scaled as bench/rateLimits.ts does (the limits fill SCALE
 * times faster, Retry-After is divided by SCALE, the engine's budget is 250·SCALE). Each
 * case is a fresh engine (a fresh rate controller) and a fresh limit. What is asserted is
 * not speed (bench/ measures that) but what the controller does: every target ends in
 * sync or corrected, the rate never goes above the budget, it ends under a limit lower
 * than the budget, and few calls are answered 429.
 */
const SCALE = 4;
const CUSTOMERS = 100;
const BUDGET = 250;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ customers: CUSTOMERS, recordRequests: false });
  for (let i = 0; i < CUSTOMERS; i++) {
    const id = h.sim.customers().id(i);
    const p = h.sim.customers().profile(i) as { email: string };
    await h.setDesiredEntity(`customer-${id}`, { CustomerId: id, Email: p.email, Mode: "enforce", Suspended: false });
  }
});
afterAll(() => h.stop());

const cases: { name: string; realPerMinute: number; limit: LimitOptions }[] = [
  { name: "a token bucket of 500/min with a burst of 10", realPerMinute: 500, limit: { perMinute: 500, burst: 10 } },
  { name: "a token bucket of 400/min with a burst of 50", realPerMinute: 400, limit: { perMinute: 400, burst: 50 } },
  { name: "a sliding 60-second window of 300", realPerMinute: 300, limit: { kind: "window", requests: 300 } },
  { name: "a token bucket of 150/min, below the budget", realPerMinute: 150, limit: { perMinute: 150, burst: 10 } },
  { name: "a bucket of 500/min of which another tool takes 300/min", realPerMinute: 200, limit: { kind: "shared", perMinute: 500, burst: 10, otherPerMinute: 300 } },
];

describe.each(cases)("the default budget against $name", ({ realPerMinute, limit }) => {
  it("every target in sync or corrected; the rate never above the budget, under the limit at the end; few 429s", async () => {
    for (let i = 0; i < CUSTOMERS; i += 20) h.sim.customers().write(i, { email: `moved${i}.${Date.now()}@elsewhere.example` });
    h.sim.configure({ rateLimit: { ...limit, timeScale: SCALE } });
    const before = { ...h.sim.totals };
    const engine = new Engine(loadSettings({ ...h.env, PARTNER_CENTER_CALLS_PER_MINUTE: String(BUDGET * SCALE) }));
    const rate = engine.partnerClient().rate;
    let highest = 0;
    const runs = await engine.syncAll({
      trigger: "cli",
      onProgress: () => void (highest = Math.max(highest, rate.callsPerMinute)),
    });
    h.sim.configure({ rateLimit: undefined });
    const counts = runs.reduce<Record<string, number>>((all, r) => ({ ...all, [r.outcome]: (all[r.outcome] ?? 0) + 1 }), {});
    expect(counts).toEqual({ "in-sync": CUSTOMERS - CUSTOMERS / 20, corrected: CUSTOMERS / 20 });
    expect(highest).toBeLessThanOrEqual(BUDGET * SCALE + 1e-6);
    if (realPerMinute < BUDGET) expect(rate.callsPerMinute).toBeLessThan(realPerMinute * SCALE);
    const calls = h.sim.totals.GET + h.sim.totals.PUT - before.GET - before.PUT;
    const throttled = h.sim.totals.throttled - before.throttled;
    // Small numbers: a limit below the budget costs a dozen to twenty 429s to find from the
    // budget (more on a loaded machine, whose scaled time runs unevenly), a large share of 100
    // targets (under 1% of the bench's 1,000); a controller that did not slow down would see
    // 40% (250 against 150). One at or above the budget costs none.
    expect(throttled / calls).toBeLessThanOrEqual(realPerMinute < BUDGET ? 0.25 : 0);
  });
});
