import { GUID, isJsonObject, type Json, type JsonObject, KEY_VAULT_SECRET_NAME, SyncError } from "../core";
import { KEY_PROPERTIES, kindOfEntity } from "./kinds";
import { CONTROL_PROPERTIES, type ManagedField, type ResourceKind, type ResourceRef } from "./resource";

export type Mode = "enforce" | "observe";

/** Which partner account a target is: its tenant and the credential to reach it. */
export interface AccountRef {
  /** The partner's Entra tenant id; absent = the app's default tenant. */
  readonly tenantId?: string;
  /** Name of the Key Vault secret holding this account's refresh token; absent = the default. */
  readonly credentialRef?: string;
}

/** A validated BillingProfileDesired row. Only the fields named in `fields` are ours. */
export interface DesiredState {
  readonly target: string;
  /** What the row is about: its kind (from the key property it has) and, for a customer, whose profile. */
  readonly resource: ResourceRef;
  readonly mode: Mode;
  readonly suspended: boolean;
  /** Why it is suspended, when billing-sync suspended it ("customer gone since DATE"). */
  readonly suspendedReason?: string;
  readonly account: AccountRef;
  /**
   * Send Partner Center's address suggestion (one, from POST /v1/validations/address)
   * instead of refusing the run when the desired address is not what the service would keep.
   */
  readonly acceptAddressSuggestion: boolean;
  /** Field name → desired value, trimmed. Absent = not managed; "" = make it empty. */
  readonly fields: ReadonlyMap<string, string>;
}

/** Properties the Table service and SDK add to every entity. */
const SYSTEM_PROPERTIES = new Set(["partitionKey", "rowKey", "timestamp", "etag", "odata.metadata", "odata.etag"]);

// A pragmatic check, the same spirit as the PowerShell module's: one @, no spaces, a dot in the domain.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^[0-9+()\-. /x]*$/i;
// A BCP 47-style tag as the service uses them: "en", "en-US", "zh-CHS".
const CULTURE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The known property a misspelt one most likely meant (case, separators, or a typo or two). */
export function closestProperty(name: string, kind: ResourceKind): string | undefined {
  const plain = (n: string) => n.toLowerCase().replace(/[_.\s/-]/g, "");
  const all = [...kind.fieldsByName.keys(), ...CONTROL_PROPERTIES, ...KEY_PROPERTIES];
  // A known name's start or its last part ("Phone" for PhoneNumber, "City" for Address_City).
  const part = (n: string) => plain(n.slice(n.lastIndexOf("_") + 1));
  return (
    all.find((n) => plain(n) === plain(name)) ??
    all.find((n) => editDistance(plain(n), plain(name)) <= 2) ??
    (plain(name).length >= 4 ? all.find((n) => part(n) === plain(name) || part(n).startsWith(plain(name)) || plain(n).startsWith(plain(name))) : undefined)
  );
}

/** What is wrong with one value of one field (never echoing it), or undefined when it is valid. */
export function fieldProblem(field: ManagedField, raw: unknown): string | undefined {
  const problems: string[] = [];
  checkValue(field, raw, problems);
  return problems[0];
}

function checkValue(field: ManagedField, raw: unknown, problems: string[]): string | undefined {
  if (typeof raw !== "string") {
    problems.push(`${field.name} must be a string, got ${raw === null ? "null" : typeof raw}`);
    return undefined;
  }
  const value = raw.trim();
  if (value.length < field.minLength) {
    problems.push(`${field.name} must not be empty (the service requires at least ${field.minLength} character)`);
  } else if (value.length > field.maxLength) {
    problems.push(`${field.name} is ${value.length} characters long; the limit is ${field.maxLength}`);
  } else if (/[\u0000-\u001f\u007f]/.test(value)) {
    problems.push(`${field.name} contains a control character`);
  } else if (value !== "" && field.kind === "email" && !EMAIL.test(value)) {
    problems.push(`${field.name} is not a valid e-mail address`);
  } else if (value !== "" && field.kind === "phone" && !PHONE.test(value)) {
    problems.push(`${field.name} may hold only digits, spaces and + ( ) - . / x`);
  } else if (value !== "" && field.kind === "culture" && !CULTURE.test(value)) {
    problems.push(`${field.name} must be a language tag such as "en" or "en-US"`);
  }
  return value;
}

/** A row checked: its state when valid, else every problem, each naming its property. */
export type DesiredCheck = { ok: true; state: DesiredState } | { ok: false; problems: string[]; resource: ResourceRef };

/**
 * Validates a desired-state row (Table entity properties). Every problem is reported at
 * once, each naming its property; values are not echoed, since most are personal data.
 */
export function parseDesiredEntity(target: string, entity: Record<string, unknown>): DesiredState {
  const checked = checkDesiredEntity(target, entity);
  if (checked.ok) return checked.state;
  const { kind } = checked.resource;
  const about = kind.key ? ` (The row has ${kind.key.property}, so it describes a ${kind.title}.)` : "";
  throw new SyncError("InvalidDesiredState", `Desired state for target "${target}" is invalid: ${checked.problems.join("; ")}.${about}`, {
    statusCode: 400,
  });
}

