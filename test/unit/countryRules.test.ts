import { checkCountryRules, type CountryRules, parseCountryRules, touchesCountryRules } from "../../shared/model/countryRules";
import type { FieldChange } from "../../shared/model/diff";
import { fixtureText } from "../support/fixtures";

/**
 * The pure rule check, on the rules bodies of the public record: the real US recording and
 * the PowerShell module's US, GB, DE and CN samples (test/fixtures/country-rules).
 */
const rules = (name: string, iso2 = name.slice(0, 2)) => parseCountryRules(fixtureText(`country-rules/${name}.json`), iso2);
const US = rules("US.recorded");
const GB = rules("GB.sample");
const DE = rules("DE.sample");
const CN = rules("CN.sample");

const change = (field: string, to: string, from = "x"): FieldChange => ({ field, from, to });
const check = (r: CountryRules, field: string, to: string) => checkCountryRules(r, [change(field, to)]);
const brokenRules = (r: CountryRules, field: string, to: string) => check(r, field, to).violations.map((v) => v.rule);

describe("parseCountryRules", () => {
  it("reads the real US recording (CRLF, re-indented) and every rule it holds", () => {
    expect(US).toEqual({
      iso2Code: "US",
      isStateRequired: true,
      supportedStatesList: expect.arrayContaining(["WA", "NY", "DC"]),
      isPostalCodeRequired: true,
      postalCodeRegex: "^\\d{5}(-\\d{4})?$",
      isCityRequired: true,
      isVatIdSupported: false,
      phoneNumberRegex: "^(1[ \\-\\/\\.]?)?(\\((\\d{3})\\)|(\\d{3}))[ \\-\\/\\.]?(\\d{3})[ \\-\\/\\.]?(\\d{4})$",
      isTaxIdSupported: true,
      isTaxIdOptional: true,
      countryCallingCodesList: ["1"],
    });
    expect(US.supportedStatesList).toHaveLength(51);
  });

  it("reads the samples with their BOM; the US sample says what the recording says", () => {
    expect(rules("US.sample")).toEqual(US);
    expect(GB).toMatchObject({ iso2Code: "GB", isStateRequired: false, supportedStatesList: [], isVatIdSupported: true, taxIdFormat: "GB#########", isTaxIdSupported: false });
    expect(DE).toMatchObject({ iso2Code: "DE", postalCodeRegex: "^[0-9]{5,5}$", vatIdRegex: "^DE[\\d]{9,9}$", isTaxIdOptional: true });
    expect(CN).toMatchObject({ iso2Code: "CN", isStateRequired: true, isTaxIdSupported: false, isVatIdSupported: false });
  });

  it("leaves absent rules undefined (the service omits them, it does not send null)", () => {
    expect(US.vatIdRegex).toBeUndefined();
    expect(US.taxIdFormat).toBeUndefined();
    expect(GB.phoneNumberRegex).toBeUndefined();
    expect(parseCountryRules('{"iso2Code":"FR","phoneNumberRegex":null}', "FR")).toEqual({ iso2Code: "FR" });
  });

  it.each([
    ['{"isStateRequired":"yes"}', /isStateRequired of type string, expected a boolean/],
    ['{"postalCodeRegex":5}', /postalCodeRegex of type number, expected a string/],
    ['{"supportedStatesList":"WA"}', /supportedStatesList that is not a list of strings/],
    ['{"iso2Code":"GB"}', /name another country \(iso2Code "GB"\)/],
    ["[]", /not an object \(array\)/],
    ["<html>", /not valid JSON/],
  ])("refuses %s, naming the rule: a rule we cannot read is not skipped", (text, message) => {
    expect(() => parseCountryRules(text, "US")).toThrow(expect.objectContaining({ code: "ResponseParseError", message: expect.stringMatching(message) }));
  });
});

