import { redactSecrets } from "../../shared/core/errors";
import { maskChange, maskKnownValues, maskValue } from "../../shared/model/mask";
import { checkTargetName } from "../../shared/model/target";

describe("maskValue", () => {
  it("keeps the first character only", () => {
    expect(maskValue("Avery")).toBe("A***");
    expect(maskValue("avery@contoso.example")).toBe("a***@***");
    expect(maskValue("")).toBe("");
  });
});

describe("maskChange", () => {
  it("masks personal fields and leaves the others readable", () => {
    expect(maskChange({ field: "TaxId", from: "US-91-1", to: "US-92-2" })).toEqual({ field: "TaxId", from: "U***", to: "U***" });
    expect(maskChange({ field: "Address_AddressLine1", from: "1 Way", to: "2 Way" })).toEqual({ field: "Address_AddressLine1", from: "1***", to: "2***" });
    expect(maskChange({ field: "PurchaseOrderNumber", from: "1", to: "2" })).toEqual({ field: "PurchaseOrderNumber", from: "1", to: "2" });
  });
});

describe("maskKnownValues", () => {
  it("masks each known personal value and any e-mail address in free text, longest first", () => {
    const text = "TaxId DE123456789 for Avery Example <avery@contoso.example>, also someone@else.example; PO 10001";
    expect(maskKnownValues(text, ["DE123456789", "Avery Example", "Avery", "PO"])).toBe("TaxId D*** for A*** <a***@***>, also s***@***; PO 10001");
  });

  it("leaves values under 3 characters alone instead of garbling the text", () => {
    expect(maskKnownValues("A to B", ["A", "B"])).toBe("A to B");
  });
});

describe("redactSecrets", () => {
  it("removes bearer tokens, JWTs and OAuth secret parameters", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl";
    const text = `Authorization: Bearer abc.def-123 and ${jwt} refresh_token=r1r2r3&x=1 {"client_secret":"cs1"}`;
    const out = redactSecrets(text);
    for (const secret of ["abc.def-123", jwt, "r1r2r3", "cs1"]) expect(out).not.toContain(secret);
  });
});

describe("checkTargetName", () => {
  it.each(["default", "contoso-eu", "tenant_1.prod"])("accepts %s", (n) => expect(checkTargetName(n)).toBe(n));
  it.each(["", "a/b", "a'b", "a#b", "a?b", "a\u0001b", "-lead", "x".repeat(64), "a b"])("refuses %j", (n) => {
    expect(() => checkTargetName(n)).toThrow(/is not allowed/);
  });
});
