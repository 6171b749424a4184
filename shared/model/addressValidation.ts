import { findKey, isJsonObject, type Json, type JsonObject, jsonTypeOf, readJsonObject, SyncError, type SyncErrorOptions } from "../core";
import { satisfies } from "./compare";
import type { DesiredState } from "./desired";
import type { FieldChange } from "./diff";
import { DEFAULT_KIND } from "./kinds";
import { maskChange, maskOutsideText } from "./mask";
import { liveValue, type LiveProfile } from "./profile";
import type { ResourceKind } from "./resource";

/**
 * POST /v1/validations/address, as the public record shows it: since June 2021 a 200 with
 * an AddressValidationResponse {originalAddress, suggestedAddresses[], status,
 * validationMessage}; before, a 200 with an empty body (valid) or a 400 with code 2007
 * (invalid, the corrected address inside the description). Pure parts: the body to send,
 * the answer read, and what a run does with it.
 */
export const ADDRESS_VALIDATION_STATUSES = ["VerifiedShippable", "Verified", "InteractionRequired", "StreetPartial", "PremisesPartial", "Multiple", "None", "NotValidated"] as const;
export type AddressValidationStatus = (typeof ADDRESS_VALIDATION_STATUSES)[number];

/** The address parts the validation takes (PascalCase, as the request examples send them). */
const PART_NAMES = ["AddressLine1", "AddressLine2", "City", "State", "PostalCode"] as const;
type Part = (typeof PART_NAMES)[number];

/** Each part with the kind's managed field for it (none for a kind without an address). */
function partsOf(kind: ResourceKind): (readonly [Part, string])[] {
  const a = kind.address;
  if (!a) return [];
  return [
    ["AddressLine1", a.addressLine1],
    ["AddressLine2", a.addressLine2],
    ["City", a.city],
    ["State", a.state],
    ["PostalCode", a.postalCode],
  ];
}

/** The request body: AddressLine1, City, State, PostalCode and Country are required; AddressLine2 is sent when not empty. */
export type PostalAddress = { [P in Part]?: string } & { Country: string };

export interface AddressValidation {
  /** One of ADDRESS_VALIDATION_STATUSES, another status the service named, or "Valid"/"Invalid" for the 2019 answers. */
  readonly status: string;
  readonly era: 2019 | 2021;
  /** Suggested addresses as answered, keys normalised to PascalCase; parts an answer leaves out are absent. */
  readonly suggestions: readonly PostalAddress[];
  /** validationMessage (2021) or the reason's name (2019), masked. */
  readonly message?: string;
}

/** What the run results and history show of a validation: the status and the suggestions as masked changes. */
export interface AddressValidationSummary {
  status: string;
  /** Each suggestion as the changes it makes to the address sent (masked where personal). */
  suggestions: FieldChange[][];
  /** The run sent the suggestion instead of the desired address (AcceptAddressSuggestion=true). */
  accepted: boolean;
  message?: string;
}

/** A change to one of these makes a run validate the address before its PUT. */
export function changesPostalAddress(changes: readonly FieldChange[], kind: ResourceKind = DEFAULT_KIND): boolean {
  const parts = partsOf(kind);
  return changes.some((c) => parts.some(([, field]) => field === c.field));
}

/** The live profile's country (upper case), from where its kind keeps it. */
export function countryOf(live: LiveProfile): string {
  return live.kind.address ? liveValue(live, live.kind.address.country).trim().toUpperCase() : "";
}

/** The address the PUT would leave: the live one with the planned changes applied. */
export function addressToValidate(live: LiveProfile, changes: readonly FieldChange[]): PostalAddress {
  const value = (field: string) => (changes.find((c) => c.field === field)?.to ?? liveValue(live, live.kind.fieldsByName.get(field)!.path)).trim();
  const address: PostalAddress = { Country: countryOf(live) };
  for (const [part, field] of partsOf(live.kind)) {
    const v = value(field);
    if (part !== "AddressLine2" || v !== "") address[part] = v;
  }
  // Key order as in the documented request: lines, city, state, postal code, then country.
  const { Country, ...rest } = address;
  return { ...rest, Country };
}

function readAddress(value: Json | undefined): PostalAddress | undefined {
  if (!isJsonObject(value ?? null)) return undefined;
  const obj = value as JsonObject;
  const text = (name: string): string | undefined => {
    const key = findKey(obj, name);
    const v = key === undefined ? undefined : obj[key];
    return typeof v === "string" ? v : undefined;
  };
  const address: PostalAddress = { Country: (text("Country") ?? "").toUpperCase() };
  for (const part of PART_NAMES) {
    const v = text(part);
    if (v !== undefined) address[part] = v;
  }
  return address;
}

