import { GUID } from "../../core";
import { defineKind, field } from "../resource";

/**
 * A customer's billing profile, GET/PUT /v1/customers/{customer-tenant-id}/profiles/billing
 * (partner-center-api-wave2.md §1). A desired row is about a customer when it has a
 * `CustomerId`. Managed fields are what the tools set: Set-PartnerCustomer writes the
 * address lines, city, state, postal code, region, phone, company name and e-mail; PCM's
 * Set-PCCustomerBillingProfile and the .NET sample edit first and last name. Culture and
 * Language are in the model and in the body every tool PUTs back, though no tool has a
 * parameter for them: a service that ignores them shows as not-converged, never as a loop.
 * DefaultAddress.Country is not settable (it is the customer tenant's country).
 */
export const customerBillingProfile = defineKind({
  name: "customer-billing-profile",
  title: "customer billing profile",
  key: {
    property: "CustomerId",
    dimension: "customerTenantId",
    description: "the customer's tenant id, a GUID",
    parse: (raw) => (typeof raw === "string" && GUID.test(raw.trim()) ? raw.trim().toLowerCase() : undefined),
  },
  fields: [
    field("CompanyName", 255, false),
    field("Culture", 20, false, "culture"),
    field("DefaultAddress_AddressLine1", 200, true, "text", 1),
    field("DefaultAddress_AddressLine2", 200, true),
    field("DefaultAddress_City", 100, false),
    field("DefaultAddress_PhoneNumber", 40, true, "phone"),
    field("DefaultAddress_PostalCode", 20, false),
    field("DefaultAddress_Region", 100, false),
    field("DefaultAddress_State", 100, false),
    field("Email", 254, true, "email"),
    field("FirstName", 100, true),
    field("Language", 20, false, "culture"),
    field("LastName", 100, true),
  ],
  notSettable: [
    "Id",
    "DefaultAddress_Country",
    "DefaultAddress_Id",
    "DefaultAddress_FirstName",
    "DefaultAddress_MiddleName",
    "DefaultAddress_LastName",
    "DefaultAddress_EmailAddress",
  ],
  unmanagedPersonal: ["DefaultAddress_FirstName", "DefaultAddress_MiddleName", "DefaultAddress_LastName", "DefaultAddress_EmailAddress", "DefaultAddress_AddressLine3"],
  // Set-PartnerCustomer runs the same AddressValidator before its PUT (§1, §3); a customer profile has no tax id.
  address: {
    country: ["DefaultAddress", "Country"],
    addressLine1: "DefaultAddress_AddressLine1",
    addressLine2: "DefaultAddress_AddressLine2",
    city: "DefaultAddress_City",
    state: "DefaultAddress_State",
    postalCode: "DefaultAddress_PostalCode",
    region: "DefaultAddress_Region",
    phone: "DefaultAddress_PhoneNumber",
  },
  path: (id) => `/v1/customers/${encodeURIComponent(id ?? "")}/profiles/billing`,
  pathTemplate: "/v1/customers/{customer-tenant-id}/profiles/billing",
  // The docs require If-Match (quoted) "for concurrency detection", and their example sends
  // the ETag in the body; the SDKs send only the body. Both go out.
  etag: { ifMatchHeader: true },
  objectType: "CustomerBillingProfile",
  defaultTarget: (id) => `customer-${id ?? ""}`,
});
