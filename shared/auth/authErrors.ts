import { isOAuthErrorCode, SyncError } from "../core";
import { maskOutsideText } from "../model";

/** What the endpoint said when it refused; `error` is the OAuth code (invalid_grant, authorization_pending...). */
export interface TokenEndpointRefusal {
  status: number;
  /** Only in RFC 6749's character set, at most 64 characters. */
  error?: string;
  /** The AADSTS number (digits), from error_codes or the description. */
  aadsts?: string;
  /** error_description as received: shown only in a sign-in, masked (see authErrorFromTokenEndpoint). */
  said?: string;
  /** Our words for an answer that was no OAuth error (an HTML page). */
  kind?: string;
  correlationId?: string;
}

/**
 * Token-endpoint refusals turned into errors an operator can act on. Each is a fresh
 * SyncError "AuthError" whose serviceCode is the AADSTS code (or the OAuth error when
 * there is none): the telemetry alert keys on it. Never retried: none of these changes
 * by asking again.
 */
export const CONSENT_AGAIN = "consent again with `billing-sync auth login`";

export interface AuthErrorContext {
  action: "exchange" | "login";
  /** Where the refresh token lives, for the message: `Key Vault secret "x" of https://v...`. */
  refreshTokenLocation?: string;
}

/** The refresh token is dead: expired, revoked, or invalidated by a password change or policy. */
const EXPIRED_OR_REVOKED = new Set(["700082", "70008", "700081", "50173", "50133", "700084", "70043", "50089", "70000"]);
/** The stored sign-in no longer satisfies MFA or a Conditional Access policy. */
const INTERACTION_REQUIRED = new Set(["50076", "50079", "50074", "50158", "53003", "50105"]);
/** The app's own identity (assertion or secret) was refused. */
const CLIENT_CREDENTIAL: Record<string, string> = {
  "7000215": "the client secret in Key Vault is wrong: store the current one (PARTNER_CENTER_CLIENT_SECRET_NAME)",
  "7000222": "the client secret in Key Vault has expired: create a new one on the app registration and store it (PARTNER_CENTER_CLIENT_SECRET_NAME)",
  "70021": "no federated credential on the app registration matches the managed identity: add one (issuer https://login.microsoftonline.com/<tenant>/v2.0, subject = the identity's object id)",
  "700211": "no federated credential on the app registration matches the assertion's issuer: add one for the managed identity",
  "700213": "no federated credential on the app registration matches the managed identity (subject): add one with the identity's object id",
  "700212": "no federated credential on the app registration matches the assertion's audience: use the cloud's api://AzureADTokenExchange audience",
  "700024": "the managed identity's client assertion is outside its valid time range",
  "700027": "the client assertion's signature was refused",
  "7000218": "the app registration wants a client credential: set PARTNER_CENTER_CLIENT_CREDENTIAL (managed-identity or secret) and its prerequisites",
  "700025":
    "the app registration is a public client, so it refuses a client credential: set 'Allow public client flows' to No on the app registration, then consent again",
};
const CONFIGURATION: Record<string, string> = {
  "700016": "no app with PARTNER_CENTER_CLIENT_ID exists in the tenant PARTNER_CENTER_TENANT_ID: check both settings",
  "90002": "the tenant PARTNER_CENTER_TENANT_ID was not found: check the setting and PARTNER_CENTER_CLOUD",
  "900023": "PARTNER_CENTER_TENANT_ID is not a valid tenant",
  "65001": "the app has no consent for Partner Center user_impersonation: grant admin consent on the app registration, then consent again with `billing-sync auth login`",
  "500011": "the Partner Center API is not registered in the tenant: check PARTNER_CENTER_CLOUD",
};

function codeOf(refusal: TokenEndpointRefusal): string {
  return refusal.aadsts ? `AADSTS${refusal.aadsts}` : (refusal.error ?? `HTTP ${refusal.status}`);
}

function tail(refusal: TokenEndpointRefusal): string {
  return ` (${codeOf(refusal)}${refusal.correlationId ? `, correlation id ${refusal.correlationId}` : ""})`;
}

/**
 * The description is free text from outside. An exchange runs inside a sync, before the run
 * has read the profile whose values such text could quote, and its error is shared by every
 * run that asks within a minute: it is not shown, the AADSTS code and correlation id say
 * what it was. A sign-in (`auth login`) has no profile in play: shown, masked by shape.
 */
function description(refusal: TokenEndpointRefusal, context: AuthErrorContext): string | undefined {
  if (refusal.kind) return refusal.kind;
  if (context.action !== "login" || refusal.said === undefined) return undefined;
  return maskOutsideText(refusal.said.split(/\r?\n/)[0]) || undefined;
}

export function authErrorFromTokenEndpoint(refusal: TokenEndpointRefusal, context: AuthErrorContext): SyncError {
  // A telemetry dimension: the AADSTS number, else an OAuth code of the registered form.
  const serviceCode = refusal.aadsts ? `AADSTS${refusal.aadsts}` : refusal.error && isOAuthErrorCode(refusal.error) ? refusal.error : undefined;
  const said = description(refusal, context);
  const options = { statusCode: refusal.status, serviceCode, correlationId: refusal.correlationId, description: said };
  const code = refusal.aadsts ?? "";
  const token = context.refreshTokenLocation ? `The refresh token in ${context.refreshTokenLocation}` : "The refresh token";
  let message: string;
  if (CLIENT_CREDENTIAL[code]) {
    message = `The identity platform refused the app's credential: ${CLIENT_CREDENTIAL[code]}${tail(refusal)}.`;
  } else if (CONFIGURATION[code]) {
    message = `The identity platform refused the request: ${CONFIGURATION[code]}${tail(refusal)}.`;
  } else if (INTERACTION_REQUIRED.has(code)) {
    message = `${token} no longer satisfies MFA or a Conditional Access policy${tail(refusal)}: ${CONSENT_AGAIN}, signing in with MFA.`;
  } else if (context.action === "exchange" && (EXPIRED_OR_REVOKED.has(code) || refusal.error === "invalid_grant")) {
    message = `${token} has expired or was revoked${tail(refusal)}: ${CONSENT_AGAIN}.`;
  } else if (refusal.status === 429 || refusal.status >= 500) {
    message = `The identity platform answered ${refusal.status}${tail(refusal)}; ${context.action === "login" ? "try `billing-sync auth login` again in a few minutes" : "the next run tries again"}.`;
  } else {
    const lookup = refusal.aadsts ? ` (what it means: https://login.microsoftonline.com/error?code=${refusal.aadsts})` : "";
    message = `The identity platform refused the ${context.action === "login" ? "sign-in" : "token exchange"}${tail(refusal)}${said ? `: ${said}` : lookup}.`;
    if (context.action === "exchange") message += ` If this persists, ${CONSENT_AGAIN}.`;
  }
  return new SyncError("AuthError", message, options);
}