describe("checkCountryRules", () => {
  it("judges only the changes a run would send, and only address, phone and tax changes trigger it", () => {
    expect(checkCountryRules(US, [])).toEqual({ violations: [], unchecked: [] });
    expect(check(US, "PurchaseOrderNumber", "")).toEqual({ violations: [], unchecked: [] });
    expect(touchesCountryRules([change("PurchaseOrderNumber", "1"), change("PrimaryContact_Email", "a@b.c")])).toBe(false);
    for (const field of ["Address_City", "Address_AddressLine1", "Address_Region", "PrimaryContact_PhoneNumber", "TaxId"]) expect(touchesCountryRules([change(field, "1")])).toBe(true);
  });

  describe("US (the recording)", () => {
    it("isStateRequired: an empty state is refused", () => expect(brokenRules(US, "Address_State", "")).toEqual(["isStateRequired"]));
    it("supportedStatesList: a state name or a code in the wrong case is refused, with a hint", () => {
      const [byName] = check(US, "Address_State", "Washington").violations;
      expect(byName).toEqual({
        field: "Address_State",
        rule: "supportedStatesList",
        message: 'Address_State "Washington" is not one of the 51 state codes US supports; e.g. AK, AL, AR (supportedStatesList)',
      });
      expect(check(US, "Address_State", "wa").violations[0].message).toMatch(/did you mean "WA"\?/);
      expect(brokenRules(US, "Address_State", "WA")).toEqual([]);
    });
    it("isCityRequired: an empty city is refused", () => {
      expect(brokenRules(US, "Address_City", "")).toEqual(["isCityRequired"]);
      expect(brokenRules(US, "Address_City", "Redmond")).toEqual([]);
    });
    it("isPostalCodeRequired and postalCodeRegex: empty, short and malformed ZIP codes are refused; ZIP and ZIP+4 pass", () => {
      expect(brokenRules(US, "Address_PostalCode", "")).toEqual(["isPostalCodeRequired"]);
      for (const bad of ["9805", "98052-83", "98052 8300", "ABCDE"]) expect(brokenRules(US, "Address_PostalCode", bad)).toEqual(["postalCodeRegex"]);
      for (const good of ["98052", "98052-8300"]) expect(brokenRules(US, "Address_PostalCode", good)).toEqual([]);
      expect(check(US, "Address_PostalCode", "9805").violations[0].message).toBe(
        'Address_PostalCode "9805" does not match the postal code pattern of US, ^\\d{5}(-\\d{4})?$ (postalCodeRegex)',
      );
    });
    it("phoneNumberRegex: a number short of ten digits, or with letters, is refused; the phone is not quoted", () => {
      for (const bad of ["555-0100", "425 555 01000", "425-555-01xx", "+1 425 555 010"]) {
        const [violation] = check(US, "PrimaryContact_PhoneNumber", bad).violations;
        expect(violation).toMatchObject({ field: "PrimaryContact_PhoneNumber", rule: "phoneNumberRegex" });
        expect(violation.message).not.toContain("555");
      }
      for (const good of ["(425) 555-0100", "1 425 555 0100", "425.555.0100", ""]) expect(brokenRules(US, "PrimaryContact_PhoneNumber", good)).toEqual([]);
    });
    it("phoneNumberRegex on an international number: +1 (the US calling code) is judged without the +; another country's code is not judged, and said", () => {
      expect(brokenRules(US, "PrimaryContact_PhoneNumber", "+1 425 555 0100")).toEqual([]);
      expect(brokenRules(US, "PrimaryContact_PhoneNumber", "+14255550100")).toEqual([]);
      expect(check(US, "PrimaryContact_PhoneNumber", "+49 30 1234 5678")).toEqual({
        violations: [],
        unchecked: ["PrimaryContact_PhoneNumber is written with another country's calling code: the phone number pattern of US (phoneNumberRegex) was not applied."],
      });
    });
    it("tax id: supported and optional, so any value and an empty one pass", () => {
      expect(brokenRules(US, "TaxId", "")).toEqual([]);
      expect(brokenRules(US, "TaxId", "91-1144442")).toEqual([]);
    });
    it("isTaxIdOptional=false: an empty tax id is refused", () => {
      expect(brokenRules({ ...US, isTaxIdOptional: false }, "TaxId", "")).toEqual(["isTaxIdOptional"]);
    });
  });

  describe("GB (sample)", () => {
    it("postalCodeRegex: UK postcodes pass with or without the space; others are refused", () => {
      for (const good of ["SW1A 1AA", "sw1a1aa", "GIR 0AA", "M1 1AE"]) expect(brokenRules(GB, "Address_PostalCode", good)).toEqual([]);
      for (const bad of ["12345", "SW1A-1AA"]) expect(brokenRules(GB, "Address_PostalCode", bad)).toEqual(["postalCodeRegex"]);
    });
    it("no state is required: an empty one passes", () => expect(brokenRules(GB, "Address_State", "")).toEqual([]));
    it("vatIdRegex: where only a VAT id is supported, the tax id must be one; the format is named, the value is not", () => {
      const [violation] = check(GB, "TaxId", "123456789").violations;
      expect(violation).toEqual({ field: "TaxId", rule: "vatIdRegex", message: "TaxId does not match the VAT id pattern of GB (format GB#########) (vatIdRegex)" });
      expect(brokenRules(GB, "TaxId", "GB123456789")).toEqual([]);
      expect(brokenRules(GB, "TaxId", "GBGD123")).toEqual([]);
      expect(brokenRules(GB, "TaxId", "")).toEqual([]);
    });
  });

  describe("DE (sample)", () => {
    it("postalCodeRegex: five digits", () => {
      expect(brokenRules(DE, "Address_PostalCode", "1011")).toEqual(["postalCodeRegex"]);
      expect(brokenRules(DE, "Address_PostalCode", "10115")).toEqual([]);
    });
    it("vatIdRegex: DE and nine digits", () => {
      expect(brokenRules(DE, "TaxId", "DE12345678")).toEqual(["vatIdRegex"]);
      expect(brokenRules(DE, "TaxId", "DE123456789")).toEqual([]);
    });
  });

  describe("CN (sample)", () => {
    it("supportedStatesList: province codes only", () => {
      expect(brokenRules(CN, "Address_State", "Beijing")).toEqual(["supportedStatesList"]);
      expect(brokenRules(CN, "Address_State", "BJ")).toEqual([]);
    });
    it("postalCodeRegex: six digits", () => expect(brokenRules(CN, "Address_PostalCode", "10000")).toEqual(["postalCodeRegex"]));
    it("isTaxIdSupported=false and isVatIdSupported=false: no tax id can be set; clearing one passes", () => {
      expect(brokenRules(CN, "TaxId", "91110000")).toEqual(["isTaxIdSupported"]);
      expect(brokenRules(CN, "TaxId", "")).toEqual([]);
    });
  });

  it("reports every broken rule of a run at once", () => {
    const result = checkCountryRules(US, [change("Address_State", "Washington"), change("Address_PostalCode", "9805"), change("Address_City", "")]);
    expect(result.violations.map((v) => v.rule)).toEqual(["supportedStatesList", "postalCodeRegex", "isCityRequired"]);
  });

  it("a pattern JavaScript cannot compile is reported unchecked, not applied and not a violation", () => {
    const result = check({ ...US, postalCodeRegex: "(?i)^[a-z]{3}$" }, "Address_PostalCode", "anything");
    expect(result).toEqual({ violations: [], unchecked: ["The postalCodeRegex rule of US is not a pattern JavaScript can read; it was not checked."] });
  });
});
