import { partnerBillingProfile } from "./resources/partnerBillingProfile";
export { CONTROL_PROPERTIES, type FieldKind, type ManagedField } from "./resource";

/**
 * The partner billing profile's fields, under the names they had before resource kinds:
 * code and tests that mean the partner's own profile. Anything that follows a desired row
 * takes the fields from the row's kind (desired.resource.kind).
 */
export const MANAGED_FIELDS = partnerBillingProfile.fields;
export const FIELDS_BY_NAME = partnerBillingProfile.fieldsByName;
export const NOT_SETTABLE = partnerBillingProfile.notSettable;
