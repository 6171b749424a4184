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
