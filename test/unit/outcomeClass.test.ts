import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OUTCOME_CLASSES, OUTCOMES, type Outcome, type RunResult } from "../../shared/model";
import { needsPerson, STATUS_LISTS } from "../../shared/engine/attention";
import { OUTCOME_COLORS, STACK_ORDER, WORKBOOK_COLORS } from "../../cli/report/charts";
import { EXIT, planExitCode, syncExitCode } from "../../cli/main";
import { SUMMARY_ORDER } from "../../cli/views";

/**
 * Every consumer of outcomes decides each one: a new outcome added to OUTCOMES without a
 * colour, a telemetry classification, an exit-code class, a status rule or a line in the
 * docs' outcome table fails here (the typed tables fail the build first, where they can).
 */
const own = (table: object, outcome: Outcome) => Object.prototype.hasOwnProperty.call(table, outcome);

function run(outcome: Outcome): RunResult {
  return { runId: "r", target: "t", trigger: "cli", dryRun: false, outcome, changes: [], correlationId: "c", requestIds: [], durationMs: 1, error: null, recorded: true };
}

describe("every outcome is decided everywhere", () => {
  it.each(OUTCOMES)("%s has a report colour, a workbook colour and a place in the stacked bars", (outcome) => {
    expect(OUTCOME_COLORS[outcome]).toMatch(/^#[0-9a-f]{6}$/);
    expect(typeof WORKBOOK_COLORS[outcome]).toBe("string");
    expect(STACK_ORDER).toContain(outcome);
  });

  it.each(OUTCOMES)("%s has a telemetry classification and an exit-code class", (outcome) => {
    expect(own(OUTCOME_CLASSES, outcome)).toBe(true);
    const c = OUTCOME_CLASSES[outcome];
    expect(["info", "warn", "error"]).toContain(c.severity);
    expect(["ok", "attention", "later", "error"]).toContain(c.exit);
    // An alerted run is never a success, and only an alerted one is at error severity.
    if (c.failedSyncAlert) expect(c.success).toBe(false);
    expect(c.severity === "error").toBe(c.failedSyncAlert);
  });

  it.each(OUTCOMES)("%s has a status rule and a place in status's counts", (outcome) => {
    expect(own(STATUS_LISTS, outcome)).toBe(true);
    expect(SUMMARY_ORDER).toContain(outcome);
    // A target waiting on a person gets a command to run.
    if (STATUS_LISTS[outcome] === "needs-person") expect(needsPerson("t", { outcome, startedAt: "2026-01-01T00:00:00Z", runId: "r" })?.action).toMatch(/^billing-sync /);
  });

  it.each(OUTCOMES)("%s is a row of docs/how-it-works.md's outcome table", (outcome) => {
    const doc = readFileSync(join(__dirname, "..", "..", "docs", "how-it-works.md"), "utf8");
    expect(doc).toContain(`| \`${outcome}\` |`);
  });

  it("no two outcomes share a report colour", () => {
    const colours = OUTCOMES.map((o) => OUTCOME_COLORS[o]);
    expect(new Set(colours).size).toBe(colours.length);
  });
});

describe("exit codes by outcome (docs/operations.md's exit-code column)", () => {
  it("sync: 0 done, 2 needs a decision (drift kept, held, gone), 3 try later (in progress, deferred), 1 error (uncertain and interrupted included)", () => {
    const codes = Object.fromEntries(OUTCOMES.map((o) => [o, syncExitCode([run(o)])]));
    expect(codes).toEqual({
      "in-sync": EXIT.ok,
      corrected: EXIT.ok,
      suspended: EXIT.ok,
      drift: EXIT.drift,
      held: EXIT.drift,
      gone: EXIT.drift,
      "in-progress": EXIT.inProgress,
      deferred: EXIT.inProgress,
      failed: EXIT.error,
      conflict: EXIT.error,
      "invalid-desired": EXIT.error,
      "not-converged": EXIT.error,
      uncertain: EXIT.error,
      interrupted: EXIT.error,
    });
  });

  it("plan: the same, except that a run not made (in progress, deferred) is an error", () => {
    for (const outcome of OUTCOMES) {
      const sync = syncExitCode([run(outcome)]);
      expect({ outcome, plan: planExitCode([run(outcome)]) }).toEqual({ outcome, plan: sync === EXIT.inProgress ? EXIT.error : sync });
    }
  });

  it("the worst run decides a sweep's exit code: an error outranks a busy target, which outranks drift", () => {
    expect(syncExitCode([run("in-sync"), run("gone"), run("interrupted")])).toBe(EXIT.error);
    expect(syncExitCode([run("held"), run("deferred")])).toBe(EXIT.inProgress);
    expect(syncExitCode([run("corrected"), run("held")])).toBe(EXIT.drift);
    expect(syncExitCode([{ ...run("in-sync"), recorded: false }])).toBe(EXIT.error);
  });
});

describe("needsPerson: what status tells a person to run", () => {
  const at = "2026-01-01T00:00:00Z";
  it("held by the sweep's PUT limit: approve, naming the sweep", () => {
    expect(needsPerson("acme", { outcome: "held", heldReason: "sweep-limit", sweepId: "s-1", startedAt: at, runId: "r1" })).toMatchObject({ outcome: "held", action: "billing-sync approve --target acme (or --sweep s-1)" });
  });

  it("held by an edit outside billing-sync: desired accept", () => {
    expect(needsPerson("acme", { outcome: "held", heldReason: "out-of-band", startedAt: at, runId: "r1" })?.action).toBe("billing-sync desired accept --target acme --reason <why>");
  });

  it("uncertain, unsettled: sync to settle it, restore to undo it; settled: nothing", () => {
    expect(needsPerson("acme", { outcome: "uncertain", startedAt: at, runId: "r1" })?.action).toContain("billing-sync restore --run r1");
    expect(needsPerson("acme", { outcome: "uncertain", startedAt: at, runId: "r1", resolvedBy: "r2" })).toBeUndefined();
  });

  it("interrupted: sync again; with a PUT pending, restore is offered too", () => {
    expect(needsPerson("acme", { outcome: "interrupted", startedAt: at, runId: "r1" })?.action).toBe("billing-sync sync --target acme");
    expect(needsPerson("acme", { outcome: "interrupted", putPending: true, startedAt: at, runId: "r1" })?.action).toContain("billing-sync restore --run r1");
  });

  it("lists nothing for outcomes that go on by themselves or have their own list", () => {
    for (const outcome of ["in-sync", "corrected", "drift", "deferred", "failed", "gone", "not-converged"] as const) expect(needsPerson("acme", { outcome, startedAt: at, runId: "r1" })).toBeUndefined();
  });
});
