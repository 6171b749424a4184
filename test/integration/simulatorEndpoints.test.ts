import { fixtureText } from "../support/fixtures";
import { PartnerCenterSimulator } from "../../simulator/server";

/**
 * The simulator's new endpoints as the public record shows them, driven over HTTP as the
 * `billing-sync simulator` process is: the recorded US rules byte for byte, the 2021 and
 * 2019 address validation answers, profiles without an ETag and with large numbers.
 */
const token = "sim-endpoints-token";
let sim: PartnerCenterSimulator;
let url: string;
beforeAll(async () => {
  sim = new PartnerCenterSimulator({ token });
  url = await sim.start();
});
afterAll(() => sim.stop());

const call = async (method: string, path: string, body?: string, auth = true) => {
  const response = await fetch(`${url}${path}`, { method, body, headers: auth ? { Authorization: `Bearer ${token}` } : {} });
  return { status: response.status, text: await response.text() };
};

describe("GET /v1/countryvalidationrules/{iso2}", () => {
  it("answers US with the recorded body, byte for byte; any case of the code", async () => {
    expect(await call("GET", "/v1/countryvalidationrules/US")).toEqual({ status: 200, text: fixtureText("country-rules/US.recorded.json") });
    expect((await call("GET", "/v1/countryvalidationrules/us")).status).toBe(200);
  });

  it("404 for a country it has no rules for; 401 without the token", async () => {
    expect((await call("GET", "/v1/countryvalidationrules/ZZ")).status).toBe(404);
    expect((await call("GET", "/v1/countryvalidationrules/US", undefined, false)).status).toBe(401);
  });
});

describe("POST /v1/validations/address", () => {
  const address = JSON.stringify({ AddressLine1: "1 Microsoft Way", City: "Redmond", State: "WA", PostalCode: "98052", Country: "US" });

  it("by default answers as the 2021 VerifiedShippable example does: the original echoed camelCase, one suggestion", async () => {
    const { status, text } = await call("POST", "/v1/validations/address", address);
    const original = { country: "US", city: "Redmond", state: "WA", addressLine1: "1 Microsoft Way", postalCode: "98052" };
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ originalAddress: original, suggestedAddresses: [original], status: "VerifiedShippable" });
    expect(Object.keys(JSON.parse(text).originalAddress)).toEqual(Object.keys(JSON.parse(fixtureText("address-validation/2021-verified-shippable.json")).originalAddress));
  });

  it("answers any status set over the control interface, and the 2019 answers", async () => {
    const set = (options: unknown) => call("PATCH", "/_simulator/options", JSON.stringify(options));
    expect((await set({ addressValidation: { era: 2021, status: "None" } })).status).toBe(200);
    expect(JSON.parse((await call("POST", "/v1/validations/address", address)).text)).toMatchObject({ status: "None", suggestedAddresses: [] });
    await set({ addressValidation: { era: 2019, valid: true } });
    expect(await call("POST", "/v1/validations/address", address)).toEqual({ status: 200, text: "" });
    await set({ addressValidation: { era: 2019, valid: false, correctedAddress: { city: "BELLEVUE" } } });
    const invalid = await call("POST", "/v1/validations/address", address);
    expect(invalid.status).toBe(400);
    const body = JSON.parse(invalid.text);
    expect(body).toMatchObject({ code: 2007, source: "PartnerFD" });
    expect(JSON.parse(body.description)).toMatchObject({ corrected_address: { city: "BELLEVUE" }, object_type: "AddressValidation" });
    await set({ addressValidation: { era: 2021, status: "VerifiedShippable" } });
  });
});

describe("the profile", () => {
  it("keeps large numbers digit for digit, and serves it without an ETag when told", async () => {
    const profile = '{"purchaseOrderNumber":"1","accountNumber":4242348048554929329,"rate":1.10,"scale":1e2,"attributes":{"etag":"\\"e1\\"","objectType":"BillingProfile"}}';
    expect((await call("PUT", "/_simulator/profile", profile)).status).toBe(200);
    const served = (await call("GET", "/v1/profiles/billing")).text;
    expect(served).toMatch(/"accountNumber": 4242348048554929329,\r\n\s+"rate": 1.10,\r\n\s+"scale": 1e2,/);

    await call("PATCH", "/_simulator/options", JSON.stringify({ etags: false }));
    const unguarded = JSON.parse((await call("GET", "/v1/profiles/billing")).text);
    expect(unguarded.attributes).toEqual({ objectType: "BillingProfile" });
    // Last writer wins: a PUT without an ETag is taken.
    const put = await call("PUT", "/v1/profiles/billing", JSON.stringify({ ...unguarded, purchaseOrderNumber: "2" }));
    expect(put.status).toBe(200);
    expect(JSON.parse(put.text)).toMatchObject({ purchaseOrderNumber: "2", attributes: { objectType: "BillingProfile" } });
  });
});
