/**
 * The fields partner-billing-sync can own. Names are the desired-row property names:
 * the profile path with levels joined by "_". The list is what Set-PartnerBillingProfile
 * lets a partner set; lengths follow the documented limits where there are any and are
 * conservative elsewhere (the service may refuse more, never less).
 */
export type FieldKind = "text" | "email" | "phone";

export interface ManagedField {
  readonly name: string;
  readonly path: readonly [string, ...string[]];
  readonly minLength: number;
  readonly maxLength: number;
  /** Personal data: masked everywhere outside the history table. */
  readonly personal: boolean;
  readonly kind: FieldKind;
}

function field(name: string, maxLength: number, personal: boolean, kind: FieldKind = "text", minLength = 0): ManagedField {
  return { name, path: name.split("_") as [string, ...string[]], minLength, maxLength, personal, kind };
}

export const MANAGED_FIELDS: readonly ManagedField[] = [
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
];

export const FIELDS_BY_NAME: ReadonlyMap<string, ManagedField> = new Map(MANAGED_FIELDS.map((f) => [f.name, f]));

/** Fields in the profile that partners cannot change; naming one in a desired row is an error. */
export const NOT_SETTABLE: readonly string[] = [
  "CompanyName",
  "BillingCurrency",
  "BillingDay",
  "Address_Country",
  "Address_FirstName",
  "Address_MiddleName",
  "Address_LastName",
  "Address_PhoneNumber",
  "PrimaryContact_MiddleName",
];

export const CONTROL_PROPERTIES = ["Mode", "Suspended", "TenantId", "CredentialRef", "AcceptAddressSuggestion"] as const;
