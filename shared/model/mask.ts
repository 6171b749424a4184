import type { FieldChange } from "./diff";
import { FIELDS_BY_NAME } from "./fields";

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

export function isPersonal(fieldName: string): boolean {
  return FIELDS_BY_NAME.get(fieldName)?.personal ?? true;
}

export function maskChange(change: FieldChange): FieldChange {
  if (!isPersonal(change.field)) return change;
  return { field: change.field, from: maskValue(change.from), to: maskValue(change.to) };
}

export function maskChanges(changes: readonly FieldChange[]): FieldChange[] {
  return changes.map(maskChange);
}

const EMAIL = /[^\s@"'<>;,()]+@[^\s@"'<>;,()]+/g;

/**
 * Free text that may quote the profile (a service error description, a stack): each
 * known personal value, and anything shaped like an e-mail address, is replaced by its
 * mask. Values under 3 characters are left alone: masking them would garble the text
 * without protecting anyone.
 */
export function maskKnownValues(text: string, personalValues: Iterable<string>): string {
  const values = [...new Set(personalValues)].filter((v) => v.trim().length >= 3).sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of values) out = out.split(value).join(maskValue(value));
  return out.replace(EMAIL, (match) => maskValue(match));
}
