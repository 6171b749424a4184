import type { ManagedField } from "./fields";

/**
 * When a live value already satisfies a desired one. Matches how the service treats
 * values: surrounding whitespace is not significant, e-mail addresses are
 * case-insensitive, and null, absent and "" all mean empty.
 */
export function normalise(field: ManagedField, value: string | null | undefined): string {
  const trimmed = (value ?? "").trim();
  return field.kind === "email" ? trimmed.toLowerCase() : trimmed;
}

export function satisfies(field: ManagedField, desired: string, live: string | null | undefined): boolean {
  return normalise(field, desired) === normalise(field, live);
}
