import type { Engine } from "../../shared/engine/engine";
import { withoutManaged } from "../../shared/model/diff";
import { getPath, type JsonObject } from "../../shared/core/json";
import type { RunResult } from "../../shared/model/runResult";
import { publicRecord } from "../../shared/stores";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { fixtureText, packageVersion } from "../support/fixtures";
import { historyRowOf, historyRows, startHarness, type Harness } from "../support/harness";

/** The desired state used throughout: two fields differ from the simulator's default profile. */
const DESIRED = { PurchaseOrderNumber: "PO-10001", PrimaryContact: { Email: "billing@contoso.example" } };
const IN_SYNC = { PurchaseOrderNumber: "9888", PrimaryContact: { Email: "avery.former@contoso.example" } };

let h: Harness;
let engine: Engine;
const results: RunResult[] = [];
let targetSeq = 0;

beforeAll(async () => {
  h = await startHarness();
  engine = h.engine();
});
afterAll(() => h.stop());

beforeEach(() => {
  h.resetSimulator();
  h.sim.configure({ staleEtagAnswer: 412, casing: "camel", bom: false });
  h.waits.length = 0;
});

/** A fresh target per test keeps history rows apart. */
async function run(doc: unknown, options: { dryRun?: boolean } = {}): Promise<RunResult> {
  const target = `t${++targetSeq}`;
  await h.setDesired(target, doc);
  const result = await engine.syncTarget({ target, trigger: "cli", dryRun: options.dryRun });
  results.push(result);
  return result;
}

const historyOf = (result: RunResult) => historyRowOf(h, result);

const putBodies = () => h.sim.requests.filter((r) => r.method === "PUT").map((r) => JSON.parse(r.body) as JsonObject);

