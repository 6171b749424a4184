import { runCli } from "../../cli/main";
import type { Engine } from "../../shared/engine/engine";
import type { HistoryRecord } from "../../shared/stores";
import { startHarness, type Harness } from "../support/harness";

/**
 * Status lists the targets whose latest run waits on a person (held, uncertain, interrupted)
 * with the command that moves each on, from history rows in Azurite; a row that wrote
 * "PUT about to go out" and holds no lease any more counts as interrupted.
 */
let h: Harness;
let engine: Engine;

const row = (target: string, outcome: HistoryRecord["outcome"], minute: number, extra: Partial<HistoryRecord> = {}): HistoryRecord => ({
  runId: `run-${target}`,
  target,
  trigger: "timer",
  dryRun: false,
  outcome,
  putMade: false,
  changedFields: ["PurchaseOrderNumber"],
  changes: [],
  correlationId: `corr-${target}`,
  requestIds: ["get-1"],
  error: null,
  startedAt: `2026-05-01T10:${String(minute).padStart(2, "0")}:00.000Z`,
  durationMs: 10,
  ...extra,
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: () => {}, env: h.env });
  return { code, stdout };
}

beforeAll(async () => {
  h = await startHarness({ customers: 0 });
  h.useProcessEnv();
  engine = h.engine();
  const rows = [
    row("held-limit", "held", 1, { heldReason: "sweep-limit", sweepId: "sweep-1" }),
    row("held-outside", "held", 2, { heldReason: "out-of-band" }),
    row("unsure", "uncertain", 3, { putPending: undefined }),
    row("settled", "uncertain", 4, { resolvedBy: "run-later" }),
    row("stopped", "interrupted", 5, { error: { code: "Interrupted", message: "stopped (SIGTERM)" } }),
    row("died", "in-progress", 6, { putPending: true }),
    row("fine", "in-sync", 7),
  ];
  for (const r of rows) {
    await h.setDesired(r.target, { PurchaseOrderNumber: "9888" });
    await engine.history.add(r);
  }
});
afterAll(() => h.stop());

describe("status: targets that need a person", () => {
  it("lists held, uncertain and interrupted targets, newest first, each with its command", async () => {
    const { code, stdout } = await cli("status", "--json");
    expect(code).toBe(0);
    const { summary } = JSON.parse(stdout);
    expect(summary.needsPerson.map((n: { target: string; outcome: string; action: string }) => [n.target, n.outcome, n.action])).toEqual([
      ["died", "interrupted", "billing-sync sync --target died; billing-sync restore --run run-died undoes the PUT if it landed"],
      ["stopped", "interrupted", "billing-sync sync --target stopped"],
      ["unsure", "uncertain", "billing-sync sync --target unsure (reads and records whether it landed); billing-sync restore --run run-unsure undoes it"],
      ["held-outside", "held", "billing-sync desired accept --target held-outside --reason <why>"],
      ["held-limit", "held", "billing-sync approve --target held-limit (or --sweep sweep-1)"],
    ]);
    expect(summary.failed).toEqual([]);
  });

  it("prints them under NEEDS A PERSON", async () => {
    const { stdout } = await cli("status");
    expect(stdout).toContain("NEEDS A PERSON (5):\n  died: interrupted at 2026-05-01T10:06:00.000Z: stopped while a PUT was out without an answer;");
    expect(stdout).not.toMatch(/ {2}(fine|settled): /);
  });
});
