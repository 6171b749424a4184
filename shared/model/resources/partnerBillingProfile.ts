import { defineKind, field } from "../resource";

/**
 * The partner's own billing profile, GET/PUT /v1/profiles/billing: one per partner
 * account, so a row names no instance. The fields are what Set-PartnerBillingProfile lets
 * a partner set; lengths follow the documented limits where there are any and are
 * generous elsewhere (the service may refuse more, never less).
 */
export const partnerBillingProfile = defineKind({
  name: "partner-billing-profile",
  title: "partner billing profile",
  fields: [
    field("Address_AddressLine1", 200, true, "text", 1),
    field("Address_AddressLine2", 200, true),
    field("Address_City", 100, false),
    field("Address_PostalCode", 20, false),
    field("Address_Region", 100, false),
    field("Address_State", 100, false),
    field("PrimaryContact_Email", 254, true, "email"),
    field("PrimaryContact_FirstName", 100, true),
    field("PrimaryContact_LastName", 100, true),
    field("PrimaryContact_PhoneNumber", 40, true, "phone"),
    field("PurchaseOrderNumber", 100, false),
    field("TaxId", 50, true),
  ],
  notSettable: [
    "CompanyName",
    "BillingCurrency",
    "BillingDay",
    "Address_Country",
    "Address_FirstName",
    "Address_MiddleName",
    "Address_LastName",
    "Address_PhoneNumber",
    "PrimaryContact_MiddleName",
  ],
  unmanagedPersonal: ["Address_FirstName", "Address_MiddleName", "Address_LastName", "Address_PhoneNumber", "PrimaryContact_MiddleName"],
  // What Set-PartnerBillingProfile validates before its PUT (partner-center-api-wave2.md §3).
  address: {
    country: ["Address", "Country"],
    addressLine1: "Address_AddressLine1",
    addressLine2: "Address_AddressLine2",
    city: "Address_City",
    state: "Address_State",
    postalCode: "Address_PostalCode",
    region: "Address_Region",
    phone: "PrimaryContact_PhoneNumber",
    taxId: "TaxId",
  },
  path: () => "/v1/profiles/billing",
  pathTemplate: "/v1/profiles/billing",
  // The docs name no If-Match for this PUT; the ETag travels in the body.
  etag: { ifMatchHeader: false },
  objectType: "BillingProfile",
  defaultTarget: () => "default",
});
