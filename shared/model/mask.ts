import { redactSecrets } from "../core";
import type { FieldChange } from "./diff";
import { anyFieldNamed } from "./kinds";
import type { ResourceKind } from "./resource";

/**
 * The one masking function: logs, telemetry, CLI output and run results all show
 * personal values through it. Keeps the first character so an operator can tell values
 * apart, hides the rest and the length.
 */
export function maskValue(value: string): string {
  if (value === "") return "";
  const at = value.indexOf("@");
  if (at > 0) return `${value[0]}***@***`;
  return `${[...value][0]}***`;
}

/** Whether a field holds personal data; a field not known (to the kind, when given) counts as personal. */
export function isPersonal(fieldName: string, kind?: ResourceKind): boolean {
  return (kind ? kind.fieldsByName.get(fieldName) : anyFieldNamed(fieldName))?.personal ?? true;
}

export function maskChange(change: FieldChange, kind?: ResourceKind): FieldChange {
  if (!isPersonal(change.field, kind)) return change;
  return { field: change.field, from: maskValue(change.from), to: maskValue(change.to) };
}

export function maskChanges(changes: readonly FieldChange[], kind?: ResourceKind): FieldChange[] {
  return changes.map((c) => maskChange(c, kind));
}

const EMAIL = /[^\s@"'<>;,()]+@[^\s@"'<>;,()]+/g;
/**
 * A run of letters, digits and . / - ( ) +, joined across single spaces between digit
 * groups ("+1 425 555 0100", "(425) 555-0100"): phone numbers, tax ids, account numbers.
 * Masked when it holds 5 digits or more; GUIDs (request and correlation ids) and AADSTS
 * codes are kept, they identify a request, not a person.
 */
const DIGIT_RUN = /[+(]?[A-Za-z0-9][A-Za-z0-9()./-]*(?:(?<=[\d)])\s(?=[(+]?\d)[A-Za-z0-9()./+-]+)*/g;
const KEEP = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|AADSTS\d{1,10})$/i;
/** C0 and C1 controls and the line separators: outside text becomes one line (no forged log lines). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
/** What is kept of one outside text, after masking. */
export const MAX_OUTSIDE_TEXT = 300;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** A value as a pattern: where it starts or ends with a letter or digit, not inside a longer word ("Art" is no part of "Partner"). */
function valuePattern(value: string): string {
  const before = WORD_CHAR.test(value[0]) ? "(?<![\\p{L}\\p{N}])" : "";
  const after = WORD_CHAR.test(value[value.length - 1]) ? "(?![\\p{L}\\p{N}])" : "";
  return `${before}${escapeRegExp(value)}${after}`;
}

/** Each known value (and its JSON-escaped form), ignoring case, replaced by its mask: longest first. */
function maskValues(text: string, personalValues: Iterable<string>): string {
  const values = [...new Set([...personalValues].map((v) => v.trim()))].filter((v) => v.length >= 3);
  if (values.length === 0) return text;
  const forms = new Set(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]));
  const pattern = new RegExp([...forms].sort((a, b) => b.length - a.length).map(valuePattern).join("|"), "giu");
  return text.replace(pattern, (match) => maskValue(match));
}

/**
 * Text of our own that may quote a value (an error message): secrets the process holds,
 * each known personal value and anything shaped like an e-mail address are masked; ids
 * stay readable. Values under 3 characters are left alone: masking them would garble the
 * text without protecting anyone.
 */
export function maskKnownValues(text: string, personalValues: Iterable<string>): string {
  return maskValues(redactSecrets(text), personalValues).replace(EMAIL, (match) => maskValue(match));
}

/** The generic shapes of personal data: e-mail addresses, phone numbers, tax ids. */
export function maskShapes(text: string): string {
  return text
    .replace(EMAIL, (match) => maskValue(match))
    .replace(DIGIT_RUN, (match) => (KEEP.test(match) || (match.match(/\d/g)?.length ?? 0) < 5 ? match : maskValue(match)));
}

/**
 * The one function every text from outside (a service's error description and data, an
 * identity library's message) passes through before it goes into any message: secrets
 * the process holds, then every personal value known (by value, before shapes can cut a
 * value into pieces that no longer match), then the shapes; one line, bounded.
 */
export function maskOutsideText(text: string, personalValues: Iterable<string> = []): string {
  const masked = maskShapes(maskValues(redactSecrets(text.replace(CONTROL, " ")), personalValues)).replace(/\s{2,}/g, " ").trim();
  const chars = [...masked];
  return chars.length > MAX_OUTSIDE_TEXT ? `${chars.slice(0, MAX_OUTSIDE_TEXT).join("")}…` : masked;
}
