import { documentFromDesired, entityFromDocument, parseDesiredEntity } from "../../shared/model/desired";
import { buildPutBody, planChanges, withoutManaged } from "../../shared/model/diff";
import { kindOfEntity, RESOURCE_KINDS, resourceOfEntity } from "../../shared/model/kinds";
import { maskChanges } from "../../shared/model/mask";
import { parseProfile } from "../../shared/model/profile";
import { defineKind, field } from "../../shared/model/resource";
import { customerBillingProfile } from "../../shared/model/resources/customerBillingProfile";
import { partnerBillingProfile } from "../../shared/model/resources/partnerBillingProfile";
import { quoteEtag } from "../../shared/partnerCenter/client";
import { fixtureJson } from "../support/fixtures";

const CUSTOMER = "C5757D70-06F3-4F23-8367-5A9E55019F94";

describe("resource kinds", () => {
  it("a row with CustomerId is a customer billing profile; a row without one is the partner's own, as before", () => {
    expect(kindOfEntity({ CustomerId: CUSTOMER, Email: "a@b.co" })).toBe(customerBillingProfile);
    expect(kindOfEntity({ PurchaseOrderNumber: "1" })).toBe(partnerBillingProfile);
    expect(resourceOfEntity({ CustomerId: CUSTOMER })).toEqual({ kind: customerBillingProfile, id: CUSTOMER.toLowerCase() });
    expect(resourceOfEntity({ CustomerId: "nope" })).toEqual({ kind: customerBillingProfile, id: undefined });
  });

  it("the customer kind manages what the tools set (facts §1), and refuses the country", () => {
    expect(customerBillingProfile.fields.map((f) => f.name).sort()).toEqual(
      [
        "FirstName",
        "LastName",
        "Email",
        "CompanyName",
        "Culture",
        "Language",
        "DefaultAddress_AddressLine1",
        "DefaultAddress_AddressLine2",
        "DefaultAddress_City",
        "DefaultAddress_State",
        "DefaultAddress_PostalCode",
        "DefaultAddress_Region",
        "DefaultAddress_PhoneNumber",
      ].sort(),
    );
    expect(customerBillingProfile.notSettable).toContain("DefaultAddress_Country");
    expect(customerBillingProfile.path(CUSTOMER.toLowerCase())).toBe(`/v1/customers/${CUSTOMER.toLowerCase()}/profiles/billing`);
    expect(customerBillingProfile.etag).toEqual({ ifMatchHeader: true });
    expect(partnerBillingProfile.etag).toEqual({ ifMatchHeader: false });
    expect([customerBillingProfile.objectType, partnerBillingProfile.objectType]).toEqual(["CustomerBillingProfile", "BillingProfile"]);
  });

  it("names are unique within each kind, and every path matches its name", () => {
    for (const kind of RESOURCE_KINDS) {
      expect(new Set(kind.fields.map((f) => f.name)).size).toBe(kind.fields.length);
      for (const f of kind.fields) expect(f.path.join("_")).toBe(f.name);
      expect(kind.defaultTarget(CUSTOMER.toLowerCase())).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/);
    }
  });
});

