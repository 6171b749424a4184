import { parseProfile, liveValue } from "../../shared/model/profile";
import { fixtureJson, fixtureText } from "../support/fixtures";

const valid = JSON.stringify({ purchaseOrderNumber: "1", attributes: { etag: '"e1"', objectType: "BillingProfile" } });

describe("parseProfile", () => {
  it("reads camelCase and PascalCase alike", () => {
    const pascal = parseProfile(JSON.stringify(fixtureJson("seed-request.json")), "GET");
    expect(pascal.etag).toBe('"-2279334701316321663"');
    expect(liveValue(pascal, ["PurchaseOrderNumber"])).toBe("9888");
    const camel = parseProfile(valid, "GET");
    expect(liveValue(camel, ["PurchaseOrderNumber"])).toBe("1");
    expect(camel.etag).toBe('"e1"');
  });

  it("strips a UTF-8 byte order mark", () => {
    expect(parseProfile(`\uFEFF${valid}`, "GET").etag).toBe('"e1"');
  });

  it("refuses the seed's malformed response and says where, without quoting the body", () => {
    const text = fixtureText("seed-response-malformed.txt");
    let error: unknown;
    try {
      parseProfile(text, "GET /v1/profiles/billing");
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: "ResponseParseError", retryable: false });
    expect((error as Error).message).toMatch(/GET \/v1\/profiles\/billing response body is not valid JSON \(line 22, column \d+\); nothing was written/);
    expect((error as Error).message).not.toContain("US-91-1144442");
  });

  it("refuses the documentation's placeholders", () => {
    expect(() => parseProfile(fixtureText("seed-response-placeholders.txt"), "GET")).toThrow(/not valid JSON/);
  });

  it.each([
    ["", /is empty/],
    ["[]", /not an object \(array\)/],
    ["null", /not an object/],
    [JSON.stringify({ attributes: { etag: true } }), /Attributes\.Etag of type boolean, expected a string or a number/],
    [JSON.stringify({ attributes: { etag: { v: 1 } } }), /Attributes\.Etag of type object/],
    ['{"taxId":"a","taxId":"b","attributes":{"etag":"e"}}', /has a property name twice, with different values \(line 1, column \d+\)/],
    ['{"purchaseOrderNumber":1.10,"attributes":{"etag":"e"}}', /PurchaseOrderNumber of type number, expected a string/],
    [JSON.stringify({ taxId: "a", TaxId: "b", attributes: { etag: "e" } }), /differ only by case/],
    [JSON.stringify({ purchaseOrderNumber: 42, attributes: { etag: "e" } }), /PurchaseOrderNumber of type number/],
    [JSON.stringify({ address: "1 Way", attributes: { etag: "e" } }), /Address of type string, expected an object/],
  ])("refuses %s", (text, message) => {
    expect(() => parseProfile(text, "GET")).toThrow(message);
  });

  it.each([5_000, 200_000])("refuses a body nested %i levels deep with a ResponseParseError (it overflowed the stack with a RangeError)", (depth) => {
    for (const inner of ["[".repeat(depth) + "]".repeat(depth), '{"a":'.repeat(depth) + "1" + "}".repeat(depth)]) {
      expect(() => parseProfile(`{"x":${inner},"attributes":{"etag":"e"}}`, "GET")).toThrow(
        expect.objectContaining({ code: "ResponseParseError", message: expect.stringMatching(/is nested more than 64 levels deep/) }),
      );
    }
    expect(parseProfile(`{"x":${"[".repeat(60)}${"]".repeat(60)},"attributes":{"etag":"e","objectType":"BillingProfile"}}`, "GET").etag).toBe("e");
  });

  it.each([
    ["absent", { purchaseOrderNumber: "1", attributes: { objectType: "BillingProfile" } }],
    ["null", { attributes: { etag: null, objectType: "BillingProfile" } }],
    ["empty", { attributes: { etag: "", ObjectType: "billingprofile" } }],
  ])("reads a billing profile whose ETag is %s, with no ETag: a PUT of it is unguarded", (_, body) => {
    const profile = parseProfile(JSON.stringify(body), "GET");
    expect(profile.etag).toBeUndefined();
    expect("etag" in profile).toBe(false);
  });

  it.each([
    ["{}", /has no Attributes\.Etag and does not say it is a billing profile \(Attributes\.ObjectType absent\)/],
    ['{"attributes":{}}', /Attributes\.ObjectType absent/],
    ['{"purchaseOrderNumber":"1"}', /Attributes\.ObjectType absent/],
    // Another resource (the legal business profile sample's attributes) must not be PUT back as the billing profile.
    ['{"companyName":"x","attributes":{"objectType":"LegalBusinessProfile"}}', /Attributes\.ObjectType "LegalBusinessProfile"/],
  ])("refuses %s: without an ETag only a body that says it is a billing profile is read (a PUT replaces the whole profile)", (text, message) => {
    expect(() => parseProfile(text, "GET")).toThrow(expect.objectContaining({ code: "ResponseParseError", message: expect.stringMatching(message) }));
  });

  it("reads an unquoted (numeric) ETag as its digits, and a quoted one as the string", () => {
    expect(parseProfile('{"attributes":{"etag":-4242348048554929329,"objectType":"BillingProfile"}}', "GET").etag).toBe("-4242348048554929329");
    expect(parseProfile('{"attributes":{"etag":"\\"-4242348048554929329\\"","objectType":"BillingProfile"}}', "GET").etag).toBe('"-4242348048554929329"');
  });

  it("reads a key repeated with the same value once (nothing is lost), and keeps refusing case twins", () => {
    expect(liveValue(parseProfile('{"taxId":"a","taxId":"a","attributes":{"etag":"e"}}', "GET"), ["TaxId"])).toBe("a");
    expect(() => parseProfile('{"taxId":"a","TAXID":"a","attributes":{"etag":"e"}}', "GET")).toThrow(/differ only by case/);
  });

  it("says where a body breaks without quoting it, for the lossless parser's errors too", () => {
    const secret = "US-91-1144442";
    for (const text of [`{\n"taxId": "${secret}",\n"x": 01}`, `{\n"taxId": "${secret}"\n"x": 1}`, `{"taxId":"${secret}","taxId":"${secret}2"}`]) {
      let message = "";
      try {
        parseProfile(text, "GET");
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/\(line \d+, column \d+\); nothing was written\.$/);
      expect(message).not.toContain(secret);
      expect(message).not.toContain("taxId");
    }
  });

  it("reads null and absent managed fields as empty", () => {
    const p = parseProfile(JSON.stringify({ taxId: null, attributes: { etag: "e", objectType: "BillingProfile" } }), "GET");
    expect(liveValue(p, ["TaxId"])).toBe("");
    expect(liveValue(p, ["PrimaryContact", "Email"])).toBe("");
  });

  it("with an ETag, refuses a body that says it is something else, or holds nothing of a profile: its PUT would clear what we do not own", () => {
    for (const [body, problem] of [
      [{ attributes: { etag: "1" } }, /has an ETag but no field of a billing profile and no Attributes\.ObjectType/],
      [{ taxId: null, attributes: { etag: "1" } }, /has an ETag but no field of a billing profile/],
      [{ purchaseOrderNumber: "1", attributes: { etag: "1", objectType: "LegalBusinessProfile" } }, /says it is not a billing profile \(Attributes\.ObjectType "LegalBusinessProfile", expected "BillingProfile"\)/],
      [{ items: [], attributes: { etag: "1", objectType: "Collection" } }, /says it is not a billing profile/],
    ] as const) {
      expect(() => parseProfile(JSON.stringify(body), "GET")).toThrow(expect.objectContaining({ code: "ResponseParseError", message: expect.stringMatching(problem) }));
    }
  });

  it("with an ETag, still reads a body without ObjectType that holds a profile's fields, and an empty one that says what it is", () => {
    expect(parseProfile(JSON.stringify({ purchaseOrderNumber: "1", attributes: { etag: "1" } }), "GET").etag).toBe("1");
    expect(parseProfile(JSON.stringify({ attributes: { etag: "1", objectType: "billingprofile" } }), "GET").etag).toBe("1");
  });
});
