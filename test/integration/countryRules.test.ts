import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/main";
import { getPath, type JsonObject } from "../../shared/core/json";
import type { Engine } from "../../shared/engine/engine";
import { defaultLiveProfile } from "../../simulator/defaultProfile";
import { fixtureText } from "../support/fixtures";
import { fastRetry, historyRowOf, startHarness, type Harness } from "../support/harness";

/**
 * Before a PUT that changes an address, phone or tax field: the rules of the profile's
 * country (the simulator serves the recorded US body and, here, the GB, DE and CN samples)
 * and Partner Center's address validation (every status the record names). Simulator and
 * Azurite over real HTTP.
 */
let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), "billing-sync-rules-"));
  for (const country of ["GB", "DE", "CN"]) h.sim.setCountryRules(country, fixtureText(`country-rules/${country}.sample.json`));
});
afterAll(() => h.stop());
beforeEach(() => {
  h.resetSimulator();
  h.sim.configure({ addressValidation: { era: 2021, status: "VerifiedShippable" } });
});

const ADDRESSES: Record<string, JsonObject> = {
  US: {},
  GB: { country: "GB", city: "London", state: "", region: "", postalCode: "SW1A 1AA", addressLine1: "10 Downing Street" },
  DE: { country: "DE", city: "Berlin", state: "", region: "", postalCode: "10115", addressLine1: "Invalidenstraße 1" },
  CN: { country: "CN", city: "Beijing", state: "BJ", region: "", postalCode: "100000", addressLine1: "1 Chang'an Avenue" },
};
function liveIn(country: string): JsonObject {
  const profile = defaultLiveProfile();
  return { ...profile, address: { ...(profile.address as JsonObject), ...ADDRESSES[country] } };
}
const calls = () => ({
  profileGet: h.sim.count("GET", undefined, "profile"),
  put: h.sim.count("PUT"),
  rules: h.sim.count("GET", undefined, "countryRules"),
  validation: h.sim.count("POST", undefined, "addressValidation"),
});