/** parseDesiredEntity without the throw: for checking many rows (an import) and listing each one's problems. */
export function checkDesiredEntity(target: string, entity: Record<string, unknown>): DesiredCheck {
  const kind = kindOfEntity(entity);
  const problems: string[] = [];
  let id: string | undefined;
  const fields = new Map<string, string>();
  let mode: Mode = "enforce";
  let suspended = false;
  let suspendedReason: string | undefined;
  let acceptAddressSuggestion = false;
  let tenantId: string | undefined;
  let credentialRef: string | undefined;
  for (const [name, raw] of Object.entries(entity)) {
    if (SYSTEM_PROPERTIES.has(name) || name.endsWith("@odata.type")) continue;
    if (name === "Mode") {
      if (raw === "enforce" || raw === "observe") mode = raw;
      else problems.push(`Mode must be "enforce" or "observe"`);
      continue;
    }
    if (name === "TenantId") {
      if (typeof raw === "string" && GUID.test(raw.trim())) tenantId = raw.trim().toLowerCase();
      else problems.push("TenantId must be the partner's Entra tenant id, a GUID");
      continue;
    }
    if (name === "CredentialRef") {
      if (typeof raw === "string" && KEY_VAULT_SECRET_NAME.test(raw.trim())) credentialRef = raw.trim();
      else problems.push("CredentialRef must be a Key Vault secret name (1-127 letters, digits and dashes)");
      continue;
    }
    if (name === "Suspended") {
      if (typeof raw === "boolean") suspended = raw;
      else problems.push("Suspended must be a boolean (true or false)");
      continue;
    }
    if (name === "SuspendedReason") {
      if (typeof raw === "string" && raw.length <= 500) suspendedReason = raw.trim() || undefined;
      else problems.push("SuspendedReason must be text of at most 500 characters");
      continue;
    }
    if (name === "AcceptAddressSuggestion") {
      if (typeof raw === "boolean") acceptAddressSuggestion = raw;
      else problems.push("AcceptAddressSuggestion must be a boolean (true or false)");
      continue;
    }
    if (kind.key && name === kind.key.property) {
      id = kind.key.parse(raw);
      if (id === undefined) problems.push(`${name} must be ${kind.key.description}`);
      continue;
    }
    const field = kind.fieldsByName.get(name);
    if (field) {
      const value = checkValue(field, raw, problems);
      if (value !== undefined) fields.set(name, value);
      continue;
    }
    if (kind.notSettable.some((n) => n.toLowerCase() === name.toLowerCase())) {
      problems.push(`${name} cannot be set by partners, so it cannot be managed`);
      continue;
    }
    const hint = closestProperty(name, kind);
    problems.push(`${name} is not a known property${hint ? ` (did you mean ${hint}?)` : ""}`);
  }
  if (problems.length === 0 && kind.validateRow) problems.push(...kind.validateRow(fields));
  if (problems.length > 0) return { ok: false, problems, resource: { kind, id } };
  return { ok: true, state: { target, resource: { kind, id }, mode, suspended, ...(suspended && suspendedReason ? { suspendedReason } : {}), acceptAddressSuggestion, account: { tenantId, credentialRef }, fields } };
}

const isControl = (name: string) => (CONTROL_PROPERTIES as readonly string[]).includes(name) || KEY_PROPERTIES.includes(name);

/**
 * Flattens a profile-shaped document ({"PrimaryContact": {"Email": ...}, "Mode": ...})
 * into row properties. Shape errors are reported here; values are checked by
 * parseDesiredEntity, so the file and the table go through one validation.
 */
export function entityFromDocument(target: string, doc: unknown): Record<string, unknown> {
  const flat = flattenDocument(doc);
  if (!flat.ok) {
    throw new SyncError("InvalidDesiredState", flat.problems.length === 0 ? NOT_AN_OBJECT : `Desired state for target "${target}" is invalid: ${flat.problems.join("; ")}.`);
  }
  parseDesiredEntity(target, flat.entity);
  return flat.entity;
}

const NOT_AN_OBJECT = "The desired-state document must be a JSON object shaped like the billing profile.";

/** The shape half of entityFromDocument: nested objects to row properties, values unchecked. No problems listed = not an object. */
export function flattenDocument(doc: unknown): { ok: true; entity: Record<string, unknown> } | { ok: false; problems: string[] } {
  if (!isJsonObject(doc)) return { ok: false, problems: [] };
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const walk = (node: JsonObject, prefix: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      if (key.includes("_")) {
        problems.push(`${[...prefix, key].join(".")}: nest objects instead of joining names with "_"`);
        continue;
      }
      const path = [...prefix, key];
      if (isJsonObject(value) && !(prefix.length === 0 && isControl(key))) {
        walk(value, path);
      } else {
        out[path.join("_")] = value;
      }
    }
  };
  walk(doc, []);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, entity: out };
}

/** What both shapes of a desired state start with: the resource's key and the control properties that are set. */
function controlProperties(state: DesiredState): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  const { kind, id } = state.resource;
  if (kind.key && id !== undefined) out[kind.key.property] = id;
  Object.assign(out, { Mode: state.mode, Suspended: state.suspended });
  if (state.suspendedReason) out.SuspendedReason = state.suspendedReason;
  if (state.account.tenantId) out.TenantId = state.account.tenantId;
  if (state.account.credentialRef) out.CredentialRef = state.account.credentialRef;
  if (state.acceptAddressSuggestion) out.AcceptAddressSuggestion = true;
  return out;
}

/** The desired row as a profile-shaped document, control properties at the top. */
export function documentFromDesired(state: DesiredState): JsonObject {
  const doc: JsonObject = controlProperties(state);
  for (const field of state.resource.kind.fields) {
    const value = state.fields.get(field.name);
    if (value === undefined) continue;
    let node = doc;
    for (const segment of field.path.slice(0, -1)) {
      if (!isJsonObject(node[segment] as Json)) node[segment] = {};
      node = node[segment] as JsonObject;
    }
    node[field.path[field.path.length - 1]] = value;
  }
  return doc;
}

/** Row properties for a desired state (the inverse of parseDesiredEntity). */
export function entityFromDesired(state: DesiredState): Record<string, string | boolean> {
  const entity = controlProperties(state);
  for (const [name, value] of state.fields) entity[name] = value;
  return entity;
}
