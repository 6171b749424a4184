import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { isSyncError, SyncError } from "../core";
import { authErrorFromTokenEndpoint } from "./authErrors";
import type { ClientAuthentication } from "./clientAuth";
import type { SecretStore } from "./keyVaultSecrets";
import { postTokenForm, readTokenResponse, tokenEndpointUrl, type TokenRequestOptions } from "./tokenEndpoint";

/** The contract's hook (CONTRACTS.md): a rotated refresh token was stored back. */
export interface RefreshTokenRotatedInfo {
  /** The Key Vault secret that was rotated: which partner account (a target's CredentialRef, or the default). */
  secretName: string;
  secretVersion?: string;
  rotatedAt: Date;
}

export interface RefreshTokenCredentialOptions {
  tenantId: string;
  clientId: string;
  authorityHost: string;
  /** Where the refresh token lives (Key Vault). */
  secrets: SecretStore;
  refreshTokenSecretName: string;
  /** The app's credential at the token endpoint; none for a public client. */
  clientAuth?: ClientAuthentication;
  /** Exchange this long before the access token expires; default 5 min (capped at half the token's lifetime). */
  refreshMarginInMs?: number;
  /** A failed exchange is answered from memory this long, so a run of many targets asks once; default 60 s. */
  failureMemoryInMs?: number;
  onRotated?: (info: RefreshTokenRotatedInfo) => void;
  tokenRequest?: TokenRequestOptions;
  now?: () => number;
}

export const DEFAULT_REFRESH_MARGIN_IN_MS = 5 * 60_000;
export const DEFAULT_FAILURE_MEMORY_IN_MS = 60_000;

interface CachedToken {
  token: string;
  expiresOnTimestamp: number;
  refreshAfterTimestamp: number;
}

/**
 * PARTNER_CENTER_AUTH=user: the secure application model. Exchanges the refresh token
 * from Key Vault for a Partner Center access token, keeps the access token in memory
 * until shortly before it expires, and stores every rotated refresh token back as a new
 * secret version, so the 90-day chain never lapses while the app runs.
 *
 * Concurrent callers share one exchange; a failed exchange is remembered for a short
 * while instead of being repeated by every request of a run. Tokens live in #private
 * fields, so printing the object shows none.
 */
export class RefreshTokenCredential implements TokenCredential {
  readonly #options: RefreshTokenCredentialOptions;
  readonly #cache = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<AccessToken>>();
  readonly #failures = new Map<string, { error: SyncError; until: number }>();
  readonly #now: () => number;

  constructor(options: RefreshTokenCredentialOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    const scope = (Array.isArray(scopes) ? scopes : [scopes]).join(" ");
    const now = this.#now();
    const cached = this.#cache.get(scope);
    if (cached && now < cached.refreshAfterTimestamp) return toAccessToken(cached);
    const failure = this.#failures.get(scope);
    if (failure && now < failure.until) throw failure.error;

    let exchange = this.#pending.get(scope);
    if (!exchange) {
      // Not tied to this caller's abort signal: other callers wait on the same exchange.
      exchange = this.#exchange(scope).finally(() => this.#pending.delete(scope));
      this.#pending.set(scope, exchange);
    }
    return abortable(exchange, options.abortSignal);
  }

  async #exchange(scope: string): Promise<AccessToken> {
    const o = this.#options;
    try {
      const current = await o.secrets.get(o.refreshTokenSecretName, { purpose: "refresh-token" });
      const clientFields = o.clientAuth ? await o.clientAuth() : {};
      const answer = await postTokenForm(
        tokenEndpointUrl(o.authorityHost, o.tenantId),
        {
          grant_type: "refresh_token",
          client_id: o.clientId,
          refresh_token: current.value,
          // offline_access keeps a refresh token coming back, so the chain can roll.
          scope: `${scope} offline_access`,
          ...clientFields,
        },
        o.tokenRequest,
      );
      if (!answer.ok) {
        throw authErrorFromTokenEndpoint(answer.refusal, { action: "exchange", refreshTokenLocation: o.secrets.describe(o.refreshTokenSecretName) });
      }
      const issued = readTokenResponse(answer.body);
      const receivedAt = this.#now();
      if (issued.refreshToken !== undefined && issued.refreshToken !== current.value) {
        // Stored before the access token is handed out: a run never succeeds on a chain we failed to keep.
        const stored = await o.secrets.set(o.refreshTokenSecretName, issued.refreshToken, { purpose: "refresh-token" });
        this.#notifyRotated({ secretName: this.#options.refreshTokenSecretName, secretVersion: stored.version, rotatedAt: new Date(receivedAt) });
      }
      const lifetime = issued.expiresInSeconds * 1000;
      const margin = Math.min(o.refreshMarginInMs ?? DEFAULT_REFRESH_MARGIN_IN_MS, lifetime / 2);
      const cached = { token: issued.accessToken, expiresOnTimestamp: receivedAt + lifetime, refreshAfterTimestamp: receivedAt + lifetime - margin };
      this.#cache.set(scope, cached);
      this.#failures.delete(scope);
      return toAccessToken(cached);
    } catch (err) {
      const error = isSyncError(err) ? err : new SyncError("AuthError", `The token exchange failed unexpectedly (${(err as Error)?.name ?? "Error"}).`);
      this.#cache.delete(scope);
      this.#failures.set(scope, { error, until: this.#now() + (o.failureMemoryInMs ?? DEFAULT_FAILURE_MEMORY_IN_MS) });
      throw error;
    }
  }

  #notifyRotated(info: RefreshTokenRotatedInfo): void {
    try {
      this.#options.onRotated?.(info);
    } catch {
      // A telemetry hook must not fail an exchange whose token is already stored.
    }
  }
}

function toAccessToken(cached: CachedToken): AccessToken {
  return { token: cached.token, expiresOnTimestamp: cached.expiresOnTimestamp, refreshAfterTimestamp: cached.refreshAfterTimestamp, tokenType: "Bearer" };
}

function abortable<T>(promise: Promise<T>, abortSignal: GetTokenOptions["abortSignal"]): Promise<T> {
  if (!abortSignal) return promise;
  if (abortSignal.aborted) return Promise.reject(new SyncError("Aborted", "Getting a Partner Center token was aborted."));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SyncError("Aborted", "Getting a Partner Center token was aborted."));
    abortSignal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        abortSignal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        abortSignal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
