import type { JsonObject } from "../shared/core";

/**
 * The profile the simulator starts with: the documented example, made valid JSON and
 * camelCased as the live service answers, with the fields older examples lack
 * (billingDay, profileType) so that clients are tested against unknown fields.
 */
export function defaultLiveProfile(): JsonObject {
  return {
    companyName: "Contoso Cloud Partners",
    address: {
      country: "US",
      region: "WA",
      city: "Redmond",
      state: "WA",
      addressLine1: "1 Microsoft Way",
      addressLine2: "",
      postalCode: "98052",
      firstName: null,
      lastName: null,
      phoneNumber: null,
    },
    primaryContact: {
      firstName: "Avery",
      lastName: "Example",
      email: "avery.former@contoso.example",
      phoneNumber: "+1 425 555 0100",
    },
    purchaseOrderNumber: "9888",
    taxId: "US-91-1144442",
    billingCurrency: "USD",
    billingDay: 5,
    profileType: "partner",
    links: { self: { uri: "/profiles/billing", method: "GET", headers: [] } },
    attributes: { etag: '"-2279334701316321663"', objectType: "BillingProfile" },
  };
}
