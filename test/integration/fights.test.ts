import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import type { Engine } from "../../shared/engine/engine";
import type { RunResult } from "../../shared/model/runResult";
import { historyRowOf, startHarness, type Harness } from "../support/harness";

/**
 * Fights are fights (issue 19, item 7): a correction that follows a change of the desired
 * state is that change taking effect, not someone reverting us. Each history row keeps the
 * hash of the desired value it enforced per field; only corrections against one unchanged
 * desired value are counted. The change is seen from the data a run has, so an edit made
 * outside billing-sync counts as one too. Azurite and the simulator; the CLI as an operator runs it.
 */
let h: Harness;
let engine: Engine;
let dir: string;
let customer: string;
let target: string;

async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = "";
  const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: () => {}, env: h.env });
  return { code, stdout };
}

async function desiredSet(firstName: string): Promise<void> {
  const file = join(dir, `desired-${firstName}.json`);
  writeFileSync(file, JSON.stringify({ CustomerId: customer, FirstName: firstName }));
  expect((await cli("desired", "set", "--file", file, "--target", target, "--no-check")).code).toBe(0);
}

/** Someone else puts the first name back at Partner Center; our sync corrects it. */
async function revertedAndCorrected(): Promise<RunResult> {
  h.sim.customers().write(0, { firstName: "Reverted" });
  const run = await engine.syncTarget({ target, trigger: "timer" });
  expect(run.outcome).toBe("corrected");
  return run;
}

beforeAll(async () => {
  h = await startHarness({ customers: 1 });
  engine = h.engine();
  dir = mkdtempSync(join(tmpdir(), "fights-"));
  customer = h.sim.customers().id(0);
  target = `customer-${customer}`;
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await h.stop();
});

describe("fights are fights", () => {
  let firstOfB: RunResult;

  it("`desired set` and the correction that follows are not counted as a fight", async () => {
    await desiredSet("Avery");
    expect((await engine.syncTarget({ target, trigger: "cli" })).outcome).toBe("corrected");
    await revertedAndCorrected();
    // Two corrections against Avery; the operator now changes the desired value.
    await desiredSet("Blake");
    firstOfB = await engine.syncTarget({ target, trigger: "cli" });
    expect(firstOfB.outcome).toBe("corrected");
    expect(firstOfB.contested).toBeUndefined();
    expect((await engine.targetStatus(target)).contested).toEqual([]);
    // The row keeps what it enforced, as a hash, and never shows it.
    expect(typeof (await historyRowOf(h, firstOfB)).DesiredHashes).toBe("string");
    expect((await cli("history", "--target", target, "--json")).stdout).not.toContain("desiredHashes");
  });

  it("a live value that keeps coming back against the unchanged desired value still is contested", async () => {
    await revertedAndCorrected();
    const third = await revertedAndCorrected();
    expect(third.contested).toEqual([{ field: "FirstName", count: 3, since: expect.any(String) }]);
    expect((await engine.targetStatus(target)).contested.map((c) => c.field)).toEqual(["FirstName"]);
  });

  it("`restore --apply` and its correction are not contested", async () => {
    // Undo the first correction to Blake: the desired value goes back to what it replaced (Avery).
    const restored = await cli("restore", "--run", firstOfB.runId, "--target", target, "--apply", "--json");
    expect(restored.code).toBe(0);
    const { run } = JSON.parse(restored.stdout) as { run: RunResult };
    expect(run.outcome).toBe("corrected");
    expect(run.contested).toBeUndefined();
    expect(h.sim.customers().profile(0).firstName).toBe("Avery");
  });

  it("an edit of the desired row made outside billing-sync counts as a change of the desired state too", async () => {
    await revertedAndCorrected();
    // Straight into the table, as Storage Explorer would.
    await h.setDesired(target, { CustomerId: customer, FirstName: "Casey" });
    const run = await engine.syncTarget({ target, trigger: "timer" });
    expect(run).toMatchObject({ outcome: "corrected" });
    expect(run.contested).toBeUndefined();
  });
});
