import {
  ADDRESS_VALIDATION_STATUSES,
  type AddressValidation,
  addressToValidate,
  changesPostalAddress,
  judgeAddressValidation,
  parseAddressValidation2007,
  parseAddressValidationBody,
  type PostalAddress,
} from "../../shared/model/addressValidation";
import { parseDesiredEntity } from "../../shared/model/desired";
import { parseProfile } from "../../shared/model/profile";
import { fixtureText } from "../support/fixtures";

/**
 * The pure half of POST /v1/validations/address: the body sent, both answers of the public
 * record read (the 2021 examples and the 2019 code 2007, test/fixtures/address-validation),
 * and what a run does with each status.
 */
const live = parseProfile(fixtureText("docs-get-response.placeholders-quoted.json"), "GET");
const SENT: PostalAddress = { AddressLine1: "1 Microsoft Way", City: "Redmond", State: "WA", PostalCode: "98052", Country: "US" };
const desired = (fields: Record<string, unknown>, accept = false) => parseDesiredEntity("t", { ...fields, ...(accept ? { AcceptAddressSuggestion: true } : {}) });
const managesAddress = { Address_AddressLine1: "1 Microsoft Way", Address_City: "Redmond", Address_State: "WA", Address_PostalCode: "98052" };
const answer = (status: string, suggestions: PostalAddress[] = [], message?: string): AddressValidation => ({ status, era: 2021, suggestions, ...(message ? { message } : {}) });

describe("the request", () => {
  it("is the live address with the planned changes applied, PascalCase, country last, AddressLine2 only when set", () => {
    const body = addressToValidate(live, [{ field: "Address_City", from: "Redmond", to: "Bellevue" }]);
    expect(body).toEqual({ AddressLine1: "1 Microsoft Way", City: "Bellevue", State: "WA", PostalCode: "98052", Country: "US" });
    expect(Object.keys(body)).toEqual(["AddressLine1", "City", "State", "PostalCode", "Country"]);
    expect(addressToValidate(live, [{ field: "Address_AddressLine2", from: "", to: "Suite 5" }]).AddressLine2).toBe("Suite 5");
  });

  it("is made only when a part of the postal address changes", () => {
    expect(changesPostalAddress([{ field: "Address_Region", from: "", to: "WA" }, { field: "TaxId", from: "", to: "1" }])).toBe(false);
    for (const field of ["Address_AddressLine1", "Address_AddressLine2", "Address_City", "Address_State", "Address_PostalCode"]) {
      expect(changesPostalAddress([{ field, from: "", to: "x" }])).toBe(true);
    }
  });
});

describe("reading the answers of the public record", () => {
  it("2021 VerifiedShippable: the status and the ZIP+4 suggestion", () => {
    expect(parseAddressValidationBody(fixtureText("address-validation/2021-verified-shippable.json"), SENT)).toEqual({
      status: "VerifiedShippable",
      era: 2021,
      suggestions: [{ Country: "US", City: "Redmond", State: "WA", AddressLine1: "1 Microsoft Way", PostalCode: "98052-8300" }],
    });
  });

  it("2021 StreetPartial: the suggestion and the validationMessage", () => {
    const sent = { ...SENT, AddressLine1: "Microsoft Way" };
    expect(parseAddressValidationBody(fixtureText("address-validation/2021-street-partial.json"), sent)).toMatchObject({
      status: "StreetPartial",
      suggestions: [{ AddressLine1: "1 Microsoft Way", PostalCode: "98052-6399" }],
      message: "Address field invalid for property: 'Region', 'PostalCode', 'City'",
    });
  });

  it("2019 code 2007: the corrected address (region is the state) and the reason's name only (the rest quotes values)", () => {
    const body = JSON.parse(fixtureText("address-validation/2019-invalid-2007.json")) as { description: string };
    expect(parseAddressValidation2007(body.description)).toEqual({
      status: "Invalid",
      era: 2019,
      suggestions: [{ AddressLine1: "One Microsoft Way", City: "BELLEVUE", State: "WA", PostalCode: "98007", Country: "US" }],
      message: "ZipCityInvalid",
    });
    expect(parseAddressValidation2007("not json")).toEqual({ status: "Invalid", era: 2019, suggestions: [] });
  });

  it("masks the address lines a validationMessage quotes", () => {
    const text = JSON.stringify({ status: "None", suggestedAddresses: [], validationMessage: "No such street: 1 Microsoft Way" });
    expect(parseAddressValidationBody(text, SENT).message).toBe("No such street: 1***");
  });

  it.each([
    ["{", /is not valid JSON/],
    ['{"suggestedAddresses":[]}', /has no status/],
    ['{"status":"Verified","suggestedAddresses":{}}', /suggestedAddresses of type object, expected an array/],
    ['{"status":"Verified","suggestedAddresses":["x"]}', /a suggested address that is not an object/],
  ])("refuses %s: no PUT follows an answer it cannot read", (text, message) => {
    expect(() => parseAddressValidationBody(text, SENT)).toThrow(expect.objectContaining({ code: "ResponseParseError", message: expect.stringMatching(message) }));
  });
});