/** A service message is text from outside: masked by the address's personal parts, then by shape. */
function maskMessage(text: string, sent: PostalAddress): string {
  return maskOutsideText(text, [sent.AddressLine1 ?? "", sent.AddressLine2 ?? ""]);
}

/** A 200 answer with a body (2021). A body we cannot read as one is a ResponseParseError: no PUT follows. */
export function parseAddressValidationBody(text: string, sent: PostalAddress, context: SyncErrorOptions = {}): AddressValidation {
  const fail = (problem: string) =>
    new SyncError("ResponseParseError", `The address validation response ${problem}; nothing was written.`, { ...context, retryable: false });
  const read = readJsonObject(text);
  if ("problem" in read) throw fail(`is ${read.problem}`);
  const obj = read.value;
  const get = (name: string): Json | undefined => {
    const key = findKey(obj, name);
    return key === undefined ? undefined : obj[key];
  };
  const status = get("status");
  if (typeof status !== "string" || status === "") throw fail("has no status");
  const listed = get("suggestedAddresses") ?? [];
  if (!Array.isArray(listed)) throw fail(`has suggestedAddresses of type ${jsonTypeOf(listed)}, expected an array`);
  const suggestions = listed.map(readAddress);
  if (suggestions.some((s) => s === undefined)) throw fail("has a suggested address that is not an object");
  const message = get("validationMessage");
  return {
    status,
    era: 2021,
    suggestions: suggestions as PostalAddress[],
    ...(typeof message === "string" && message !== "" ? { message: maskMessage(message, sent) } : {}),
  };
}

/**
 * A 400 with code 2007 (2019): invalid. Its description is JSON text holding a reason
 * ("ZipCityInvalid - Details: ...", which quotes values, so only its name is kept) and a
 * corrected_address in snake case; the corrected address is the suggestion.
 */
export function parseAddressValidation2007(description: string | undefined): AddressValidation {
  let inner: unknown;
  try {
    inner = description === undefined ? undefined : JSON.parse(description);
  } catch {
    inner = undefined;
  }
  const obj = isJsonObject(inner) ? inner : {};
  const reason = typeof obj.reason === "string" ? /^[A-Za-z]+/.exec(obj.reason)?.[0] : undefined;
  const corrected = isJsonObject(obj.corrected_address ?? null) ? (obj.corrected_address as JsonObject) : undefined;
  const suggestion: PostalAddress | undefined = corrected && {
    ...(typeof corrected.address_line1 === "string" ? { AddressLine1: corrected.address_line1 } : {}),
    ...(typeof corrected.address_line2 === "string" ? { AddressLine2: corrected.address_line2 } : {}),
    ...(typeof corrected.city === "string" ? { City: corrected.city } : {}),
    // The 2019 answer names the state "region".
    ...(typeof corrected.region === "string" ? { State: corrected.region } : {}),
    ...(typeof corrected.postal_code === "string" ? { PostalCode: corrected.postal_code } : {}),
    Country: typeof corrected.country === "string" ? corrected.country.toUpperCase() : "",
  };
  return { status: "Invalid", era: 2019, suggestions: suggestion ? [suggestion] : [], ...(reason ? { message: reason } : {}) };
}

/** The changes a suggestion makes to the address sent, over the parts it names. */
function suggestionChanges(sent: PostalAddress, suggestion: PostalAddress, kind: ResourceKind): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [part, field] of partsOf(kind)) {
    const to = suggestion[part];
    if (to === undefined) continue;
    if (!satisfies(kind.fieldsByName.get(field)!, to, sent[part] ?? "")) out.push({ field, from: sent[part] ?? "", to: to.trim() });
  }
  return out;
}

export type AddressVerdict =
  /** Send the desired address: valid as it is, or unverifiable and accepted by the row. */
  | { kind: "send"; summary: AddressValidationSummary; warning?: string }
  /** Send the service's suggestion: these managed fields take the suggested values. */
  | { kind: "suggestion"; summary: AddressValidationSummary; values: ReadonlyMap<string, string>; warning?: string }
  | { kind: "refuse"; summary: AddressValidationSummary; message: string };

