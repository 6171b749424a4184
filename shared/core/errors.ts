import { redactKnownSecrets } from "./secrets";

/**
 * The one error type of the engine. Every failure that leaves a module is a SyncError:
 * it carries what an operator needs (status, Partner Center code, request ids) and
 * nothing else. In particular it never wraps a transport error, whose request config
 * would carry the Authorization header.
 */
export type SyncErrorCode =
  | "ConfigError"
  | "InvalidDesiredState"
  | "TargetNotFound"
  | "InvalidTargetName"
  | "InvalidRequest"
  | "ResponseParseError"
  | "PartnerCenterError"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "Throttled"
  | "ServiceUnavailable"
  | "StaleEtag"
  | "NetworkError"
  | "Timeout"
  | "AuthError"
  | "StorageError"
  | "InProgress"
  | "NotConverged"
  | "Aborted"
  | "Interrupted"

  // Change control of the desired state: a write without the reason it needs, or nothing to accept.
  | "ReasonRequired"
  | "NothingToAccept";

export interface SyncErrorOptions {
  statusCode?: number;
  /** Partner Center's own error code from the body (e.g. 2055, 900421). */
  serviceCode?: string;
  description?: string;
  correlationId?: string;
  requestId?: string;
  retryable?: boolean;
  /** Seconds the service asked us to wait (Retry-After), when it said. */
  retryAfterInMs?: number;
}

export class SyncError extends Error {
  override readonly name = "SyncError";
  readonly code: SyncErrorCode;
  readonly statusCode?: number;
  readonly serviceCode?: string;
  readonly description?: string;
  readonly correlationId?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  readonly retryAfterInMs?: number;

  constructor(code: SyncErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(redactSecrets(message));
    this.code = code;
    this.statusCode = options.statusCode;
    this.serviceCode = options.serviceCode;
    this.description = options.description === undefined ? undefined : redactSecrets(options.description);
    this.correlationId = options.correlationId;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? false;
    this.retryAfterInMs = options.retryAfterInMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      status: this.statusCode,
      serviceCode: this.serviceCode,
      correlationId: this.correlationId,
      requestId: this.requestId,
    };
  }
}

export function isSyncError(err: unknown): err is SyncError {
  return err instanceof SyncError;
}

/** Turns anything thrown into a SyncError without carrying the original object along. */
export function toSyncError(err: unknown, fallback: SyncErrorCode = "PartnerCenterError"): SyncError {
  if (isSyncError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SyncError(fallback, message);
}

const BEARER = /(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const SECRET_FIELDS = /("?(?:access_token|refresh_token|client_secret|client_assertion|assertion|password)"?\s*[:=]\s*"?)[^"&\s,}]+/gi;

/**
 * Defence in depth for free text that crosses a boundary (error messages, logs): removes
 * every secret value the process holds (see ./secrets), then anything shaped like a bearer
 * token, a JWT or an OAuth secret parameter. The code never puts a token in a message;
 * this catches text that came from elsewhere (a service body).
 */
export function redactSecrets(text: string): string {
  return redactKnownSecrets(text).replace(BEARER, "$1[redacted]").replace(JWT, "[redacted-jwt]").replace(SECRET_FIELDS, "$1[redacted]");
}
