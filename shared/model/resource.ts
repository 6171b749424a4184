/**
 * A resource kind is what the engine keeps in its desired state: a profile with one path
 * for GET and PUT, the fields partner-billing-sync may own in it, the fields nobody may
 * set, and how a write is made conditional. Reconcile, diff, desired-row parsing, masking,
 * history and telemetry read all of that from the kind of the desired row; a new kind is
 * a new file under ./resources and one line in ./kinds.ts, never a branch elsewhere.
 */
export type FieldKind = "text" | "email" | "phone" | "culture";

export interface ManagedField {
  /** The desired-row property: the profile path with levels joined by "_". */
  readonly name: string;
  readonly path: readonly [string, ...string[]];
  readonly minLength: number;
  readonly maxLength: number;
  /** Personal data: masked everywhere outside the history table. */
  readonly personal: boolean;
  readonly kind: FieldKind;
}

export function field(name: string, maxLength: number, personal: boolean, kind: FieldKind = "text", minLength = 0): ManagedField {
  return { name, path: name.split("_") as [string, ...string[]], minLength, maxLength, personal, kind };
}

/** The desired-row property naming which instance of a kind a row is about (a customer's tenant id). */
export interface ResourceKey {
  /** Row property, e.g. `CustomerId`. Its presence in a row selects the kind. */
  readonly property: string;
  /** Telemetry dimension carrying the id (ids only: never personal). */
  readonly dimension: string;
  /** What a valid value is, for error messages. */
  readonly description: string;
  /** The value normalised, or undefined when it is not valid. */
  parse(raw: unknown): string | undefined;
}

/**
 * Where a kind's postal address is, and which fields the country's validation rules judge:
 * what the checks before a PUT (GET /v1/countryvalidationrules, POST /v1/validations/address)
 * read and change. Field names are the kind's row names.
 */
export interface AddressRoles {
  /** The profile's country (ISO alpha-2): not settable, the rules' key. */
  readonly country: readonly string[];
  readonly addressLine1: string;
  readonly addressLine2: string;
  readonly city: string;
  readonly state: string;
  readonly postalCode: string;
  readonly region: string;
  readonly phone?: string;
  readonly taxId?: string;
}

export interface EtagPolicy {
  /**
   * Besides Attributes.Etag in the body (every kind), the PUT also sends
   * `If-Match: "<etag>"` (quoted, as the docs of the customer billing profile ask).
   */
  readonly ifMatchHeader: boolean;
}

export interface ResourceKind {
  /** Stable name: history rows, telemetry (`resourceKind`), files. */
  readonly name: string;
  /** For people, e.g. "customer billing profile". */
  readonly title: string;
  /** Absent for a kind with a single instance per partner account (the partner's own profile). */
  readonly key?: ResourceKey;
  readonly fields: readonly ManagedField[];
  readonly fieldsByName: ReadonlyMap<string, ManagedField>;
  /** Profile properties partners cannot change: naming one in a desired row is an error. */
  readonly notSettable: readonly string[];
  /** Personal data in the profile that is not a managed field (row-style names): masked in outside text all the same. */
  readonly unmanagedPersonal: readonly string[];
  /** GET and PUT path under the API base, for the instance `id` (the key's value). */
  path(id: string | undefined): string;
  /** The path with the id as a placeholder: names calls in telemetry without one name per customer. */
  readonly pathTemplate: string;
  readonly etag: EtagPolicy;
  /**
   * Attributes.ObjectType of this kind's body. A profile without an ETag is written
   * unguarded (last writer wins) only when it says it is one: a PUT replaces the whole
   * profile, so `{}` or another resource's body must never be PUT back.
   */
  readonly objectType: string;
  /** The address and the fields the country's rules judge; a kind without one is not checked before its PUT. */
  readonly address?: AddressRoles;
  /** Checks across the fields of one row, beyond each field's own (none yet for either kind). */
  validateRow?(fields: ReadonlyMap<string, string>): string[];
  /** Target name (PartitionKey) of a row that names none. */
  defaultTarget(id: string | undefined): string;
}

/** One instance of a kind: what a run reads and writes. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  /** The key's value (a customer tenant id); absent for single-instance kinds. */
  readonly id?: string;
}

export function defineKind(kind: Omit<ResourceKind, "fieldsByName">): ResourceKind {
  return { ...kind, fieldsByName: new Map(kind.fields.map((f) => [f.name, f])) };
}

/** Control properties of every row (the kind's key property is one more). */
export const CONTROL_PROPERTIES = ["Mode", "Suspended", "SuspendedReason", "TenantId", "CredentialRef", "AcceptAddressSuggestion"] as const;
