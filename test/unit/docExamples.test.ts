import { getPath, type JsonObject, parseJsonText, stripBom, toJsonText } from "../../shared/core/json";
import { parseDesiredEntity } from "../../shared/model/desired";
import { buildPutBody, planChanges, withoutManaged } from "../../shared/model/diff";
import { parseProfile } from "../../shared/model/profile";
import { fixtureText } from "../support/fixtures";

/**
 * The public record's examples (test/fixtures: the documented camelCase GET response and
 * PascalCase PUT request with their placeholders quoted, and a profile sample without an
 * ETag) through parse, diff and the PUT body: nothing but the managed fields changes, and
 * with no change the PUT is the example itself, byte for byte in compact form.
 */
const desired = parseDesiredEntity("docs", {
  PurchaseOrderNumber: "PO-2026-10001",
  Address_City: "Bellevue",
  PrimaryContact_Email: "billing@contoso.example",
});

/** What V8 makes of the example in compact form: the reference for "byte for byte". */
const compact = (text: string) => JSON.stringify(JSON.parse(stripBom(text)));

describe.each([
  ["docs-get-response.placeholders-quoted.json", "camel", "<etag>"],
  ["docs-put-request.placeholders-quoted.json", "pascal", "<etag>"],
  ["legal-profile.sample.json", "camel", undefined],
])("%s", (name, casing, etag) => {
  const text = fixtureText(name);
  const live = parseProfile(text, "GET");

  it("reads with its ETag as it stands (or none: an unguarded PUT)", () => {
    expect(live.etag).toBe(etag);
  });

  it("with nothing to change, the PUT body is the example itself, keys, order, casing, nulls and placeholders included", () => {
    expect(toJsonText(buildPutBody(live, []))).toBe(compact(text));
  });

  it("with changes, only the managed fields differ; a field the example lacks is added in its casing", () => {
    const changes = planChanges(desired, live);
    expect(changes.map((c) => c.field)).toEqual(["Address_City", "PrimaryContact_Email", "PurchaseOrderNumber"]);
    const put = parseJsonText(toJsonText(buildPutBody(live, changes)), { maxDepth: 64 }) as JsonObject;
    expect(withoutManaged(put)).toEqual(withoutManaged(live.body));
    // Keys keep their order; a managed field the example lacks (the legal profile has no PO number) comes last.
    const keys = Object.keys(live.body);
    expect(Object.keys(put).slice(0, keys.length)).toEqual(keys);
    expect(Object.keys(put).slice(keys.length)).toEqual(keys.some((k) => /^purchaseOrderNumber$/i.test(k)) ? [] : ["purchaseOrderNumber"]);
    expect(getPath(put, ["Address", "City"])).toBe("Bellevue");
    expect(getPath(put, ["PurchaseOrderNumber"])).toBe("PO-2026-10001");
    const contact = put[casing === "camel" ? "primaryContact" : "PrimaryContact"] as JsonObject;
    expect(contact[casing === "camel" ? "email" : "Email"]).toBe("billing@contoso.example");
  });
});

describe("the documented response with its ETag unquoted", () => {
  it("as printed (<etag>) is not JSON: refused with a position, nothing built from it", () => {
    const verbatim = fixtureText("docs-get-response.placeholders-quoted.json").replace('"<etag>"', "<etag>");
    expect(() => parseProfile(verbatim, "GET")).toThrow(/is not valid JSON \(line 27, column \d+\); nothing was written/);
  });

  it("with a number in its place (as the customer examples' etags read), the number goes back unquoted, digit for digit", () => {
    const numeric = fixtureText("docs-get-response.placeholders-quoted.json").replace('"<etag>"', "-4242348048554929329");
    const live = parseProfile(numeric, "GET");
    expect(live.etag).toBe("-4242348048554929329");
    const put = toJsonText(buildPutBody(live, planChanges(desired, live)));
    expect(put).toContain('"etag":-4242348048554929329,');
  });
});
