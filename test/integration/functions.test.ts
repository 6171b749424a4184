import { HttpRequest, InvocationContext, type Timer } from "@azure/functions";
import { billingProfileSyncTimer } from "../../functions/billingProfileSyncTimer";
import { statusHttp } from "../../functions/statusHttp";
import { syncHttp } from "../../functions/syncHttp";
import { historyRows, startHarness, type Harness } from "../support/harness";
import { packageVersion } from "../support/fixtures";

// The Functions host cannot run here: the exported handlers are called the way the host
// calls them, with the library's own InvocationContext and HttpRequest.
let h: Harness;
const logged: string[] = [];
const responses: unknown[] = [];

function context(name: string): InvocationContext {
  return new InvocationContext({ functionName: name, invocationId: `inv-${name}`, logHandler: (level, ...args) => logged.push(`${level} ${args.map(String).join(" ")}`) });
}

function post(body: string | undefined, contentType = "application/json"): HttpRequest {
  return new HttpRequest({
    method: "POST",
    url: "http://localhost:7071/api/sync",
    headers: body === undefined ? {} : { "content-type": contentType },
    body: body === undefined ? undefined : { string: body },
  });
}

async function sync(body?: unknown, contentType?: string) {
  const response = await syncHttp(post(body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body), contentType), context("sync"));
  responses.push(response);
  return response as { status: number; jsonBody: Record<string, unknown> };
}

const timer = { isPastDue: false, scheduleStatus: { last: "", next: "", lastUpdated: "" } } as Timer;

beforeAll(async () => {
  h = await startHarness();
  h.useProcessEnv();
  await h.setDesired("default", { PurchaseOrderNumber: "PO-HTTP", PrimaryContact: { Email: "billing@contoso.example" } });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.resetSimulator();
});

describe("POST /api/sync", () => {
  it("dry run of one target: 200 with the run result, no PUT", async () => {
    const res = await sync({ target: "default", dryRun: true });
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({ target: "default", trigger: "http", dryRun: true, outcome: "drift", error: null });
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
  });

  it("sync of one target corrects it: 1 GET, 1 PUT, history row with trigger http", async () => {
    const res = await sync({ target: "default" });
    expect(res.jsonBody).toMatchObject({ outcome: "corrected" });
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 1]);
    const row = (await historyRows(h, "default")).find((r) => r.RunId === res.jsonBody.runId);
    expect(row).toMatchObject({ Trigger: "http", Outcome: "corrected" });
  });

  it("no body syncs every target and answers {runs}", async () => {
    // Both targets reach the one simulated account here, so the second owns a field the first does not.
    await h.setDesired("second", { Address: { City: "Redmond" } });
    const res = await sync(undefined);
    expect(res.status).toBe(200);
    const runs = res.jsonBody.runs as { target: string; outcome: string }[];
    expect(runs.map((r) => [r.target, r.outcome])).toEqual([
      ["default", "corrected"],
      ["second", "in-sync"],
    ]);
  });

  it.each([
    ["invalid JSON", "{ not json", "application/json", 400, /not valid JSON/],
    ["a JSON string", '"default"', "application/json", 400, /must be a JSON object/],
    ["an unknown field", '{"target":"default","force":true}', "application/json", 400, /Unknown field "force"; allowed: target, dryRun/],
    ["dryRun not a boolean", '{"dryRun":"yes"}', "application/json", 400, /dryRun must be true or false/],
    ["a target crafted for an OData filter", '{"target":"x\' or PartitionKey ne \'"}', "application/json", 400, /is not allowed/],
    ["the wrong content type", '{"target":"default"}', "text/plain", 415, /application\/json/],
    ["an oversized body", JSON.stringify({ target: "x".repeat(5000) }), "application/json", 413, /larger than 4096 bytes/],
  ])("%s: 4xx with a message, nothing called", async (_label, body, type, status, message) => {
    const res = await sync(body, type);
    expect(res.status).toBe(status);
    expect((res.jsonBody.error as { message: string }).message).toMatch(message);
    expect(h.sim.count()).toBe(0);
  });

  it("an unknown target: 404", async () => {
    const res = await sync({ target: "nobody" });
    expect(res.status).toBe(404);
    expect(res.jsonBody).toEqual({ error: { code: "TargetNotFound", message: 'Target "nobody" has no desired-state row.' } });
  });
});

describe("GET /api/status", () => {
  it("returns the latest record of each target, without the stored profile", async () => {
    const res = (await statusHttp(new HttpRequest({ method: "GET", url: "http://localhost:7071/api/status" }), context("status"))) as {
      status: number;
      jsonBody: { version: string; targets: { target: string; lastRun: Record<string, unknown> }[] };
    };
    responses.push(res);
    expect(res.status).toBe(200);
    const byTarget = Object.fromEntries(res.jsonBody.targets.map((t) => [t.target, t.lastRun]));
    expect(byTarget.default).toMatchObject({ outcome: "corrected", trigger: "http" });
    expect(byTarget.default).not.toHaveProperty("profileBefore");
    expect(byTarget.default).not.toHaveProperty("valuesSent");
    // Which build is deployed, from the API itself.
    expect(res.jsonBody.version).toBe(packageVersion());
    expect(JSON.stringify(res)).not.toContain("avery.former@contoso.example");
  });
});

describe("billingProfileSyncTimer", () => {
  it("syncs every target with trigger timer", async () => {
    h.sim.write({ purchaseOrderNumber: "HAND-EDIT" });
    await billingProfileSyncTimer(timer, context("billingProfileSyncTimer"));
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-HTTP");
    const rows = await historyRows(h);
    expect(rows.filter((r) => r.Trigger === "timer").map((r) => r.partitionKey).sort()).toEqual(["default", "second"]);
  });

  it("fails the invocation, naming the target and correlation id, when a target failed; the others still ran", async () => {
    h.sim.inject({ method: "GET", fault: { kind: "status", status: 401 } });
    await expect(billingProfileSyncTimer(timer, context("billingProfileSyncTimer"))).rejects.toThrow(/Billing profile sync failed for (default|second) \(Unauthorized, correlation id [0-9a-f-]{36}\)/);
    expect(h.sim.count("GET")).toBe(2);
  });

  it("a bad setting fails the invocation with the setting's name", async () => {
    process.env.PARTNER_CENTER_CLOUD = "germany";
    try {
      await expect(billingProfileSyncTimer(timer, context("billingProfileSyncTimer"))).rejects.toThrow(/PARTNER_CENTER_CLOUD/);
      const res = await sync({ target: "default" });
      expect(res.status).toBe(500);
      expect((res.jsonBody.error as { message: string }).message).toMatch(/PARTNER_CENTER_CLOUD/);
    } finally {
      delete process.env.PARTNER_CENTER_CLOUD;
    }
  });
});

describe("secrets", () => {
  it("the token appears in no response, invocation log or history row", async () => {
    const everything = [JSON.stringify(responses), ...logged, JSON.stringify(await historyRows(h))].join("\n");
    expect(logged.length).toBeGreaterThan(3);
    expect(everything).not.toContain(h.token);
  });
});
