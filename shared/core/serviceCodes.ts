/**
 * Codes that services put in their error bodies and headers reach messages, history and
 * telemetry dimensions (serviceCode), where nobody reads them as free text. So each is
 * kept only in the shape real ones have; anything else (a sentence, a quoted value, a
 * token) is dropped, never shortened into something that looks like a code.
 */

/** Partner Center's `code` and Entra's `error_codes` entries: a number, at most 10 digits. */
export function numericCode(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 && value < 1e10 ? String(value) : undefined;
  return typeof value === "string" && /^\d{1,10}$/.test(value) ? value : undefined;
}

/** RFC 6749 section 5.2: `error` is 1*( %x20-21 / %x23-5B / %x5D-7E ); real ones are short. */
const OAUTH_ERROR = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

/** The OAuth `error` of a token-endpoint answer, if it is one; otherwise undefined. */
export function oauthError(value: unknown): string | undefined {
  return typeof value === "string" && OAUTH_ERROR.test(value) ? value : undefined;
}

/** The form every registered OAuth error code takes (invalid_grant, slow_down...): fit for a telemetry dimension. */
export function isOAuthErrorCode(value: string): boolean {
  return /^[a-z][a-z0-9_]{0,63}$/.test(value);
}

/** An Azure REST error code (SecretNotFound, TableNotFound, OperationTimedOut) or a Node error code (ECONNRESET). */
export function azureErrorCode(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(value) ? value : undefined;
}
