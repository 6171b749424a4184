import { randomUUID } from "node:crypto";
import { AttemptError, GUID, isRetryableStatus, numericCode, oauthError, parseRetryAfter, registerSecret, type RetryLoopOptions, SyncError, withRetry } from "../core";
import { authErrorFromTokenEndpoint, type TokenEndpointRefusal } from "./authErrors";

/**
 * The Microsoft identity platform's token endpoint, spoken directly: two grants, each one
 * form POST (RFC 6749 section 6, RFC 8628 section 3.4). Why not a library: docs/auth.md,
 * "Why no OAuth library for the refresh". Nothing here logs; a request
 * body (which holds the refresh token) is built, sent and dropped, never kept in an error.
 */
export interface TokenResponse {
  accessToken: string;
  expiresInSeconds: number;
  /** Entra returns a new one on every exchange; it must be stored back. */
  refreshToken?: string;
}

export type TokenFormResult = { ok: true; body: Record<string, unknown> } | { ok: false; refusal: TokenEndpointRefusal };

export interface TokenRequestOptions {
  abortSignal?: AbortSignal;
  /** One HTTP attempt. */
  timeoutInMs?: number;
  /** 429, 5xx and network failures of the endpoint are retried by the shared loop; OAuth errors never. */
  retry?: Omit<RetryLoopOptions, "abortSignal">;
  /** For the wording of an error that outlasted the retries. */
  action?: "exchange" | "login";
}

export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
export const DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";

export function tokenEndpointUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, "")}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

export function deviceCodeEndpointUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, "")}/${encodeURIComponent(tenantId)}/oauth2/v2.0/devicecode`;
}

/**
 * What a refusal said, each part kept only in its real shape: `error` in RFC 6749's
 * character set, `error_codes` as numbers, the correlation id as a GUID. The description
 * stays raw here: authErrorFromTokenEndpoint decides whether it may be shown at all.
 */
function readRefusal(status: number, text: string): TokenEndpointRefusal {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const description = typeof body.error_description === "string" ? body.error_description : undefined;
    const codes = Array.isArray(body.error_codes) ? body.error_codes : [];
    const fromDescription = description?.match(/AADSTS(\d{1,10})\b/)?.[1];
    const correlationId = typeof body.correlation_id === "string" && GUID.test(body.correlation_id) ? body.correlation_id : undefined;
    return {
      status,
      error: oauthError(body.error),
      aadsts: codes.length > 0 ? numericCode(codes[0]) : fromDescription,
      said: description,
      correlationId,
    };
  } catch {
    return { status, kind: /^\s*</.test(text) ? "an HTML error page" : undefined };
  }
}

/**
 * One form POST with the shared retry loop for transport trouble. Returns the parsed
 * success body or the refusal; throws SyncError only for what no caller can handle
 * (network, timeout, a success body that is not JSON).
 */
export async function postTokenForm(url: string, form: Record<string, string>, options: TokenRequestOptions = {}): Promise<TokenFormResult> {
  const clientRequestId = randomUUID();
  const where = new URL(url);
  const label = `POST ${where.origin}${where.pathname}`;
  return withRetry(
    async () => {
      const signals = [AbortSignal.timeout(options.timeoutInMs ?? 30_000)];
      if (options.abortSignal) signals.push(options.abortSignal);
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            Accept: "application/json",
            "client-request-id": clientRequestId,
            "return-client-request-id": "true",
          },
          body: new URLSearchParams(form).toString(),
          signal: AbortSignal.any(signals),
          redirect: "error",
        });
      } catch (err) {
        // A fetch error may carry the request (and so the form); keep only its kind.
        if (options.abortSignal?.aborted) throw new SyncError("Aborted", `${label} was aborted.`);
        const cause = (err as { cause?: { code?: unknown } }).cause;
        const networkCode = typeof cause?.code === "string" ? cause.code : (err as Error).name === "TimeoutError" ? "ETIMEDOUT" : "UNKNOWN";
        const error = new SyncError("AuthError", `${label} failed (${networkCode}): the identity platform was not reachable.`, {
          serviceCode: networkCode,
        });
        throw new AttemptError(error, { networkCode });
      }
      const text = await response.text();
      if (response.ok) {
        try {
          return { ok: true as const, body: JSON.parse(text) as Record<string, unknown> };
        } catch {
          throw new SyncError("AuthError", `${label} answered ${response.status} with a body that is not JSON.`, { statusCode: response.status });
        }
      }
      const refusal = readRefusal(response.status, text);
      if (isRetryableStatus(response.status)) {
        const headers = Object.fromEntries(response.headers.entries());
        const retryAfterInMs = parseRetryAfter(headers, Date.now());
        const error = authErrorFromTokenEndpoint(refusal, { action: options.action ?? "exchange" });
        throw new AttemptError(error, { status: response.status, retryAfterInMs });
      }
      return { ok: false as const, refusal };
    },
    { ...options.retry, abortSignal: options.abortSignal },
  );
}

/** Reads a successful token answer; a missing access token or lifetime is an error, not a default. */
export function readTokenResponse(body: Record<string, unknown>): TokenResponse {
  const accessToken = body.access_token;
  const expiresIn = typeof body.expires_in === "string" ? Number(body.expires_in) : body.expires_in;
  if (typeof accessToken !== "string" || accessToken === "") {
    throw new SyncError("AuthError", "The identity platform answered without an access token.", { serviceCode: "invalid_token_response" });
  }
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new SyncError("AuthError", "The identity platform answered without a valid expires_in.", { serviceCode: "invalid_token_response" });
  }
  const refreshToken = typeof body.refresh_token === "string" && body.refresh_token !== "" ? body.refresh_token : undefined;
  registerSecret(accessToken);
  registerSecret(refreshToken);
  return { accessToken, expiresInSeconds: expiresIn, refreshToken };
}
