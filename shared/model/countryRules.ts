import { getPath, type Json, jsonTypeOf, readJsonObject, SyncError, type SyncErrorOptions } from "../core";
import type { FieldChange } from "./diff";
import { DEFAULT_KIND } from "./kinds";
import type { AddressRoles, ResourceKind } from "./resource";

/**
 * A country's validation rules as GET /v1/countryvalidationrules/{iso2} answers them (the
 * one real recording, US 2019, and the PowerShell module's GB, DE and CN samples). Absent
 * fields are omitted by the service, not null: they stay undefined here, and a rule that
 * is undefined is not checked.
 */
export interface CountryRules {
  readonly iso2Code: string;
  readonly isStateRequired?: boolean;
  readonly supportedStatesList?: readonly string[];
  readonly isPostalCodeRequired?: boolean;
  readonly postalCodeRegex?: string;
  readonly isCityRequired?: boolean;
  readonly phoneNumberRegex?: string;
  readonly isTaxIdSupported?: boolean;
  readonly isTaxIdOptional?: boolean;
  readonly isVatIdSupported?: boolean;
  readonly vatIdRegex?: string;
  readonly taxIdFormat?: string;
  /** Calling codes without "+" ("1" for the US): a phone written "+1 ..." is a number of this country. */
  readonly countryCallingCodesList?: readonly string[];
}

/** A desired value that breaks a rule: the field, the rule's property name, and a message safe to log. */
export interface RuleViolation {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

export interface RuleCheck {
  readonly violations: RuleViolation[];
  /** Rules the answer carries that were not applied, and why (a sentence for the run's warnings). */
  readonly unchecked: string[];
}

type Role = Exclude<keyof AddressRoles, "country">;

/** The role a field plays for the country's rules, in this kind. */
function roleOf(roles: AddressRoles | undefined, field: string): Role | undefined {
  if (!roles) return undefined;
  return (Object.keys(roles) as (keyof AddressRoles)[]).find((role): role is Role => role !== "country" && roles[role] === field);
}

/** A change to one of these (an address part, the phone, the tax id) makes a run read the country's rules before its PUT. */
export function touchesCountryRules(changes: readonly FieldChange[], kind: ResourceKind = DEFAULT_KIND): boolean {
  return changes.some((c) => roleOf(kind.address, c.field) !== undefined);
}

const BOOLEANS = ["isStateRequired", "isPostalCodeRequired", "isCityRequired", "isTaxIdSupported", "isTaxIdOptional", "isVatIdSupported"] as const;
const STRINGS = ["postalCodeRegex", "phoneNumberRegex", "vatIdRegex", "taxIdFormat"] as const;

/**
 * Reads a rules body (BOM tolerated, keys in any case). A rule of the wrong type is a
 * ResponseParseError naming it: a rule we could not read is not silently skipped.
 */
export function parseCountryRules(text: string, iso2: string, context: SyncErrorOptions = {}): CountryRules {
  const fail = (problem: string) =>
    new SyncError("ResponseParseError", `The country validation rules of ${iso2} ${problem}; nothing was written.`, { ...context, retryable: false });
  const answer = readJsonObject(text);
  if ("problem" in answer) throw fail(`are ${answer.problem}`);
  const body = answer.value;
  const read = (name: string): Json | undefined => {
    const value = getPath(body, [name]);
    return value === null ? undefined : value;
  };
  const code = read("iso2Code");
  if (code !== undefined && (typeof code !== "string" || code.toUpperCase() !== iso2)) throw fail(`name another country (iso2Code ${JSON.stringify(code)})`);
  const rules: Record<string, unknown> = { iso2Code: iso2 };
  for (const name of BOOLEANS) {
    const value = read(name);
    if (value !== undefined && typeof value !== "boolean") throw fail(`have ${name} of type ${jsonTypeOf(value)}, expected a boolean`);
    if (value !== undefined) rules[name] = value;
  }
  for (const name of STRINGS) {
    const value = read(name);
    if (value !== undefined && typeof value !== "string") throw fail(`have ${name} of type ${jsonTypeOf(value)}, expected a string`);
    if (value !== undefined && value !== "") rules[name] = value;
  }
  for (const name of ["supportedStatesList", "countryCallingCodesList"] as const) {
    const list = read(name);
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) throw fail(`have ${name} that is not a list of strings`);
    rules[name] = list;
  }
  return rules as unknown as CountryRules;
}

/**
 * The forms of a phone the country's pattern may judge: as written; written "+<code> ...",
 * without the "+" and without the code and its separator. Undefined when "+" introduces a
 * calling code that is not the country's (known codes only).
 */
