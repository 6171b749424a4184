import { getPath, type JsonObject, parseJsonText, stripBom, toJsonText } from "../../shared/core/json";
import { parseDesiredEntity } from "../../shared/model/desired";
import { buildPutBody, planChanges, withoutManaged } from "../../shared/model/diff";
import { parseProfile } from "../../shared/model/profile";
import { fixtureText } from "../support/fixtures";

/**
 * The public record's examples (test/fixtures: the documented camelCase GET response and
 * PascalCase PUT request with their placeholders quoted, and the GET response without its
 * etag, as the record's other profiles come) through parse, diff and the PUT body: nothing
 * but the managed fields changes, and with no change the PUT is the example itself, byte
 * for byte in compact form.
 */
const desired = parseDesiredEntity("docs", {
  PurchaseOrderNumber: "PO-2026-10001",
  Address_City: "Bellevue",
  PrimaryContact_Email: "billing@contoso.example",
});

/** What V8 makes of the example in compact form: the reference for "byte for byte". */
const compact = (text: string) => JSON.stringify(JSON.parse(stripBom(text)));

const withoutEtag = fixtureText("docs-get-response.placeholders-quoted.json").replace(/"etag":"<etag>",\s*/, "");

describe.each([
  ["docs-get-response.placeholders-quoted.json", fixtureText("docs-get-response.placeholders-quoted.json"), "camel", "<etag>"],
  ["docs-put-request.placeholders-quoted.json", fixtureText("docs-put-request.placeholders-quoted.json"), "pascal", "<etag>"],
  ["the GET response without its etag", withoutEtag, "camel", undefined],
])("%s", (_name, text, casing, etag) => {
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
    expect(Object.keys(put)).toEqual(Object.keys(live.body));
    expect(getPath(put, ["Address", "City"])).toBe("Bellevue");
    expect(getPath(put, ["PurchaseOrderNumber"])).toBe("PO-2026-10001");
    const contact = put[casing === "camel" ? "primaryContact" : "PrimaryContact"] as JsonObject;
    expect(contact[casing === "camel" ? "email" : "Email"]).toBe("billing@contoso.example");
  });
});

describe("another resource's sample without an ETag", () => {
  it("the legal business profile (attributes.objectType LegalBusinessProfile) is not read as the billing profile: nothing is built from it", () => {
    expect(() => parseProfile(fixtureText("legal-profile.sample.json"), "GET")).toThrow(
      /has no Attributes\.Etag and does not say it is a billing profile \(Attributes\.ObjectType "LegalBusinessProfile"\)/,
    );
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