describe("sync against the simulator and Azurite", () => {
  it("in sync: exactly 1 GET and 0 PUT", async () => {
    const result = await run(IN_SYNC);
    expect(result.outcome).toBe("in-sync");
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
    expect(await historyOf(result)).toMatchObject({ Outcome: "in-sync", PutMade: false, ChangedFields: "", Version: packageVersion() });
  });

  it("a correction's history row keeps the personal values it sent, unmasked, beside the profile before; public records drop both", async () => {
    const result = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    expect(await historyOf(result)).toMatchObject({ ValuesSent: JSON.stringify({ PrimaryContact_Email: "billing@contoso.example" }) });
    const [stored] = await engine.history.list(result.target, { limit: 1 });
    expect(stored.valuesSent).toEqual({ PrimaryContact_Email: "billing@contoso.example" });
    expect(stored.changes.find((c) => c.field === "PrimaryContact_Email")?.to).not.toContain("billing@contoso.example");
    expect(JSON.stringify(publicRecord(stored))).not.toContain("billing@contoso.example");
    const [listed] = await engine.history.list(result.target, { limit: 1, columns: "public" });
    expect(listed.valuesSent).toBeUndefined();
  });

  it("drift: 1 GET and 1 PUT whose body is the GET body with only the managed fields replaced", async () => {
    const before = h.sim.getProfile();
    const result = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 1]);
    const [put] = putBodies();
    expect(withoutManaged(put)).toEqual(withoutManaged(before));
    expect(put).toMatchObject({ billingDay: 5, profileType: "partner", purchaseOrderNumber: "PO-10001" });
    expect(Object.keys(put)).toEqual(Object.keys(before));
    expect(getPath(put, ["attributes", "etag"])).toBe(getPath(before, ["attributes", "etag"]));
    expect(result.changes).toEqual([
      { field: "PrimaryContact_Email", from: "a***@***", to: "b***@***" },
      { field: "PurchaseOrderNumber", from: "9888", to: "PO-10001" },
    ]);
    const row = await historyOf(result);
    expect(row).toMatchObject({ Outcome: "corrected", PutMade: true, ChangedFields: "PrimaryContact_Email,PurchaseOrderNumber" });
    expect(JSON.parse(row.ProfileBefore as string)).toEqual(before);
    expect(row.EtagBefore).toBe(getPath(before, ["attributes", "etag"]));
    expect(row.EtagAfter).toBe(getPath(h.sim.getProfile(), ["attributes", "etag"]));
    expect(row.Changes).not.toContain("billing@contoso.example");
  });

  it("a second sync after a correction makes no PUT", async () => {
    const target = `t${++targetSeq}`;
    await h.setDesired(target, DESIRED);
    await engine.syncTarget({ target, trigger: "cli" });
    h.sim.resetRequests();
    const again = await engine.syncTarget({ target, trigger: "cli" });
    results.push(again);
    expect(again.outcome).toBe("in-sync");
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("sends the Partner Center headers: one correlation id per run, one request id per request", async () => {
    const result = await run(DESIRED);
    const [get, put] = h.sim.requests;
    for (const r of [get, put]) {
      expect(r.headers).toMatchObject({
        authorization: "Bearer <valid>",
        accept: "application/json",
        "ms-correlationid": result.correlationId,
        "ms-contract-version": "v1",
        "x-locale": "en-US",
        "ms-partnercenter-application": "partner-billing-sync",
        // This build, as package.json names it (not axios's default user agent).
        "user-agent": `partner-billing-sync/${packageVersion()}`,
      });
    }
    expect(get.headers["ms-requestid"]).not.toBe(put.headers["ms-requestid"]);
    expect(result.requestIds).toEqual([get.headers["ms-requestid"], put.headers["ms-requestid"]]);
  });

  it.each([412, 409, 2055] as const)("a concurrent writer between GET and PUT (stale ETag answered %s): re-read, and the PUT keeps the other writer's change", async (answer) => {
    h.sim.configure({ staleEtagAnswer: answer });
    h.sim.inject({ method: "PUT", fault: { kind: "concurrentWrite", set: { "primaryContact.phoneNumber": "+1 206 555 0199", billingDay: 9 } } });
    const result = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    expect(h.sim.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", `PUT ${answer === 2055 ? 400 : answer}`, "GET 200", "PUT 200"]);
    const final = h.sim.getProfile();
    expect(getPath(final, ["primaryContact", "phoneNumber"])).toBe("+1 206 555 0199");
    // Numbers go round trips as written: the simulator keeps what the PUT carried, digit for digit.
    expect(String(final.billingDay)).toBe("9");
    expect(final.purchaseOrderNumber).toBe("PO-10001");
    const [, second] = putBodies();
    expect(getPath(second, ["primaryContact", "phoneNumber"])).toBe("+1 206 555 0199");
    expect(await historyOf(result)).toMatchObject({ Outcome: "corrected" });
  });

  it("a profile that keeps changing ends in conflict after 3 PUTs, with no fourth", async () => {
    h.sim.inject({ method: "PUT", times: 3, fault: { kind: "concurrentWrite", set: { billingDay: 7 } } });
    const result = await run(DESIRED);
    expect(result.outcome).toBe("conflict");
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([3, 3]);
    expect(result.error).toMatchObject({ code: "StaleEtag", status: 412 });
    expect(await historyOf(result)).toMatchObject({ Outcome: "conflict", ErrorCode: "StaleEtag" });
  });

  it("429 with Retry-After: waits what the service asked, then succeeds", async () => {
    h.sim.inject({ method: "GET", fault: { kind: "throttle", retryAfterSeconds: 30 } });
    const result = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    expect(h.waits).toEqual([30_000]);
    const gets = h.sim.requests.filter((r) => r.method === "GET");
    expect(gets.map((r) => r.status)).toEqual([429, 200]);
    expect(gets[0].headers["ms-requestid"]).toBe(gets[1].headers["ms-requestid"]);
    expect(await historyOf(result)).toMatchObject({ Outcome: "corrected" });
  });

  it("503 on the PUT: retried with backoff, the same request id", async () => {
    h.sim.inject({ method: "PUT", fault: { kind: "status", status: 503 } });
    const result = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    const puts = h.sim.requests.filter((r) => r.method === "PUT");
    expect(puts.map((r) => r.status)).toEqual([503, 200]);
    expect(new Set(puts.map((r) => r.headers["ms-requestid"])).size).toBe(1);
    expect(h.waits).toHaveLength(1);
    expect(await historyOf(result)).toMatchObject({ Outcome: "corrected" });
  });

  it("a reset connection is retried", async () => {
    h.sim.inject({ method: "GET", fault: { kind: "reset" } });
    const result = await run(IN_SYNC);
    expect(result.outcome).toBe("in-sync");
    expect(h.sim.count("GET")).toBe(2);
    expect(await historyOf(result)).toMatchObject({ Outcome: "in-sync" });
  });

  it("503 that never ends: failed after 4 attempts, with the status and request id", async () => {
    h.sim.inject({ method: "GET", times: 10, fault: { kind: "status", status: 503 } });
    const result = await run(DESIRED);
    expect(result.outcome).toBe("failed");
    expect(h.sim.count("GET")).toBe(4);
    expect(result.error).toMatchObject({ code: "ServiceUnavailable", status: 503, correlationId: result.correlationId, requestId: result.requestIds[0] });
    expect(await historyOf(result)).toMatchObject({ Outcome: "failed", ErrorStatus: 503 });
  });

  it("the seed's malformed body (\"BillingDay\":5;) ends the run failed, not retried, with no PUT", async () => {
    h.sim.inject({ method: "GET", fault: { kind: "malformed", body: fixtureText("seed-response-malformed.txt") } });
    const result = await run(DESIRED);
    expect(result.outcome).toBe("failed");
    expect(result.error).toMatchObject({ code: "ResponseParseError" });
    expect(result.error?.message).toMatch(/not valid JSON \(line 22/);
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
    expect(await historyOf(result)).toMatchObject({ Outcome: "failed", ErrorCode: "ResponseParseError", PutMade: false });
  });

  it("401: failed at once, without a retry storm", async () => {
    h.sim.inject({ method: "GET", times: 5, fault: { kind: "status", status: 401, body: JSON.stringify({ code: 900421, description: "MFA required" }) } });
    const result = await run(DESIRED);
    expect(result.outcome).toBe("failed");
    expect(h.sim.count()).toBe(1);
    expect(result.error).toMatchObject({ code: "Unauthorized", status: 401, serviceCode: "900421" });
    expect(result.error?.message).toMatch(/MFA is missing/);
    expect(await historyOf(result)).toMatchObject({ Outcome: "failed", ErrorCode: "Unauthorized", ErrorServiceCode: "900421" });
  });

  it.each([
    [{ PurchaseOrderNumbr: "1" }, /PurchaseOrderNumbr is not a known property/],
    [{ CompanyName: "Contoso" }, /CompanyName cannot be set by partners/],
    [{ PrimaryContact_Email: "nope" }, /PrimaryContact_Email is not a valid e-mail address/],
    [{ TaxId: "x".repeat(51) }, /TaxId is 51 characters long/],
  ])("an invalid desired row %j: invalid-desired, no call to Partner Center", async (entity, message) => {
    const target = `t${++targetSeq}`;
    await h.setDesiredEntity(target, entity);
    const result = await engine.syncTarget({ target, trigger: "cli" });
    results.push(result);
    expect(result.outcome).toBe("invalid-desired");
    expect(result.error?.message).toMatch(message);
    expect(h.sim.count()).toBe(0);
    expect(await historyOf(result)).toMatchObject({ Outcome: "invalid-desired", ErrorCode: "InvalidDesiredState" });
  });

  it("observe mode: drift reported, nothing written", async () => {
    const result = await run({ ...DESIRED, Mode: "observe" });
    expect(result.outcome).toBe("drift");
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
    expect(result.changes.map((c) => c.field)).toEqual(["PrimaryContact_Email", "PurchaseOrderNumber"]);
    expect(await historyOf(result)).toMatchObject({ Outcome: "drift", PutMade: false, DryRun: false });
  });

  it("dry run: drift reported, nothing written", async () => {
    const result = await run(DESIRED, { dryRun: true });
    expect(result.outcome).toBe("drift");
    expect(h.sim.count("PUT")).toBe(0);
    expect(await historyOf(result)).toMatchObject({ Outcome: "drift", DryRun: true });
  });

  it("suspended: no call at all", async () => {
    const result = await run({ ...DESIRED, Suspended: true });
    expect(result.outcome).toBe("suspended");
    expect(h.sim.count()).toBe(0);
    expect(await historyOf(result)).toMatchObject({ Outcome: "suspended" });
  });

  it("a PascalCase profile with a BOM is read, and written back in PascalCase", async () => {
    h.sim.configure({ casing: "pascal", bom: true });
    h.sim.setProfile(defaultLiveProfile());
    const result = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    const [put] = putBodies();
    expect(put).toHaveProperty("PurchaseOrderNumber", "PO-10001");
    expect(put).toHaveProperty("BillingDay", 5);
    expect(put).not.toHaveProperty("purchaseOrderNumber");
  });

  it("the token appears in no result, log line or history row", async () => {
    expect(results.length).toBeGreaterThan(10);
    const everything = [JSON.stringify(results), ...h.output, JSON.stringify(await historyRows(h))].join("\n");
    expect(everything).toContain(results[0].runId);
    expect(everything).not.toContain(h.token);
  });
});