const VERIFIED = new Set(["VerifiedShippable", "Verified", "Valid"]);
const TO_CONFIRM = new Set(["InteractionRequired", "StreetPartial", "PremisesPartial", "Multiple", "Invalid"]);
const INCORRECT = new Set(["None"]);

function describeChanges(changes: readonly FieldChange[], kind: ResourceKind): string {
  return changes.map((c) => maskChange(c, kind)).map((c) => `${c.field} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join(", ");
}

/**
 * What a run does with the answer. Verified with no change to a field the row manages:
 * send. A suggestion that would change a managed field (the service would keep something
 * else: a not-converged loop), or an address to confirm: refuse, unless the row sets
 * AcceptAddressSuggestion=true and there is exactly one suggestion, which is then sent.
 * None: refuse. NotValidated (or a status not in the record): refuse unless accepted,
 * then send the desired address unverified.
 */
export function judgeAddressValidation(validation: AddressValidation, sent: PostalAddress, desired: DesiredState): AddressVerdict {
  const accept = desired.acceptAddressSuggestion;
  const kind = desired.resource.kind;
  const all = validation.suggestions.map((s) => suggestionChanges(sent, s, kind));
  const summary: AddressValidationSummary = {
    status: validation.status,
    suggestions: all.map((changes) => changes.map((c) => maskChange(c, kind))),
    accepted: false,
    ...(validation.message ? { message: validation.message } : {}),
  };
  const said = `Partner Center's address validation answered ${validation.status}${validation.message ? ` (${validation.message})` : ""}`;
  const otherCountry = validation.suggestions.find((s) => s.Country !== "" && s.Country !== sent.Country);
  if (otherCountry) return { kind: "refuse", summary, message: `${said}: it suggests an address in ${otherCountry.Country}, and the country cannot be changed.` };
  const managed = (changes: readonly FieldChange[]) => changes.filter((c) => desired.fields.has(c.field));
  const take = (changes: readonly FieldChange[], leftAlone: readonly FieldChange[]): AddressVerdict => ({
    kind: "suggestion",
    summary: { ...summary, accepted: true },
    values: new Map(managed(changes).map((c) => [c.field, c.to])),
    ...(leftAlone.length ? { warning: `The accepted address suggestion also changes ${leftAlone.map((c) => c.field).join(", ")}, which the desired row does not manage; left as they are.` } : {}),
  });
  const refuseWith = (lead: string) => {
    const listed = all.length === 1 ? `: it suggests ${describeChanges(all[0], kind) || "the address as sent"}` : all.length > 1 ? `: it suggests ${all.map((c, i) => `(${i + 1}) ${describeChanges(c, kind) || "the address as sent"}`).join("; ")}` : "";
    return { kind: "refuse" as const, summary, message: `${said}${listed}. ${lead}` };
  };

  if (VERIFIED.has(validation.status)) {
    const first = all[0] ?? [];
    if (managed(first).length === 0) return { kind: "send", summary };
    if (accept) return take(first, first.filter((c) => !desired.fields.has(c.field)));
    return refuseWith("Partner Center would keep the suggested values, not the desired ones: put them into the desired row, or set AcceptAddressSuggestion=true to send the suggestion.");
  }
  if (TO_CONFIRM.has(validation.status) && all.length > 0) {
    if (!accept) return refuseWith("Put the right address into the desired row, or set AcceptAddressSuggestion=true to send the suggestion.");
    if (all.length === 1) return take(all[0], all[0].filter((c) => !desired.fields.has(c.field)));
    return refuseWith("AcceptAddressSuggestion=true takes a single suggestion only: put the right one into the desired row.");
  }
  if (INCORRECT.has(validation.status) || TO_CONFIRM.has(validation.status)) {
    return refuseWith("The address is incorrect and there is no suggestion: correct it in the desired row.");
  }
  // NotValidated, or a status the public record does not show.
  if (accept) return { kind: "send", summary: { ...summary, accepted: true }, warning: `${said}: the address was not verified and is sent as desired (AcceptAddressSuggestion=true).` };
  return refuseWith("The address could not be verified: check it, and set AcceptAddressSuggestion=true to send it unverified.");
}

/** The desired state this run works to when it sends an accepted suggestion: the row with those values. */
export function withSuggestion(desired: DesiredState, values: ReadonlyMap<string, string>): DesiredState {
  const fields = new Map(desired.fields);
  for (const [field, value] of values) fields.set(field, value);
  return { ...desired, fields };
}
