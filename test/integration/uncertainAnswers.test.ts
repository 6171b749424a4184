import type { Engine } from "../../shared/engine";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { historyRows, startHarness, type Harness } from "../support/harness";

/** Answers the engine cannot take at face value: cut bodies, lost answers to a PUT that landed, odd statuses. */
let h: Harness;
let engine: Engine;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  engine = h.engine({ timeoutInMs: 150 });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.sim.setProfile(defaultLiveProfile());
  h.sim.clearFaults();
  h.sim.resetRequests();
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
