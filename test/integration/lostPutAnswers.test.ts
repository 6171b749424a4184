import { runCli } from "../../cli/main";
import { applyDesiredEdit, planRestore } from "../../shared/engine/undo";
import { fastRetry, historyRowOf, historyRows, startHarness, type Harness } from "../support/harness";

/**
 * A PUT that lands and whose answer is lost: the simulator applies the update, then drops
 * the connection (or never answers). The record must say the PUT may have landed, keep the
 * profile before it, and let `restore` undo it; the next run settles what really happened.
 */
let h: Harness;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());
beforeEach(() => h.resetSimulator());

const po = () => String(h.sim.getProfile().purchaseOrderNumber);

describe("a PUT whose answer was lost", () => {
  it("then a 429 with Retry-After: 300 on the retry ends `uncertain` with the profile before kept; the next run settles it and restore undoes it", async () => {
    const target = `lost${++seq}`;
    await h.setDesired(target, { PurchaseOrderNumber: "PO-NEW" });
    h.sim.inject({ method: "PUT", afterApply: true, fault: { kind: "reset" } });
    h.sim.inject({ method: "PUT", fault: { kind: "throttle", retryAfterSeconds: 300 } });
    // An engine of its own: the 429 pauses its account's calls for 300 s.
    const first = await h.engine().syncTarget({ target, trigger: "cli" });
    expect(first).toMatchObject({ outcome: "uncertain", error: { code: "Throttled" } });
    expect(po()).toBe("PO-NEW");
    const row = await historyRowOf(h, { target, runId: first.runId });
    expect(row).toMatchObject({ Outcome: "uncertain", PutMade: false, ChangedFields: "PurchaseOrderNumber" });
    expect(JSON.parse(String(row?.ProfileBefore))).toMatchObject({ purchaseOrderNumber: "9888" });
    // Restorable before anyone settles it: the PUT may have landed.
    const engine = h.engine();
    expect((await planRestore(engine, first.runId, target)).desiredChanges).toEqual([{ field: "PurchaseOrderNumber", from: "PO-NEW", to: "9888" }]);

    // The next run reads the live profile: in sync, because of the lost PUT. It says so in the uncertain run's row.
    const next = await engine.syncTarget({ target, trigger: "cli" });
    expect(next.outcome).toBe("in-sync");
    expect(next.warnings?.join(" ")).toMatch(new RegExp(`Run ${first.runId} ended uncertain .* the change is there`));
    expect(await historyRowOf(h, { target, runId: first.runId })).toMatchObject({ Outcome: "uncertain", PutMade: true, ResolvedBy: next.runId });

    // restore --run: the desired row goes back to the old value, and a sync puts it back live.
    const edit = await planRestore(engine, first.runId, target);
    expect(edit.desiredChanges).toEqual([{ field: "PurchaseOrderNumber", from: "PO-NEW", to: "9888" }]);
    await applyDesiredEdit(engine, edit);
    expect((await engine.syncTarget({ target, trigger: "cli" })).outcome).toBe("corrected");
    expect(po()).toBe("9888");
  });

  it("a lost PUT that did not land is settled as such: the next run corrects, and the uncertain row says PutMade false", async () => {
    const target = `lost${++seq}`;
    await h.setDesired(target, { PurchaseOrderNumber: "PO-NEW" });
    // Not applied: a plain reset, then the long 429.
    h.sim.inject({ method: "PUT", fault: { kind: "reset" } });
    h.sim.inject({ method: "PUT", fault: { kind: "throttle", retryAfterSeconds: 300 } });
    const first = await h.engine().syncTarget({ target, trigger: "cli" });
    expect(first.outcome).toBe("uncertain");
    expect(po()).toBe("9888");
    const next = await h.engine().syncTarget({ target, trigger: "cli" });
    expect(next.outcome).toBe("corrected");
    expect(await historyRowOf(h, { target, runId: first.runId })).toMatchObject({ Outcome: "uncertain", PutMade: false, ResolvedBy: next.runId });
    await expect(planRestore(h.engine(), first.runId, target)).rejects.toThrow(/made no change/);
  });

  it("a run stopped by its timeout while the PUT is unanswered ends `uncertain`, not failed with no PUT", async () => {
    const target = `lost${++seq}`;
    await h.setDesired(target, { PurchaseOrderNumber: "PO-NEW" });
    h.sim.inject({ method: "PUT", afterApply: true, fault: { kind: "timeout" } });
    const run = await h.engine({ runTimeoutInMs: 1_500, timeoutInMs: 10_000 }).syncTarget({ target, trigger: "cli" });
    expect(run).toMatchObject({ outcome: "uncertain", error: { code: "Aborted" } });
    const row = await historyRowOf(h, { target, runId: run.runId });
    expect(row).toMatchObject({ Outcome: "uncertain" });
    expect(row.PutPending).toBeUndefined();
    expect(JSON.parse(String(row?.ProfileBefore))).toMatchObject({ purchaseOrderNumber: "9888" });
  });

  it("a stale-ETag re-plan after a lost answer records both changes, and keeps the profile from before the first PUT", async () => {
    const target = `lost${++seq}`;
    await h.setDesiredEntity(target, { PurchaseOrderNumber: "PO-NEW", PrimaryContact_FirstName: "Robin" });
    // Our PUT lands (PO and first name), its answer is lost; another writer then changes the first name: the retry meets 412.
    h.sim.inject({ method: "PUT", afterApply: true, fault: { kind: "reset" } });
    h.sim.inject({ method: "PUT", fault: { kind: "concurrentWrite", set: { "primaryContact.firstName": "Other" } } });
    const run = await h.engine().syncTarget({ target, trigger: "cli" });
    expect(run.outcome).toBe("corrected");
    expect(run.changes.map((c) => c.field).sort()).toEqual(["PrimaryContact_FirstName", "PurchaseOrderNumber"]);
    expect([po(), (h.sim.getProfile().primaryContact as { firstName: string }).firstName]).toEqual(["PO-NEW", "Robin"]);
    const [row] = (await historyRows(h, target)).filter((r) => r.RunId === run.runId);
    expect(row).toMatchObject({ Outcome: "corrected", PutMade: true });
    expect(JSON.parse(String(row.ProfileBefore))).toMatchObject({ purchaseOrderNumber: "9888", primaryContact: { firstName: "Avery" } });
    const edit = await planRestore(h.engine(), run.runId, target);
    expect(edit.desiredChanges).toEqual(
      expect.arrayContaining([
        { field: "PurchaseOrderNumber", from: "PO-NEW", to: "9888" },
        expect.objectContaining({ field: "PrimaryContact_FirstName" }),
      ]),
    );
  });
});

describe("the CLI, for an operator", () => {
  async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
    let stdout = "";
    const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: () => undefined, env: h.env, engineOptions: { retry: fastRetry(h.waits) } });
    return { code, stdout };
  }

  it("sync exits 1 with `uncertain`; restore --run --apply undoes the change whose answer was lost", async () => {
    const target = `lost${++seq}`;
    await h.setDesired(target, { PurchaseOrderNumber: "PO-CLI" });
    h.sim.inject({ method: "PUT", afterApply: true, fault: { kind: "reset" } });
    h.sim.inject({ method: "PUT", fault: { kind: "throttle", retryAfterSeconds: 300 } });
    const sync = await cli("sync", "--target", target, "--json");
    expect(sync.code).toBe(1);
    const run = JSON.parse(sync.stdout) as { runId: string; outcome: string };
    expect(run.outcome).toBe("uncertain");
    expect(po()).toBe("PO-CLI");
    const restore = await cli("restore", "--run", run.runId, "--target", target, "--apply");
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/PurchaseOrderNumber/);
    expect(po()).toBe("9888");
  });
});