describe("each country rule refuses a bad value: invalid-desired naming the rule, no PUT, and plan shows the same", () => {
  it.each([
    ["US", "isStateRequired", { Address: { State: "" } }],
    ["US", "supportedStatesList", { Address: { State: "Washington" } }],
    ["US", "isPostalCodeRequired", { Address: { PostalCode: "" } }],
    ["US", "postalCodeRegex", { Address: { PostalCode: "9805" } }],
    ["US", "isCityRequired", { Address: { City: "" } }],
    ["US", "phoneNumberRegex", { PrimaryContact: { PhoneNumber: "555-0199" } }],
    ["GB", "postalCodeRegex", { Address: { PostalCode: "12345" } }],
    ["GB", "vatIdRegex", { TaxId: "123456789" }],
    ["DE", "postalCodeRegex", { Address: { PostalCode: "1011" } }],
    ["DE", "vatIdRegex", { TaxId: "DE12345" }],
    ["CN", "supportedStatesList", { Address: { State: "Beijing" } }],
    ["CN", "postalCodeRegex", { Address: { PostalCode: "10000" } }],
    ["CN", "isTaxIdSupported", { TaxId: "91110000MA0000000X" }],
  ])("%s %s", async (country, rule, doc) => {
    const target = `rule-${country}-${rule}`.toLowerCase();
    await h.setDesired(target, doc);
    h.sim.setProfile(liveIn(country));
    const engine = h.engine();
    const plan = await engine.syncTarget({ target, trigger: "cli", dryRun: true });
    const sync = await engine.syncTarget({ target, trigger: "cli" });
    for (const result of [plan, sync]) {
      expect(result).toMatchObject({ outcome: "invalid-desired", error: { code: "InvalidDesiredState" }, violations: [{ rule }] });
      expect(result.error!.message).toMatch(new RegExp(`breaks the country rules of ${country}: .*\\(${rule}\\)\\. Nothing was written\\.`));
    }
    // The rules were read once for both runs; a broken rule stops the run before the address validation.
    expect(calls()).toEqual({ profileGet: 2, put: 0, rules: 1, validation: 0 });
    const row = await historyRowOf(h, sync);
    expect(row).toMatchObject({ Outcome: "invalid-desired", PutMade: false, ErrorCode: "InvalidDesiredState" });
    expect(JSON.parse(String(row.Violations))).toEqual(sync.violations);
  });

  it("US isTaxIdOptional=false (rules edited from the recording): clearing the tax id is refused", async () => {
    h.sim.setCountryRules("US", fixtureText("country-rules/US.recorded.json").replace('"isTaxIdOptional": true', '"isTaxIdOptional": false'));
    try {
      await h.setDesired("rule-us-taxid", { TaxId: "" });
      const result = await h.engine().syncTarget({ target: "rule-us-taxid", trigger: "cli" });
      expect(result).toMatchObject({ outcome: "invalid-desired", violations: [{ field: "TaxId", rule: "isTaxIdOptional" }] });
      expect(h.sim.count("PUT")).toBe(0);
    } finally {
      h.sim.setCountryRules("US", fixtureText("country-rules/US.recorded.json"));
    }
  });

  it("a good value in each country passes the rules and is written", async () => {
    const good: [string, unknown][] = [
      ["US", { Address: { State: "NY", PostalCode: "10001-0001", City: "New York" }, PrimaryContact: { PhoneNumber: "(212) 555-0100" } }],
      ["GB", { Address: { PostalCode: "EC1A 1BB" }, TaxId: "GB123456789" }],
      ["DE", { Address: { PostalCode: "80331" }, TaxId: "DE123456789" }],
      ["CN", { Address: { State: "SH", PostalCode: "200000" }, TaxId: "" }],
    ];
    for (const [country, doc] of good) {
      h.resetSimulator();
      h.sim.setProfile({ ...liveIn(country), taxId: country === "CN" ? "" : "x" });
      await h.setDesired(`good-${country.toLowerCase()}`, doc);
      const result = await h.engine().syncTarget({ target: `good-${country.toLowerCase()}`, trigger: "cli" });
      expect([country, result.outcome, result.error]).toEqual([country, "corrected", null]);
    }
  });
});

describe("the call budget", () => {
  it("in sync 1 call; drift without an address, phone or tax change 2; with an address change 4, then 3 while the rules are kept", async () => {
    const engine: Engine = h.engine();
    await h.setDesired("budget", { PurchaseOrderNumber: "9888", Address: { City: "Redmond" } });
    await engine.syncTarget({ target: "budget", trigger: "cli" });
    expect(calls()).toEqual({ profileGet: 1, put: 0, rules: 0, validation: 0 });

    h.sim.write({ purchaseOrderNumber: "PO-OTHER" });
    h.sim.resetRequests();
    await engine.syncTarget({ target: "budget", trigger: "cli" });
    expect(calls()).toEqual({ profileGet: 1, put: 1, rules: 0, validation: 0 });

    h.sim.write({ "address.city": "Bellevue" });
    h.sim.resetRequests();
    expect((await engine.syncTarget({ target: "budget", trigger: "cli" })).outcome).toBe("corrected");
    expect(calls()).toEqual({ profileGet: 1, put: 1, rules: 1, validation: 1 });

    h.sim.write({ "address.city": "Kirkland" });
    h.sim.resetRequests();
    await engine.syncTarget({ target: "budget", trigger: "cli" });
    // The rules of US are kept for the day; the same address's verdict too.
    expect(calls()).toEqual({ profileGet: 1, put: 1, rules: 0, validation: 0 });
  });
});