function phoneForms(phone: string, codes: readonly string[]): string[] | undefined {
  if (!phone.startsWith("+")) return [phone];
  const digits = phone.slice(1);
  const code = [...codes].sort((a, b) => b.length - a.length).find((c) => digits.startsWith(c));
  if (code === undefined) return codes.length === 0 ? [digits] : undefined;
  return [digits, digits.slice(code.length).replace(/^[ \-./]+/, "")];
}

function compile(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/**
 * The planned changes checked against the rules of the profile's country. Pure. Only the
 * values a run would send are judged (a live value it leaves alone is the service's own);
 * each broken rule is named by its property in the rules body. Personal values (phone,
 * tax id) are never quoted; city, state and postal code are.
 *
 * Patterns are applied as the service's .NET clients would (Regex.Match: a search, the
 * patterns carry their own anchors). The phone pattern describes the country's own
 * numbers: a phone written with "+" is tried without it, and without its calling code
 * when that is the country's; one with another country's calling code is not judged by it. The PowerShell module checks the city, postal code
 * and state, the state list and the phone pattern; the postal code pattern and the tax
 * id rules are checked here too, as the rules state them.
 */
export function checkCountryRules(rules: CountryRules, changes: readonly FieldChange[], kind: ResourceKind = DEFAULT_KIND): RuleCheck {
  const violations: RuleViolation[] = [];
  const unchecked: string[] = [];
  const country = rules.iso2Code;
  const broken = (field: string, rule: string, message: string) => violations.push({ field, rule, message: `${message} (${rule})` });
  const matches = (rule: "postalCodeRegex" | "phoneNumberRegex" | "vatIdRegex", ...forms: string[]): boolean => {
    const pattern = rules[rule];
    if (pattern === undefined) return true;
    const regex = compile(pattern);
    if (!regex) {
      const note = `The ${rule} rule of ${country} is not a pattern JavaScript can read; it was not checked.`;
      if (!unchecked.includes(note)) unchecked.push(note);
      return true;
    }
    return forms.some((form) => regex.test(form));
  };
  for (const { field, to } of changes) {
    switch (roleOf(kind.address, field)) {
      case "city":
        if (rules.isCityRequired && to === "") broken(field, "isCityRequired", `${field} must not be empty: ${country} requires a city`);
        break;
      case "postalCode":
        if (to === "") {
          if (rules.isPostalCodeRequired) broken(field, "isPostalCodeRequired", `${field} must not be empty: ${country} requires a postal code`);
        } else if (!matches("postalCodeRegex", to)) {
          broken(field, "postalCodeRegex", `${field} ${JSON.stringify(to)} does not match the postal code pattern of ${country}, ${rules.postalCodeRegex}`);
        }
        break;
      case "state": {
        if (!rules.isStateRequired) break;
        const states = rules.supportedStatesList ?? [];
        if (to === "") {
          broken(field, "isStateRequired", `${field} must not be empty: ${country} requires a state`);
        } else if (states.length > 0 && !states.includes(to)) {
          const sameIgnoringCase = states.find((s) => s.toLowerCase() === to.toLowerCase());
          const hint = sameIgnoringCase ? `did you mean ${JSON.stringify(sameIgnoringCase)}?` : `e.g. ${states.slice(0, 3).join(", ")}`;
          broken(field, "supportedStatesList", `${field} ${JSON.stringify(to)} is not one of the ${states.length} state codes ${country} supports; ${hint}`);
        }
        break;
      }
      case "phone": {
        if (to === "" || rules.phoneNumberRegex === undefined) break;
        const forms = phoneForms(to, rules.countryCallingCodesList ?? []);
        if (!forms) {
          unchecked.push(`${field} is written with another country's calling code: the phone number pattern of ${country} (phoneNumberRegex) was not applied.`);
        } else if (!matches("phoneNumberRegex", ...forms)) {
          broken(field, "phoneNumberRegex", `${field} does not match the phone number pattern of ${country}, ${rules.phoneNumberRegex}`);
        }
        break;
      }
      case "taxId":
        if (to === "") {
          if (rules.isTaxIdSupported === true && rules.isTaxIdOptional === false) broken(field, "isTaxIdOptional", `${field} must not be empty: ${country} requires a tax id`);
        } else if (rules.isTaxIdSupported === false && rules.isVatIdSupported === false) {
          broken(field, "isTaxIdSupported", `${field} cannot be set: ${country} supports neither a tax id nor a VAT id (isVatIdSupported is false too)`);
        } else if (rules.isTaxIdSupported !== true && rules.isVatIdSupported === true && !matches("vatIdRegex", to)) {
          // Where only a VAT id is supported, the tax id field holds the VAT id.
          const format = rules.taxIdFormat ? ` (format ${rules.taxIdFormat})` : "";
          broken(field, "vatIdRegex", `${field} does not match the VAT id pattern of ${country}${format}`);
        }
        break;
    }
  }
  return { violations, unchecked };
}
