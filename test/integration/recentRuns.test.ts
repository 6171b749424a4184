import type { Engine } from "../../shared/engine/engine";
import { type HistoryRecord, newestRunsOf } from "../../shared/stores";
import { startHarness, type Harness } from "../support/harness";

/**
 * `history` without --target reads every target's newest runs across partitions, in
 * windows of days (shared/stores/recentRuns.ts): what it gives must be what a query per
 * target gives, for targets with many runs, few, old ones only, and none. Azurite.
 */
let h: Harness;
let engine: Engine;
const DAY = 86_400_000;
const now = new Date(Date.UTC(2026, 5, 15, 10, 0, 0));

let seq = 0;
function record(target: string, at: number, extra: Partial<HistoryRecord> = {}): HistoryRecord {
  seq++;
  return {
    runId: `run-${String(seq).padStart(5, "0")}`, target, trigger: "timer", dryRun: false, outcome: "in-sync", changedFields: [], changes: [],
    correlationId: `corr-${seq}`, requestIds: [`req-${seq}`], putMade: false, error: null, startedAt: new Date(at).toISOString(), durationMs: 5, notConverged: [], ...extra,
  };
}

beforeAll(async () => {
  h = await startHarness();
  engine = h.engine();
  const day0 = Math.floor(now.getTime() / DAY) * DAY;
  const runs: HistoryRecord[] = [];
  // busy: three checks a day for 12 days and a correction every third day.
  for (let d = 0; d < 12; d++) {
    for (const hour of [1, 5, 9]) runs.push(record("rr-busy", day0 - d * DAY + hour * 3_600_000));
    if (d % 3 === 0) runs.push(record("rr-busy", day0 - d * DAY + 7 * 3_600_000, { outcome: "corrected", changedFields: ["FirstName"], putMade: true, putRequestId: `put-${d}` }));
  }
  // old: two failed runs 300 days ago, past every window but the open one.
  runs.push(record("rr-old", day0 - 300 * DAY + 3_600_000, { outcome: "failed", error: { code: "Timeout", message: "slow" } as HistoryRecord["error"] }));
  runs.push(record("rr-old", day0 - 300 * DAY + 2 * 3_600_000, { outcome: "failed", error: { code: "Timeout", message: "slow" } as HistoryRecord["error"] }));
  // sparse: a run every 9 days; today: runs of today only; stranger: not asked for.
  for (let d = 0; d < 60; d += 9) runs.push(record("rr-sparse", day0 - d * DAY + 3_600_000, { outcome: "corrected", changedFields: ["LastName"], putMade: true, putRequestId: `put-s${d}` }));
  for (let k = 0; k < 4; k++) runs.push(record("rr-today", day0 + k * 60_000, { outcome: k === 2 ? "failed" : "in-sync", error: k === 2 ? ({ code: "Timeout", message: "x" } as HistoryRecord["error"]) : null }));
  runs.push(record("rr-stranger", day0 + 60_000));
  for (const run of runs) await engine.history.add(run);
}, 60_000);
afterAll(() => h.stop());

describe("newest runs of every target across partitions", () => {
  const targets = ["rr-today", "rr-busy", "rr-none", "rr-old", "rr-sparse"];

  it.each([1, 2, 3, 5, 8, 20])("gives each target what a query of its own gives (limit %i)", async (limit) => {
    const across = await newestRunsOf(engine.history, targets, limit, { columns: "public", now });
    const own = await Promise.all(targets.map((t) => engine.history.list(t, { limit, columns: "public" })));
    expect(across).toEqual(own);
    expect(across[2]).toEqual([]);
    expect(across.flat().some((r) => r.target === "rr-stranger")).toBe(false);
    expect(across[1].length).toBe(Math.min(limit, 16)); // 12 days of compacted checks and 4 corrections
  });

  it("with every column (--show-personal) too", async () => {
    const across = await newestRunsOf(engine.history, targets, 5, { now });
    expect(across).toEqual(await Promise.all(targets.map((t) => engine.history.list(t, { limit: 5 }))));
  });

  it("reads the targets left one by one when they are fewer than the next window's pages", async () => {
    const asked: string[] = [];
    const counting = { rowsBetween: engine.history.rowsBetween.bind(engine.history), readRow: engine.history.readRow.bind(engine.history), list: (t: string, o: Parameters<Engine["history"]["list"]>[1]) => (asked.push(t), engine.history.list(t, o)) };
    // A page of one row: the next window looks dear, so the targets short of 8 runs after the first 8 days (all but rr-busy) are read on their own.
    const across = await newestRunsOf(counting, targets, 8, { columns: "public", now, rowsPerPage: 1 });
    expect(asked.sort()).toEqual(["rr-none", "rr-old", "rr-sparse", "rr-today"]);
    expect(across).toEqual(await Promise.all(targets.map((t) => engine.history.list(t, { limit: 8, columns: "public" }))));
  });
});