describe("judgeAddressValidation", () => {
  const zipPlus4 = { ...SENT, PostalCode: "98052-8300" };

  it.each(["VerifiedShippable", "Verified", "Valid"])("%s with the address as sent: send it", (status) => {
    expect(judgeAddressValidation(answer(status, status === "Valid" ? [] : [SENT]), SENT, desired(managesAddress))).toEqual({
      kind: "send",
      summary: { status, suggestions: status === "Valid" ? [] : [[]], accepted: false },
    });
  });

  it("Verified with a change to an unmanaged part (ZIP+4 when the row does not manage the postal code): send", () => {
    expect(judgeAddressValidation(answer("VerifiedShippable", [zipPlus4]), SENT, desired({ Address_City: "Redmond" })).kind).toBe("send");
  });

  it("VerifiedShippable suggesting another value for a managed part: refused, naming it, unless accepted; accepted sends it", () => {
    const refused = judgeAddressValidation(answer("VerifiedShippable", [zipPlus4]), SENT, desired(managesAddress));
    expect(refused).toMatchObject({ kind: "refuse", summary: { status: "VerifiedShippable", accepted: false, suggestions: [[{ field: "Address_PostalCode", from: "98052", to: "98052-8300" }]] } });
    expect(refused.kind === "refuse" && refused.message).toMatch(
      /answered VerifiedShippable: it suggests Address_PostalCode "98052" → "98052-8300"\. Partner Center would keep the suggested values.*AcceptAddressSuggestion=true/,
    );
    const accepted = judgeAddressValidation(answer("VerifiedShippable", [zipPlus4]), SENT, desired(managesAddress, true));
    expect(accepted).toMatchObject({ kind: "suggestion", summary: { accepted: true } });
    expect(accepted.kind === "suggestion" && [...accepted.values]).toEqual([["Address_PostalCode", "98052-8300"]]);
  });

  it.each(["InteractionRequired", "StreetPartial", "PremisesPartial", "Multiple"])("%s: refused with the suggestion masked where personal; one suggestion is sent when accepted", (status) => {
    const sent = { ...SENT, AddressLine1: "Microsoft Way" };
    const suggestion = { ...SENT, PostalCode: "98052-6399" };
    const refused = judgeAddressValidation(answer(status, [suggestion]), sent, desired(managesAddress));
    expect(refused.kind).toBe("refuse");
    expect(refused.summary.suggestions).toEqual([
      [
        { field: "Address_AddressLine1", from: "M***", to: "1***" },
        { field: "Address_PostalCode", from: "98052", to: "98052-6399" },
      ],
    ]);
    expect(refused.kind === "refuse" && refused.message).not.toContain("Microsoft");
    const accepted = judgeAddressValidation(answer(status, [suggestion]), sent, desired(managesAddress, true));
    expect(accepted.kind === "suggestion" && Object.fromEntries(accepted.values)).toEqual({ Address_AddressLine1: "1 Microsoft Way", Address_PostalCode: "98052-6399" });
  });

  it("several suggestions: refused even when accepted (which one?), each listed", () => {
    const two = answer("Multiple", [{ ...SENT, PostalCode: "98052-1" }, { ...SENT, PostalCode: "98052-2" }]);
    const verdict = judgeAddressValidation(two, SENT, desired(managesAddress, true));
    expect(verdict.kind).toBe("refuse");
    expect(verdict.kind === "refuse" && verdict.message).toMatch(/\(1\) Address_PostalCode "98052" → "98052-1"; \(2\) .*takes a single suggestion only/);
  });

  it("None: refused, accepted or not", () => {
    for (const accept of [false, true]) expect(judgeAddressValidation(answer("None"), SENT, desired(managesAddress, accept)).kind).toBe("refuse");
  });

  it("2019 Invalid (code 2007) with the corrected address: refused, or the correction sent when accepted", () => {
    const body = JSON.parse(fixtureText("address-validation/2019-invalid-2007.json")) as { description: string };
    const invalid = parseAddressValidation2007(body.description);
    expect(judgeAddressValidation(invalid, SENT, desired(managesAddress)).kind).toBe("refuse");
    const accepted = judgeAddressValidation(invalid, SENT, desired(managesAddress, true));
    expect(accepted.kind === "suggestion" && Object.fromEntries(accepted.values)).toEqual({
      Address_AddressLine1: "One Microsoft Way",
      Address_City: "BELLEVUE",
      Address_PostalCode: "98007",
    });
  });

  it.each(["NotValidated", "SomethingNew"])("%s: refused (not verified), or sent as desired with a warning when accepted", (status) => {
    const refused = judgeAddressValidation(answer(status), SENT, desired(managesAddress));
    expect(refused.kind === "refuse" && refused.message).toMatch(/could not be verified/);
    const accepted = judgeAddressValidation(answer(status), SENT, desired(managesAddress, true));
    expect(accepted).toMatchObject({ kind: "send", summary: { accepted: true }, warning: expect.stringMatching(/not verified and is sent as desired/) });
  });

  it("a suggestion in another country: refused, the country cannot be changed", () => {
    const verdict = judgeAddressValidation(answer("Verified", [{ ...SENT, Country: "CA" }]), SENT, desired(managesAddress, true));
    expect(verdict.kind === "refuse" && verdict.message).toMatch(/an address in CA, and the country cannot be changed/);
  });

  it("knows every status the public record names", () => {
    expect(ADDRESS_VALIDATION_STATUSES).toEqual(["VerifiedShippable", "Verified", "InteractionRequired", "StreetPartial", "PremisesPartial", "Multiple", "None", "NotValidated"]);
  });
});
