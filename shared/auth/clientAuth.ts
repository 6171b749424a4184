import type { TokenCredential } from "@azure/core-auth";
import { registerSecret, SyncError } from "../core";
import { maskOutsideText } from "../model";
import type { SecretStore } from "./keyVaultSecrets";
import { JWT_BEARER_ASSERTION_TYPE } from "./tokenEndpoint";

/**
 * How the app proves itself at the token endpoint: the form fields to add to a request.
 * A refresh token issued to a confidential client is redeemable only together with the
 * app's credential, so a copied refresh token alone is useless.
 */
export type ClientAuthentication = (options?: { abortSignal?: AbortSignal }) => Promise<Record<string, string>>;

/**
 * The managed identity's own token for the token-exchange audience, presented as a
 * client assertion; the app registration trusts it through a federated credential. No
 * secret exists anywhere.
 */
export function clientAssertionFromIdentity(identity: TokenCredential, tokenExchangeAudience: string): ClientAuthentication {
  const scope = `${tokenExchangeAudience}/.default`;
  return async (options = {}) => {
    let token;
    try {
      token = await identity.getToken(scope, { abortSignal: options.abortSignal });
    } catch (err) {
      // Azure identity errors carry guidance text, never a token; keep a bounded, scrubbed first line.
      const e = err as { name?: string; message?: string };
      const said = typeof e.message === "string" ? `: ${maskOutsideText(e.message.split(/\r?\n/)[0])}` : "";
      throw new SyncError(
        "AuthError",
        `The managed identity could not give a client assertion for ${tokenExchangeAudience} (${e.name ?? "Error"}${said}). In Azure, set AZURE_CLIENT_ID to the client id of the user-assigned identity the app registration's federated credential names.`,
        { serviceCode: "ClientAssertionUnavailable" },
      );
    }
    if (!token?.token) throw new SyncError("AuthError", "The managed identity returned no client assertion.", { serviceCode: "ClientAssertionUnavailable" });
    registerSecret(token.token);
    return { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: token.token };
  };
}

/** The fallback: the app registration's client secret, read from Key Vault on each exchange (so a rotated secret is picked up). */
export function clientSecretFromKeyVault(store: SecretStore, secretName: string): ClientAuthentication {
  return async (options = {}) => {
    const secret = await store.get(secretName, { abortSignal: options.abortSignal, purpose: "client-secret" });
    return { client_secret: secret.value };
  };
}

/** A client secret given by hand to `auth login` (never stored by us). */
export function clientSecretValue(secret: string): ClientAuthentication {
  registerSecret(secret);
  return async () => ({ client_secret: secret });
}
