import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { registerSecret } from "../core";
import type { SecretClientOptions } from "@azure/keyvault-secrets";
import { type CloudName, CLOUDS } from "../partnerCenter";
import type { Settings, UserAuthSettings } from "../config";
import { clientAssertionFromIdentity, clientSecretFromKeyVault, type ClientAuthentication } from "./clientAuth";
import { KeyVaultSecretStore, type SecretStore } from "./keyVaultSecrets";
import { RefreshTokenCredential, type RefreshTokenCredentialOptions } from "./refreshTokenCredential";

/**
 * Builds the PARTNER_CENTER_AUTH=user credential from the settings. @azure/identity and
 * @azure/keyvault-secrets are loaded on the first token request, not at start-up: they
 * cost cold-start time, and the static mode never needs them.
 */
export interface UserAuthOptions {
  /** Azure access (Key Vault, client assertion); default DefaultAzureCredential: the managed identity in Azure, `az login` on a workstation. */
  azureCredential?: TokenCredential;
  /** Overrides the cloud's authority host (tests: a local token endpoint). */
  authorityHost?: string;
  /** For the SecretClient (tests: `tlsOptions` with a local CA, `disableChallengeResourceVerification`). */
  keyVaultClientOptions?: SecretClientOptions;
  onRotated?: RefreshTokenCredentialOptions["onRotated"];
  refreshMarginInMs?: number;
  failureMemoryInMs?: number;
  tokenRequest?: RefreshTokenCredentialOptions["tokenRequest"];
  now?: () => number;
}

/**
 * require, not import(): in the deployed bundle these packages are CommonJS files of their
 * own (dist/deploy/vendor, see build.mjs), whose named exports an ESM import() would not see.
 */
function loadIdentity(): typeof import("@azure/identity") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("@azure/identity");
}

/** A credential whose tokens (for Key Vault) are registered as secrets when they are obtained. */
function registering(credential: TokenCredential): TokenCredential {
  return {
    async getToken(scopes, options) {
      const token = await credential.getToken(scopes, options);
      registerSecret(token?.token);
      return token;
    },
  };
}

export async function azureIdentityFor(auth: UserAuthSettings, options: UserAuthOptions): Promise<TokenCredential> {
  if (options.azureCredential) return registering(options.azureCredential);
  const { DefaultAzureCredential } = loadIdentity();
  return registering(new DefaultAzureCredential(auth.managedIdentityClientId ? { managedIdentityClientId: auth.managedIdentityClientId } : {}));
}

export async function openSecretStore(vaultUrl: string, identity: TokenCredential, caller: string, options: UserAuthOptions): Promise<SecretStore> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SecretClient } = require("@azure/keyvault-secrets") as typeof import("@azure/keyvault-secrets");
  return new KeyVaultSecretStore(new SecretClient(vaultUrl, identity, options.keyVaultClientOptions), { caller });
}

/**
 * The client assertion comes from the managed identity only, never from a developer's
 * `az login` (which DefaultAzureCredential would fall back to): a user's token is no
 * assertion a federated credential accepts, and would fail only after the sign-in.
 */
export async function clientAuthFor(cloud: CloudName, auth: UserAuthSettings, secrets: SecretStore, options: UserAuthOptions): Promise<ClientAuthentication> {
  if (auth.clientCredential === "secret") return clientSecretFromKeyVault(secrets, auth.clientSecretName);
  let identity = options.azureCredential;
  if (!identity) {
    const { ManagedIdentityCredential } = loadIdentity();
    identity = auth.managedIdentityClientId ? new ManagedIdentityCredential({ clientId: auth.managedIdentityClientId }) : new ManagedIdentityCredential();
  }
  return clientAssertionFromIdentity(identity, CLOUDS[cloud].tokenExchangeAudience);
}

function appIdentityName(auth: UserAuthSettings): string {
  return auth.managedIdentityClientId ? `the app's managed identity (AZURE_CLIENT_ID ${auth.managedIdentityClientId})` : "the app's identity";
}

/** A TokenCredential now; the real one is built on first use, and rebuilt if building failed. */
export function createUserCredential(settings: Settings, auth: UserAuthSettings, options: UserAuthOptions = {}): TokenCredential {
  let built: Promise<RefreshTokenCredential> | undefined;
  const build = async (): Promise<RefreshTokenCredential> => {
    const identity = await azureIdentityFor(auth, options);
    const secrets = await openSecretStore(auth.keyVaultUrl, identity, appIdentityName(auth), options);
    return new RefreshTokenCredential({
      tenantId: auth.tenantId,
      clientId: auth.clientId,
      authorityHost: options.authorityHost ?? settings.authorityHost,
      secrets,
      refreshTokenSecretName: auth.refreshTokenSecretName,
      clientAuth: await clientAuthFor(settings.cloud, auth, secrets, options),
      refreshMarginInMs: options.refreshMarginInMs,
      failureMemoryInMs: options.failureMemoryInMs,
      onRotated: options.onRotated,
      tokenRequest: options.tokenRequest,
      now: options.now,
    });
  };
  return {
    async getToken(scopes: string | string[], getTokenOptions?: GetTokenOptions): Promise<AccessToken> {
      built ??= build().catch((err: unknown) => {
        built = undefined;
        throw err;
      });
      return (await built).getToken(scopes, getTokenOptions);
    },
  };
}
