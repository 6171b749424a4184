import type { Engine } from "../../shared/engine/engine";
import { withoutManaged } from "../../shared/model/diff";
import { customerBillingProfile } from "../../shared/model/resources/customerBillingProfile";
import { getPath, type JsonObject } from "../../shared/core/json";
import type { RunResult } from "../../shared/model/runResult";
import { historyRowOf, startHarness, type Harness } from "../support/harness";

/**
 * Customer billing profiles end to end: a desired row with a CustomerId, the simulator
 * holding customers (GET/PUT /v1/customers/{id}/profiles/billing) and Azurite.
 */
let h: Harness;
let engine: Engine;
let seq = 0;

beforeAll(async () => {
  h = await startHarness({ customers: 20 });
  engine = h.engine();
});
afterAll(() => h.stop());

beforeEach(() => {
  h.resetSimulator();
  h.sim.configure({ staleEtagAnswer: 412 });
});

/** A fresh customer per test (the simulator's customers are not reset between tests). */
function nextCustomer(): { index: number; id: string; target: string } {
  const index = ++seq;
  const id = h.sim.customers().id(index);
  return { index, id, target: `customer-${id}` };
}

const DESIRED = { FirstName: "Robin", Email: "ap@fabrikam.example", DefaultAddress: { City: "Seattle" } };

async function run(doc: object, options: { dryRun?: boolean } = {}): Promise<{ result: RunResult; customer: ReturnType<typeof nextCustomer> }> {
  const customer = nextCustomer();
  await h.setDesired(customer.target, { CustomerId: customer.id, ...doc });
  const result = await engine.syncTarget({ target: customer.target, trigger: "cli", dryRun: options.dryRun });
  return { result, customer };
}

const requestsTo = (id: string) => h.sim.requests.filter((r) => r.path === `/v1/customers/${id}/profiles/billing`);

