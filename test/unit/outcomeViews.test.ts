import type { StatusSummary } from "../../shared/engine";
import type { Outcome, RunResult } from "../../shared/model";
import { renderRun, renderSummary } from "../../cli/views";

/** What a person reads for each day-2 outcome: what happened and the command that moves it on. */
function run(outcome: Outcome, extra: Partial<RunResult> = {}): RunResult {
  return { runId: "run-7", target: "acme", trigger: "cli", dryRun: false, outcome, changes: [{ field: "PurchaseOrderNumber", from: "1", to: "2" }], correlationId: "corr", requestIds: ["get-1"], durationMs: 5, error: null, recorded: true, ...extra };
}

describe("renderRun of the day-2 outcomes", () => {
  it("held by the sweep limit names approve; held out of band names desired accept", () => {
    expect(renderRun(run("held", { heldReason: "sweep-limit", sweepId: "s-1" }), { color: false })).toContain("`billing-sync approve --sweep s-1` (or --target acme)");
    expect(renderRun(run("held", { heldReason: "out-of-band" }), { color: false })).toContain("`billing-sync desired accept --target acme --reason <why>`");
  });

  it("uncertain says the PUT may have landed, offers restore, and shows the error", () => {
    const text = renderRun(run("uncertain", { error: { code: "NetworkError", message: "socket hang up", status: 502, requestId: "put-1" } }), { color: false });
    expect(text).toContain("it may have landed");
    expect(text).toContain("`billing-sync restore --run run-7`");
    expect(text).toContain("NetworkError: socket hang up");
    expect(text).toContain("HTTP 502, MS-RequestId put-1");
  });

  it("interrupted says it stopped and shows why", () => {
    const text = renderRun(run("interrupted", { error: { code: "Interrupted", message: "The run was stopped (SIGINT) before it finished." } }), { color: false });
    expect(text).toMatch(/Interrupted before it ended/);
    expect(text).toContain("Interrupted: The run was stopped (SIGINT)");
  });

  it("deferred says when it runs again", () => {
    expect(renderRun(run("deferred", { changes: [], retryAfterInMs: 12_500 }), { color: false })).toContain("queued again in 13 s");
  });
});

describe("renderSummary", () => {
  const summary: StatusSummary = {
    targets: 3,
    byKind: { "customer-billing-profile": 3 },
    byOutcome: { interrupted: 1, held: 1, "in-sync": 1 },
    observe: 0,
    suspended: 0,
    runningNow: 0,
    failed: [],
    contested: [],
    notConverged: [],
    gone: [],
    needsPerson: [{ target: "acme", outcome: "held", at: "2026-05-01T00:00:00Z", runId: "r1", why: "sweep s-1 reached its PUT limit", action: "billing-sync approve --target acme (or --sweep s-1)" }],
    poison: 0,
  };

  it("counts in its order and lists the targets that need a person with their command", () => {
    const text = renderSummary(summary);
    expect(text).toContain("Latest runs: in-sync 1, held 1, interrupted 1\n");
    expect(text).toContain("NEEDS A PERSON (1):\n  acme: held at 2026-05-01T00:00:00Z: sweep s-1 reached its PUT limit; billing-sync approve --target acme (or --sweep s-1)\n");
  });
});
