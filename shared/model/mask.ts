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