describe("customer billing profiles against the simulator and Azurite", () => {
  it("drift: one GET and one PUT to the customer's profile; only the managed fields change; ETag in the body and quoted in If-Match", async () => {
    const customer = nextCustomer();
    const before = h.sim.customers().profile(customer.index);
    await h.setDesired(customer.target, { CustomerId: customer.id, ...DESIRED });
    const result = await engine.syncTarget({ target: customer.target, trigger: "cli" });
    expect(result.outcome).toBe("corrected");
    expect(result.resource).toEqual({ kind: "customer-billing-profile", customerTenantId: customer.id });
    const calls = requestsTo(customer.id);
    expect(calls.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", "PUT 200"]);
    expect(h.sim.count(undefined, undefined, "profile")).toBe(2);
    // The city changes: the rules of the customer's country and the address validation were asked first, as for the partner profile.
    expect(h.sim.requests.filter((r) => r.endpoint === "countryRules" || r.endpoint === "addressValidation").map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /v1/countryvalidationrules/US",
      "POST /v1/validations/address",
    ]);
    const put = JSON.parse(calls[1].body) as JsonObject;
    const etag = getPath(before, ["attributes", "etag"]) as string;
    expect(getPath(put, ["attributes", "etag"])).toBe(etag);
    expect(calls[1].headers["if-match"]).toBe(`"${etag}"`);
    expect(calls[0].headers["if-match"]).toBeUndefined();
    expect(withoutManaged(put, { kind: customerBillingProfile })).toEqual(withoutManaged(before, { kind: customerBillingProfile }));
    expect(put).toMatchObject({ firstName: "Robin", email: "ap@fabrikam.example", defaultAddress: { city: "Seattle", country: "US" } });
    expect(result.changes).toEqual([
      { field: "DefaultAddress_City", from: "Redmond", to: "Seattle" },
      { field: "Email", from: "b***@***", to: "a***@***" },
      { field: "FirstName", from: "F***", to: "R***" },
    ]);
    const row = await historyRowOf(h, result);
    expect(row).toMatchObject({ Outcome: "corrected", PutMade: true, ResourceKind: "customer-billing-profile", ResourceId: customer.id });
    expect(JSON.parse(row.ProfileBefore as string)).toEqual(before);
    expect(row.Changes).not.toContain("ap@fabrikam.example");
    expect(row.Guarded).toBeUndefined();
  });

  it("in sync: one GET, no PUT; a second sync after a correction makes no PUT", async () => {
    const { result, customer } = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    h.sim.resetRequests();
    const again = await engine.syncTarget({ target: customer.target, trigger: "cli" });
    expect(again.outcome).toBe("in-sync");
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([1, 0]);
  });

  it("plan shows the drift and writes nothing", async () => {
    const { result } = await run(DESIRED, { dryRun: true });
    expect(result.outcome).toBe("drift");
    expect(h.sim.count("PUT")).toBe(0);
  });

  it.each([412, 2055] as const)("a concurrent writer between GET and PUT (stale ETag answered %s): read again, and the PUT keeps the other writer's change", async (answer) => {
    h.sim.configure({ staleEtagAnswer: answer });
    h.sim.inject({ method: "PUT", on: "customer", fault: { kind: "concurrentWrite", set: { lastName: "Changed-Elsewhere" } } });
    const { result, customer } = await run(DESIRED);
    expect(result.outcome).toBe("corrected");
    expect(requestsTo(customer.id).map((r) => `${r.method} ${r.status}`)).toEqual(["GET 200", `PUT ${answer === 2055 ? 400 : 412}`, "GET 200", "PUT 200"]);
    const final = h.sim.customers().profile(customer.index);
    expect(final).toMatchObject({ lastName: "Changed-Elsewhere", firstName: "Robin" });
    const secondPut = requestsTo(customer.id)[3];
    expect(secondPut.headers["if-match"]).toBe(`"${getPath(JSON.parse(secondPut.body) as JsonObject, ["attributes", "etag"]) as string}"`);
  });

  it("a customer profile that keeps changing ends in conflict after 3 PUTs", async () => {
    h.sim.inject({ method: "PUT", on: "customer", times: 3, fault: { kind: "concurrentWrite", set: { culture: "en-GB" } } });
    const { result } = await run(DESIRED);
    expect(result.outcome).toBe("conflict");
    expect(result.error).toMatchObject({ code: "StaleEtag", status: 412 });
    expect([h.sim.count("GET"), h.sim.count("PUT")]).toEqual([3, 3]);
  });

  it("a profile without an ETag is still kept: the PUT goes out unguarded, without If-Match, and the run says so", async () => {
    const customer = nextCustomer();
    h.sim.customers().dropEtag(customer.index);
    await h.setDesired(customer.target, { CustomerId: customer.id, ...DESIRED });
    const result = await engine.syncTarget({ target: customer.target, trigger: "cli" });
    expect(result.outcome).toBe("corrected");
    expect(result.guarded).toBe(false);
    const [, put] = requestsTo(customer.id);
    expect(put.headers["if-match"]).toBeUndefined();
    expect(getPath(JSON.parse(put.body) as JsonObject, ["attributes", "etag"])).toBeUndefined();
    expect(h.sim.customers().profile(customer.index)).toMatchObject({ firstName: "Robin" });
    expect(await historyRowOf(h, result)).toMatchObject({ Outcome: "corrected", Guarded: false });
    expect(h.output.join("")).toMatch(new RegExp(`Run ${result.runId} of ${customer.target}: The profile Partner Center returned has no ETag \\(Attributes.Etag\\): the update went out unconditionally`));
    const again = await engine.syncTarget({ target: customer.target, trigger: "cli" });
    expect(again).toMatchObject({ outcome: "in-sync" });
  });

  it("a customer profile without an ETag that does not say it is one is refused: nothing is PUT back", async () => {
    const customer = nextCustomer();
    h.sim.customers().dropEtag(customer.index);
    const profile = h.sim.customers().profile(customer.index);
    (profile.attributes as JsonObject).objectType = "BillingProfile";
    h.sim.customers().store(customer.index, profile, { keepEtag: true });
    await h.setDesired(customer.target, { CustomerId: customer.id, ...DESIRED });
    const result = await engine.syncTarget({ target: customer.target, trigger: "cli" });
    expect(result.outcome).toBe("failed");
    // It says BillingProfile (the partner's kind), not CustomerBillingProfile.
    expect(result.error?.message).toMatch(/has no Attributes\.Etag and does not say it is a billing profile \(Attributes\.ObjectType "BillingProfile"\)/);
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("a customer the partner does not have: 404, gone (issue 20: not failed), nothing written", async () => {
    const id = "0badc0de-0000-4000-8000-000000000001";
    await h.setDesired(`customer-${id}`, { CustomerId: id, FirstName: "X" });
    const result = await engine.syncTarget({ target: `customer-${id}`, trigger: "cli" });
    expect(result).toMatchObject({ outcome: "gone", error: { code: "NotFound", status: 404 } });
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("an invalid customer row: invalid-desired, no call, and the record still names the kind", async () => {
    await h.setDesiredEntity("customer-bad", { CustomerId: "not-a-guid", Email: "nope", PurchaseOrderNumber: "1" });
    const result = await engine.syncTarget({ target: "customer-bad", trigger: "cli" });
    expect(result.outcome).toBe("invalid-desired");
    expect(result.error?.message).toMatch(/CustomerId must be the customer's tenant id, a GUID/);
    expect(result.error?.message).toMatch(/Email is not a valid e-mail address/);
    expect(result.error?.message).toMatch(/PurchaseOrderNumber is not a known property/);
    expect(result.error?.message).toMatch(/describes a customer billing profile/);
    expect(result.resource).toEqual({ kind: "customer-billing-profile" });
    expect(h.sim.count()).toBe(0);
    expect(await historyRowOf(h, result)).toMatchObject({ Outcome: "invalid-desired", ResourceKind: "customer-billing-profile" });
  });

  it("partner and customer targets side by side in one sync: each to its own path", async () => {
    const customer = nextCustomer();
    await h.setDesired(customer.target, { CustomerId: customer.id, CompanyName: "Fabrikam Ltd" });
    await h.setDesired("partner-side", { PurchaseOrderNumber: "PO-SIDE" });
    const runs = await engine.syncAll({ trigger: "cli" });
    const byTarget = new Map(runs.map((r) => [r.target, r]));
    expect(byTarget.get(customer.target)).toMatchObject({ outcome: "corrected", resource: { kind: "customer-billing-profile", customerTenantId: customer.id } });
    expect(byTarget.get("partner-side")).toMatchObject({ outcome: "corrected", resource: { kind: "partner-billing-profile" } });
    expect(h.sim.customers().profile(customer.index).companyName).toBe("Fabrikam Ltd");
    expect(h.sim.getProfile().purchaseOrderNumber).toBe("PO-SIDE");
  });
});

describe("the checks before a customer's PUT (the partner profile's, through the kind's address roles)", () => {
  beforeEach(() => {
    h.resetSimulator();
    h.sim.configure({ staleEtagAnswer: 412, addressValidation: { era: 2021, status: "VerifiedShippable" } });
  });

  it("a state the customer's country does not have ends the run invalid-desired, naming the rule, with no PUT", async () => {
    const { result } = await run({ DefaultAddress: { State: "Washington" } });
    expect(result.outcome).toBe("invalid-desired");
    expect(result.error?.message).toMatch(/DefaultAddress_State "Washington" is not one of the \d+ state codes US supports/);
    expect(result.violations).toEqual([expect.objectContaining({ field: "DefaultAddress_State", rule: "supportedStatesList" })]);
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("an address Partner Center would store differently is refused, naming the suggestion, unless the row accepts it", async () => {
    h.sim.configure({ addressValidation: { era: 2021, status: "VerifiedShippable", suggestedAddresses: [{ country: "US", city: "Seattle", state: "WA", addressLine1: "1 Main St", postalCode: "98101-1234" }] } });
    const refused = await run({ DefaultAddress: { AddressLine1: "1 Main St", City: "Seattle", PostalCode: "98101" } });
    expect(refused.result.outcome).toBe("invalid-desired");
    expect(refused.result.error?.message).toMatch(/DefaultAddress_PostalCode "98101" → "98101-1234"/);
    expect(h.sim.count("PUT")).toBe(0);
    const accepted = await run({ AcceptAddressSuggestion: true, DefaultAddress: { AddressLine1: "2 Main St", City: "Seattle", PostalCode: "98101" } });
    expect(accepted.result).toMatchObject({ outcome: "corrected", addressValidation: { accepted: true } });
    expect(h.sim.customers().profile(accepted.customer.index)).toMatchObject({ defaultAddress: { postalCode: "98101-1234", city: "Seattle" } });
  });
});