describe("address validation", () => {
  const zipPlus4 = { country: "US", city: "Seattle", state: "WA", addressLine1: "1 Microsoft Way", postalCode: "98052-8300" };

  it("a suggestion that changes a managed field is refused with the suggestion (address lines masked), plan shows it; no PUT", async () => {
    h.sim.configure({ addressValidation: { era: 2021, status: "VerifiedShippable", suggestedAddresses: [{ ...zipPlus4, addressLine1: "1 Microsoft Way NE" }] } });
    await h.setDesired("suggested", { Address: { City: "Seattle", PostalCode: "98052", AddressLine1: "1 Microsoft Way" } });
    const engine = h.engine();
    const plan = await engine.syncTarget({ target: "suggested", trigger: "cli", dryRun: true });
    const sync = await engine.syncTarget({ target: "suggested", trigger: "cli" });
    for (const result of [plan, sync]) {
      expect(result).toMatchObject({
        outcome: "invalid-desired",
        addressValidation: {
          status: "VerifiedShippable",
          accepted: false,
          suggestions: [
            [
              { field: "Address_AddressLine1", from: "1***", to: "1***" },
              { field: "Address_PostalCode", from: "98052", to: "98052-8300" },
            ],
          ],
        },
      });
      expect(result.error!.message).toMatch(/Address_PostalCode "98052" → "98052-8300".*AcceptAddressSuggestion=true/);
      expect(result.error!.message).not.toMatch(/Microsoft/);
    }
    expect(calls()).toEqual({ profileGet: 2, put: 0, rules: 1, validation: 1 });
    const sent = JSON.parse(h.sim.requests.find((r) => r.endpoint === "addressValidation")!.body);
    expect(sent).toEqual({ AddressLine1: "1 Microsoft Way", City: "Seattle", State: "WA", PostalCode: "98052", Country: "US" });
  });

  it("accepted (AcceptAddressSuggestion=true): the suggestion is what is sent and recorded, and the next run is in sync without a PUT", async () => {
    h.sim.configure({ addressValidation: { era: 2021, status: "VerifiedShippable", suggestedAddresses: [zipPlus4] } });
    await h.setDesired("accepted", { AcceptAddressSuggestion: true, Address: { City: "Seattle", PostalCode: "98052" } });
    const engine = h.engine();
    const result = await engine.syncTarget({ target: "accepted", trigger: "cli" });
    expect(result).toMatchObject({
      outcome: "corrected",
      changes: [
        { field: "Address_City", from: "Redmond", to: "Seattle" },
        { field: "Address_PostalCode", from: "98052", to: "98052-8300" },
      ],
      addressValidation: { status: "VerifiedShippable", accepted: true },
    });
    const put = JSON.parse(h.sim.requests.find((r) => r.method === "PUT")!.body) as JsonObject;
    expect(getPath(put, ["address", "postalCode"])).toBe("98052-8300");
    const row = await historyRowOf(h, result);
    expect(JSON.parse(String(row.Changes))).toEqual(result.changes);
    expect(JSON.parse(String(row.AddressValidation))).toMatchObject({ accepted: true });

    h.sim.resetRequests();
    const again = await engine.syncTarget({ target: "accepted", trigger: "cli" });
    expect(again).toMatchObject({ outcome: "in-sync", changes: [] });
    expect(calls()).toEqual({ profileGet: 1, put: 0, rules: 0, validation: 0 });
  });

  it("the documented StreetPartial answer: refused; accepted, its suggestion is sent", async () => {
    const documented = JSON.parse(fixtureText("address-validation/2021-street-partial.json")) as JsonObject;
    h.sim.configure({ addressValidation: { era: 2021, status: "StreetPartial", suggestedAddresses: documented.suggestedAddresses as JsonObject[], validationMessage: String(documented.validationMessage) } });
    h.sim.write({ "address.addressLine1": "500 Old Road" });
    await h.setDesired("partial", { Address: { AddressLine1: "Microsoft Way" } });
    const refused = await h.engine().syncTarget({ target: "partial", trigger: "cli" });
    expect(refused).toMatchObject({ outcome: "invalid-desired", addressValidation: { status: "StreetPartial", message: documented.validationMessage } });
    expect(h.sim.count("PUT")).toBe(0);

    await h.setDesired("partial", { AcceptAddressSuggestion: true, Address: { AddressLine1: "Microsoft Way" } });
    const accepted = await h.engine().syncTarget({ target: "partial", trigger: "cli" });
    expect(accepted.outcome).toBe("corrected");
    // The row manages the first line only: the suggested ZIP+4 is left alone, and the run says so.
    expect(getPath(h.sim.getProfile(), ["address", "addressLine1"])).toBe("1 Microsoft Way");
    expect(getPath(h.sim.getProfile(), ["address", "postalCode"])).toBe("98052");
    expect(accepted.warnings).toEqual([expect.stringMatching(/also changes Address_PostalCode, which the desired row does not manage; left as they are/)]);
    // Now the profile holds the accepted suggestion: in sync, though the row still says "Microsoft Way".
    expect((await h.engine().syncTarget({ target: "partial", trigger: "cli" })).outcome).toBe("in-sync");
    expect(h.sim.count("PUT")).toBe(1);
  });

  it.each([
    ["None", false, "invalid-desired"],
    ["None", true, "invalid-desired"],
    ["NotValidated", false, "invalid-desired"],
    ["NotValidated", true, "corrected"],
    ["InteractionRequired", false, "invalid-desired"],
    ["PremisesPartial", true, "corrected"],
    ["Multiple", false, "invalid-desired"],
    ["Verified", false, "corrected"],
  ])("%s (AcceptAddressSuggestion %s): %s", async (status, accept, outcome) => {
    h.sim.configure({ addressValidation: { era: 2021, status } });
    const target = `status-${status}-${accept}`.toLowerCase();
    await h.setDesired(target, { ...(accept ? { AcceptAddressSuggestion: true } : {}), Address: { City: "Seattle" } });
    const result = await h.engine().syncTarget({ target, trigger: "cli" });
    expect(result).toMatchObject({ outcome, addressValidation: { status } });
    expect(h.sim.count("PUT")).toBe(outcome === "corrected" ? 1 : 0);
  });

  it("the 2019 answers: 200 with no body is valid; 400 code 2007 is refused with the corrected address", async () => {
    h.sim.configure({ addressValidation: { era: 2019, valid: true } });
    await h.setDesired("v2019", { Address: { City: "Bellevue" } });
    expect(await h.engine().syncTarget({ target: "v2019", trigger: "cli" })).toMatchObject({ outcome: "corrected", addressValidation: { status: "Valid" } });

    h.resetSimulator();
    h.sim.configure({ addressValidation: { era: 2019, valid: false, correctedAddress: { country: "US", region: "WA", city: "BELLEVUE", address_line1: "1 Microsoft Way", postal_code: "98007" } } });
    const refused = await h.engine().syncTarget({ target: "v2019", trigger: "cli" });
    expect(refused).toMatchObject({ outcome: "invalid-desired", addressValidation: { status: "Invalid", message: "ZipCityInvalid" } });
    expect(refused.error!.message).toMatch(/Address_City "Bellevue" → "BELLEVUE", Address_PostalCode "98052" → "98007"/);
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("an answer we cannot read ends the run failed, with no PUT", async () => {
    h.sim.inject({ endpoint: "addressValidation", fault: { kind: "malformed", body: "{ not json" } });
    await h.setDesired("unreadable", { Address: { City: "Bellevue" } });
    const result = await h.engine().syncTarget({ target: "unreadable", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "failed", error: { code: "ResponseParseError" } });
    expect(h.sim.count("PUT")).toBe(0);
  });
});

describe("when the rules cannot be had", () => {
  it("a 503 from the rules endpoint is retried; if it stays, the run fails with no PUT", async () => {
    h.sim.inject({ endpoint: "countryRules", times: 10, fault: { kind: "status", status: 503 } });
    await h.setDesired("rules-down", { Address: { City: "Bellevue" } });
    const result = await h.engine().syncTarget({ target: "rules-down", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "failed", error: { code: "ServiceUnavailable" } });
    expect(result.error!.message).toMatch(/GET \/v1\/countryvalidationrules\/US/);
    expect(h.sim.count("GET", undefined, "countryRules")).toBeGreaterThan(1);
    expect(h.sim.count("PUT")).toBe(0);
  });

  it("a phone with another country's calling code is not judged by the US pattern: written, and a warning says so", async () => {
    await h.setDesired("foreign-phone", { PrimaryContact: { PhoneNumber: "+49 30 1234 5678" } });
    const result = await h.engine().syncTarget({ target: "foreign-phone", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "corrected", warnings: [expect.stringMatching(/another country's calling code: the phone number pattern of US \(phoneNumberRegex\) was not applied/)] });
  });

  it("no rules for the country (404): checked no further, said in a warning, and written", async () => {
    h.sim.setProfile({ ...liveIn("US"), address: { ...(liveIn("US").address as JsonObject), country: "NZ" } });
    await h.setDesired("no-rules", { Address: { City: "Wellington" } });
    const result = await h.engine().syncTarget({ target: "no-rules", trigger: "cli" });
    expect(result).toMatchObject({ outcome: "corrected", warnings: [expect.stringMatching(/no validation rules for NZ \(404\)/)] });
  });
});

describe("billing-sync desired set", () => {
  const cli = async (...argv: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: h.env, engineOptions: { retry: fastRetry(h.waits) } });
    return { code, stdout, stderr };
  };
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const written = async (target: string) => (await h.rawRows("BillingProfileDesired")).some((r) => r.partitionKey === target);

  it("refuses a value that breaks the country's rules, naming the rule, and writes nothing", async () => {
    const out = await cli("desired", "set", "--file", file("bad.json", { Address: { State: "Washington" } }), "--target", "set-bad");
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/InvalidDesiredState: .*breaks the country rules of US: Address_State "Washington" .*\(supportedStatesList\)/);
    expect(await written("set-bad")).toBe(false);
  });

  it("writes a row that keeps them and says it was checked", async () => {
    const out = await cli("desired", "set", "--file", file("good.json", { Address: { State: "OR" } }), "--target", "set-good");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Checked against the rules of US: the values a sync would change keep them\./);
    expect(await written("set-good")).toBe(true);
  });

  it("says when a sync would refuse the address (a suggestion), and still writes the row", async () => {
    h.sim.configure({ addressValidation: { era: 2021, status: "StreetPartial" } });
    const out = await cli("desired", "set", "--file", file("partial.json", { Address: { AddressLine1: "Microsoft Way" } }), "--target", "set-partial");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/A sync will refuse this address as it stands: .*StreetPartial/);
    expect(await written("set-partial")).toBe(true);
  });

  it("when Partner Center cannot be asked: writes the row and says it was not checked", async () => {
    h.sim.inject({ method: "GET", times: 10, fault: { kind: "status", status: 401 } });
    const out = await cli("desired", "set", "--file", file("unreached.json", { Address: { State: "Washington" } }), "--target", "set-unreached");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Not checked against the country's rules: Partner Center could not be asked \(Unauthorized: .*\)\. A sync checks before it writes\./);
    expect(await written("set-unreached")).toBe(true);
  });

  it("plan and sync print the refusal with the suggestion; an accepted one is shown with what was sent", async () => {
    h.sim.configure({ addressValidation: { era: 2021, status: "VerifiedShippable", suggestedAddresses: [{ country: "US", city: "Seattle", state: "WA", addressLine1: "1 Microsoft Way", postalCode: "98052-8300" }] } });
    await h.setDesired("cli-suggest", { Address: { City: "Seattle", PostalCode: "98052" } });
    const plan = await cli("plan", "--target", "cli-suggest");
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/Target cli-suggest \(plan\): invalid-desired\n {2}~ Address_City: "Redmond" → "Seattle"\n {2}InvalidDesiredState: .*Address_PostalCode "98052" → "98052-8300"/);
    await h.setDesired("cli-suggest", { AcceptAddressSuggestion: true, Address: { City: "Seattle", PostalCode: "98052" } });
    const sync = await cli("sync", "--target", "cli-suggest");
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/~ Address_PostalCode: "98052" → "98052-8300"\n.*\n {2}Address validation: VerifiedShippable; suggestion sent: Address_PostalCode "98052-8300"/);
  });

  it("--no-check asks nothing", async () => {
    const out = await cli("desired", "set", "--no-check", "--file", file("nocheck.json", { Address: { State: "Washington" } }), "--target", "set-nocheck");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Not checked against the customer list or the country's rules \(--no-check\)\./);
    expect(h.sim.count()).toBe(0);
  });
});
