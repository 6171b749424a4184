import type { Engine } from "../../shared/engine/engine";
import { planRestore } from "../../shared/engine/undo";
import { historyRows, startHarness, type Harness } from "../support/harness";

/** Answers the engine cannot take at face value: cut bodies, lost answers to a PUT that landed, odd statuses. */
let h: Harness;
let engine: Engine;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  // Short enough that a "timeout" case is quick, long enough that a loaded machine does not make one.
  engine = h.engine({ timeoutInMs: 400 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.resetSimulator();
});

async function sync() {
  const target = `ua${++seq}`;
  await h.setDesired(target, { PurchaseOrderNumber: "PO-UA" });
  const result = await engine.syncTarget({ target, trigger: "cli" });
  const rows = (await historyRows(h, target)).filter((r) => r.RunId === result.runId);
  expect(rows).toHaveLength(1);
  return { target, result, row: rows[0] };
}

describe("answers that cannot be taken at face value", () => {
  it("a body cut off by a dropped connection is retried like a reset, and named plainly when it never arrives whole", async () => {
    h.sim.inject({ method: "GET", fault: { kind: "truncated" } });
    expect((await sync()).result.outcome).toBe("corrected");
    expect(h.sim.count("GET")).toBe(2);

    h.sim.resetRequests();
    h.sim.inject({ method: "GET", times: 10, fault: { kind: "truncated" } });
    const { result } = await sync();
    expect(result).toMatchObject({ outcome: "failed", error: { code: "NetworkError" } });
    expect(result.error?.message).toMatch(/the connection closed before the whole body arrived \(ERR_RESPONSE_ABORTED\)/);
    expect(h.sim.count("GET")).toBe(4);
  });

  it.each([
    ["a reset", { kind: "reset" }],
    ["a 504", { kind: "status", status: 504 }],
    ["a timeout", { kind: "timeout" }],
  ] as const)("a PUT that landed but whose answer was lost to %s is recorded as the correction it was, and can be undone", async (_label, fault) => {
    h.sim.inject({ method: "PUT", afterApply: true, fault });
    const { target, result, row } = await sync();
    expect(result.outcome).toBe("corrected");
    expect(h.sim.requests.map((r) => r.method)).toEqual(["GET", "PUT", "PUT", "GET"]);
    const firstPut = h.sim.requests[1].headers["ms-requestid"];
    expect(row).toMatchObject({ Outcome: "corrected", PutMade: true, PutRequestId: firstPut, ChangedFields: "PurchaseOrderNumber" });
    expect(JSON.parse(String(row.ProfileBefore))).toMatchObject({ purchaseOrderNumber: "9888" });
    const restore = await planRestore(engine, result.runId, target);
    expect(restore.desiredChanges).toEqual([{ field: "PurchaseOrderNumber", from: "PO-UA", to: "9888" }]);
  });

  it.each([
    [412, undefined],
    [409, undefined],
    [400, JSON.stringify({ code: 2055, description: "Etag is no longer valid" })],
  ])("a stale-ETag status (%s) answered to a GET, which sends no ETag, fails the run instead of reporting a conflict", async (status, body) => {
    h.sim.inject({ method: "GET", times: 10, fault: { kind: "status", status, body } });
    const { result, row } = await sync();
    expect(result).toMatchObject({ outcome: "failed", error: { code: "PartnerCenterError", status } });
    expect(row).toMatchObject({ Outcome: "failed", ErrorCode: "PartnerCenterError" });
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
  });
});