describe("customer desired rows", () => {
  it("keeps the customer's fields and its tenant id, lower-cased", () => {
    const d = parseDesiredEntity("customer-x", { CustomerId: ` ${CUSTOMER} `, FirstName: " Robin ", DefaultAddress_City: "Seattle", Culture: "en-GB", Language: "en" });
    expect(d.resource).toEqual({ kind: customerBillingProfile, id: CUSTOMER.toLowerCase() });
    expect([...d.fields]).toEqual([
      ["FirstName", "Robin"],
      ["DefaultAddress_City", "Seattle"],
      ["Culture", "en-GB"],
      ["Language", "en"],
    ]);
  });

  it.each([
    [{ CustomerId: "not-a-guid" }, /CustomerId must be the customer's tenant id, a GUID/],
    [{ CustomerId: CUSTOMER, Email: "not-an-email" }, /Email is not a valid e-mail address/],
    [{ CustomerId: CUSTOMER, DefaultAddress_Country: "DE" }, /DefaultAddress_Country cannot be set by partners/],
    [{ CustomerId: CUSTOMER, Emial: "a@b.co" }, /Emial is not a known property \(did you mean Email\?\)/],
    [{ CustomerId: CUSTOMER, defaultaddress_city: "x" }, /did you mean DefaultAddress_City\?/],
    [{ CustomerId: CUSTOMER, Phone: "+1 425 555 0100" }, /Phone is not a known property \(did you mean DefaultAddress_PhoneNumber\?\)/],
    [{ CustomerId: CUSTOMER, PurchaseOrderNumber: "1" }, /PurchaseOrderNumber is not a known property/],
    [{ CustomerId: CUSTOMER, Culture: "English (US)" }, /Culture must be a language tag/],
    [{ CustomerId: CUSTOMER, DefaultAddress_AddressLine1: "" }, /DefaultAddress_AddressLine1 must not be empty/],
  ])("names what is wrong: %j", (entity, message) => {
    expect(() => parseDesiredEntity("customer-x", entity)).toThrow(message);
    expect(() => parseDesiredEntity("customer-x", entity)).toThrow(/describes a customer billing profile/);
  });

  it("round-trips a profile-shaped document with CustomerId at the top", () => {
    const doc = { CustomerId: CUSTOMER.toLowerCase(), Mode: "enforce", Email: "a@b.co", DefaultAddress: { City: "Paris", PostalCode: "75001" } };
    const entity = entityFromDocument("customer-x", doc);
    expect(entity).toEqual({ CustomerId: CUSTOMER.toLowerCase(), Mode: "enforce", Email: "a@b.co", DefaultAddress_City: "Paris", DefaultAddress_PostalCode: "75001" });
    expect(documentFromDesired(parseDesiredEntity("customer-x", entity))).toEqual({ ...doc, Suspended: false });
  });

  it("masks the customer's personal fields and leaves the others readable", () => {
    const masked = maskChanges(
      [
        { field: "Email", from: "old@x.example", to: "new@x.example" },
        { field: "FirstName", from: "Avery", to: "Robin" },
        { field: "DefaultAddress_City", from: "Redmond", to: "Seattle" },
        { field: "CompanyName", from: "Contoso", to: "Fabrikam" },
      ],
      customerBillingProfile,
    );
    expect(masked).toEqual([
      { field: "Email", from: "o***@***", to: "n***@***" },
      { field: "FirstName", from: "A***", to: "R***" },
      { field: "DefaultAddress_City", from: "Redmond", to: "Seattle" },
      { field: "CompanyName", from: "Contoso", to: "Fabrikam" },
    ]);
  });
});

describe("the docs' customer billing profile examples through parse, diff and PUT body", () => {
  it("the camelCase GET example: only the managed fields change in the PUT body, everything else goes back as read", () => {
    const get = fixtureJson("customer-billing-profile-get.json");
    const live = parseProfile(JSON.stringify(get), "GET", {}, customerBillingProfile);
    expect(live.etag).toBe("-4242348048554929329");
    const desired = parseDesiredEntity("c", { CustomerId: CUSTOMER, FirstName: "Robin", DefaultAddress_AddressLine2: "Suite 100" });
    const changes = planChanges(desired, live);
    expect(changes.map((c) => c.field)).toEqual(["DefaultAddress_AddressLine2", "FirstName"]);
    const body = buildPutBody(live, changes);
    expect(withoutManaged(body, { kind: customerBillingProfile })).toEqual(withoutManaged(get, { kind: customerBillingProfile }));
    expect(body).toMatchObject({ firstName: "Robin", defaultAddress: { addressLine2: "Suite 100", country: "US" }, attributes: { etag: "-4242348048554929329" } });
  });

  it("the PascalCase PUT example is read the same way, keys kept as sent", () => {
    const put = fixtureJson("customer-billing-profile-put-request.json");
    const live = parseProfile(JSON.stringify(put), "GET", {}, customerBillingProfile);
    const desired = parseDesiredEntity("c", { CustomerId: CUSTOMER, LastName: "Doe", DefaultAddress_Region: "WA" });
    const body = buildPutBody(live, planChanges(desired, live));
    expect(body).toMatchObject({ LastName: "Doe", DefaultAddress: { Region: "WA" }, Attributes: { Etag: "-4242348048554929329" } });
    expect(Object.keys(body)).toEqual(Object.keys(put));
  });
});

describe("a third kind is a new definition, not a branch in the engine", () => {
  const legal = defineKind({
    name: "test-legal-profile",
    title: "legal business profile",
    fields: [field("CompanyName", 100, false), field("PrimaryContact_Email", 254, true, "email")],
    notSettable: ["Address_Country"],
    unmanagedPersonal: [],
    path: () => "/v1/profiles/legalbusiness",
    pathTemplate: "/v1/profiles/legalbusiness",
    etag: { ifMatchHeader: false },
    objectType: "LegalBusinessProfile",
    defaultTarget: () => "legal",
  });

  it("parse, plan and PUT body work from the definition alone", () => {
    // The PS fixture of the legal business profile carries attributes without an etag.
    const live = parseProfile(JSON.stringify({ companyName: "Old", primaryContact: { email: "a@b.co" }, attributes: { objectType: "LegalBusinessProfile" } }), "GET", {}, legal);
    expect(live.etag).toBeUndefined();
    const desired = { ...parseDesiredEntity("legal", { PurchaseOrderNumber: "x" }), resource: { kind: legal }, fields: new Map([["CompanyName", "New"]]) };
    const changes = planChanges(desired, live);
    expect(changes).toEqual([{ field: "CompanyName", from: "Old", to: "New" }]);
    expect(buildPutBody(live, changes)).toEqual({ companyName: "New", primaryContact: { email: "a@b.co" }, attributes: { objectType: "LegalBusinessProfile" } });
  });
});

describe("quoteEtag", () => {
  it.each([
    ["-4242348048554929329", '"-4242348048554929329"'],
    ['"-2279334701316320663"', '"-2279334701316320663"'],
    ['W/"abc"', 'W/"abc"'],
    ["eyJpZCI6", '"eyJpZCI6"'],
  ])("%s → %s", (etag, quoted) => {
    expect(quoteEtag(etag)).toBe(quoted);
  });
});
