import { documentFromDesired, entityFromDocument, parseDesiredEntity } from "../../shared/model/desired";

describe("parseDesiredEntity", () => {
  it("keeps the managed fields, trimmed, and the control properties", () => {
    const d = parseDesiredEntity("default", {
      partitionKey: "default",
      rowKey: "billing-profile",
      timestamp: "x",
      PurchaseOrderNumber: " 10001 ",
      PrimaryContact_Email: "billing@contoso.example",
      Address_AddressLine2: "",
      Mode: "observe",
      Suspended: true,
    });
    expect(d.mode).toBe("observe");
    expect(d.suspended).toBe(true);
    expect([...d.fields]).toEqual([
      ["PurchaseOrderNumber", "10001"],
      ["PrimaryContact_Email", "billing@contoso.example"],
      ["Address_AddressLine2", ""],
    ]);
  });

  it.each([
    [{ PurchaseOrderNumbr: "1" }, /PurchaseOrderNumbr is not a known property \(did you mean PurchaseOrderNumber\?\)/],
    [{ "PrimaryContact.Email": "a@b.co" }, /PrimaryContact\.Email is not a known property \(did you mean PrimaryContact_Email\?\)/],
    [{ Nonsense: "1" }, /Nonsense is not a known property/],
    [{ CompanyName: "Contoso" }, /CompanyName cannot be set by partners/],
    [{ BillingDay: 5 }, /BillingDay cannot be set by partners/],
    [{ Address_Country: "DE" }, /Address_Country cannot be set by partners/],
    [{ BillingCurrency: "EUR" }, /BillingCurrency cannot be set by partners/],
    [{ PrimaryContact_Email: "not-an-email" }, /PrimaryContact_Email is not a valid e-mail address/],
    [{ Address_AddressLine1: "" }, /Address_AddressLine1 must not be empty/],
    [{ Address_AddressLine1: "x".repeat(201) }, /Address_AddressLine1 is 201 characters long; the limit is 200/],
    [{ TaxId: 12345 }, /TaxId must be a string, got number/],
    [{ PrimaryContact_PhoneNumber: "call me" }, /PrimaryContact_PhoneNumber may hold only digits/],
    [{ PurchaseOrderNumber: "a\u0007b" }, /PurchaseOrderNumber contains a control character/],
    [{ Mode: "fix" }, /Mode must be "enforce" or "observe"/],
    [{ Suspended: "yes" }, /Suspended must be a boolean/],
  ])("names what is wrong: %j", (entity, message) => {
    expect(() => parseDesiredEntity("default", entity)).toThrow(message);
  });

  it("reports every problem at once and never echoes a value", () => {
    let message = "";
    try {
      parseDesiredEntity("t1", { PrimaryContact_Email: "jane.doe-at-contoso", TaxId: "x".repeat(60), Foo: "bar" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Desired state for target "t1" is invalid: /);
    expect(message).toContain("PrimaryContact_Email");
    expect(message).toContain("TaxId is 60 characters long");
    expect(message).toContain("Foo is not a known property");
    expect(message).not.toContain("jane.doe");
  });
});

describe("desired documents", () => {
  const doc = { Mode: "enforce", PurchaseOrderNumber: "1", PrimaryContact: { Email: "a@b.co", FirstName: "A" }, Address: { City: "Paris" } };

  it("flattens a profile-shaped document into row properties", () => {
    expect(entityFromDocument("default", doc)).toEqual({
      Mode: "enforce",
      PurchaseOrderNumber: "1",
      PrimaryContact_Email: "a@b.co",
      PrimaryContact_FirstName: "A",
      Address_City: "Paris",
    });
  });

  it("round-trips through the row", () => {
    const state = parseDesiredEntity("default", entityFromDocument("default", doc));
    expect(documentFromDesired(state)).toEqual({ ...doc, Suspended: false });
  });

  it.each([
    [[], /must be a JSON object/],
    [{ PrimaryContact_Email: "a@b.co" }, /nest objects instead of joining names with "_"/],
    [{ Address: { Country: "FR" } }, /Address_Country cannot be set/],
    [{ Address: { Street: "x" } }, /Address_Street is not a known property/],
  ])("refuses %j", (bad, message) => {
    expect(() => entityFromDocument("default", bad)).toThrow(message);
  });
});

describe("account properties", () => {
  it("reads the tenant and credential reference of a target's account", () => {
    const d = parseDesiredEntity("t", { TenantId: "AAAAAAAA-1111-2222-3333-444444444444", CredentialRef: "contoso-eu-refresh" });
    expect(d.account).toEqual({ tenantId: "aaaaaaaa-1111-2222-3333-444444444444", credentialRef: "contoso-eu-refresh" });
  });

  it.each([
    [{ TenantId: "contoso.onmicrosoft.com" }, /TenantId must be the partner's Entra tenant id, a GUID/],
    [{ CredentialRef: "has spaces" }, /CredentialRef must be a Key Vault secret name/],
  ])("refuses %j", (entity, message) => {
    expect(() => parseDesiredEntity("t", entity)).toThrow(message);
  });
});

describe("AcceptAddressSuggestion", () => {
  it("is a boolean control property, false by default, kept in the document and the row", () => {
    expect(parseDesiredEntity("t", { PurchaseOrderNumber: "1" }).acceptAddressSuggestion).toBe(false);
    const state = parseDesiredEntity("t", entityFromDocument("t", { AcceptAddressSuggestion: true, Address: { City: "Seattle" } }));
    expect(state.acceptAddressSuggestion).toBe(true);
    expect(state.fields).toEqual(new Map([["Address_City", "Seattle"]]));
    expect(documentFromDesired(state)).toEqual({ Mode: "enforce", Suspended: false, AcceptAddressSuggestion: true, Address: { City: "Seattle" } });
  });

  it("refuses anything but a boolean, and suggests it for a near miss", () => {
    expect(() => parseDesiredEntity("t", { AcceptAddressSuggestion: "true" })).toThrow(/AcceptAddressSuggestion must be a boolean \(true or false\)/);
    expect(() => parseDesiredEntity("t", { AcceptAddresSuggestion: true })).toThrow(/did you mean AcceptAddressSuggestion\?/);
  });
});
