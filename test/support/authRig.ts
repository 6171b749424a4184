import { randomBytes, randomUUID } from "node:crypto";
import type { UserAuthOptions } from "../../shared/auth/userCredential";
import { sleep } from "../../shared/core/http";
import { FakeKeyVault, StubAzureIdentity } from "./fakeKeyVault";
import { FakeTokenEndpoint } from "./fakeTokenEndpoint";

/**
 * The production auth path with local stand-ins: a token endpoint, a Key Vault reached
 * by the real SecretClient over HTTPS, and a stub for the managed identity. `env` holds
 * the settings an operator would set; `secretValues()` lists every value that must never
 * appear in output.
 */
export interface AuthRig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  endpoint: FakeTokenEndpoint;
  vault: FakeKeyVault;
  identity: StubAzureIdentity;
  env: Record<string, string>;
  /** Retry waits of the token request, in ms. */
  waits: number[];
  userAuth(extra?: Partial<UserAuthOptions>): UserAuthOptions;
  /** Seeds Key Vault with a refresh token the endpoint accepts, as `auth login` would. */
  consent(): string;
  secretValues(): string[];
  stop(): Promise<void>;
}

export const REFRESH_TOKEN_SECRET = "partner-center-refresh-token";
export const CLIENT_SECRET_NAME = "partner-center-client-secret";

export interface AuthRigOptions {
  clientCredential?: "managed-identity" | "secret";
  publicClient?: boolean;
  accessTokenLifetimeInSeconds?: number;
}

export async function startAuthRig(options: AuthRigOptions = {}): Promise<AuthRig> {
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const clientSecret = `cs-${randomBytes(18).toString("base64url")}`;
  const identity = new StubAzureIdentity();
  const endpoint = new FakeTokenEndpoint({
    tenantId,
    clientId,
    clientAssertion: identity.assertion,
    clientSecret,
    publicClient: options.publicClient,
    accessTokenLifetimeInSeconds: options.accessTokenLifetimeInSeconds,
  });
  const vault = new FakeKeyVault(identity.vaultToken);
  await Promise.all([endpoint.start(), vault.start()]);
  const credential = options.clientCredential ?? "managed-identity";
  if (credential === "secret") vault.put(CLIENT_SECRET_NAME, clientSecret);
  const waits: number[] = [];
  return {
    tenantId,
    clientId,
    clientSecret,
    endpoint,
    vault,
    identity,
    waits,
    env: {
      PARTNER_CENTER_AUTH: "user",
      PARTNER_CENTER_TENANT_ID: tenantId,
      PARTNER_CENTER_CLIENT_ID: clientId,
      PARTNER_CENTER_KEY_VAULT_URL: vault.url,
      PARTNER_CENTER_CLIENT_CREDENTIAL: credential,
    },
    userAuth: (extra = {}) => ({
      azureCredential: identity,
      authorityHost: endpoint.url,
      keyVaultClientOptions: vault.clientOptions(),
      tokenRequest: {
        retry: {
          policy: { retryDelayInMs: 10, maxRetryDelayInMs: 40 },
          sleep: (ms, signal) => {
            waits.push(ms);
            return sleep(Math.min(ms, 20), signal);
          },
        },
      },
      ...extra,
    }),
    consent: () => {
      const token = endpoint.mintRefreshToken();
      vault.put(REFRESH_TOKEN_SECRET, token);
      return token;
    },
    secretValues: () => [...endpoint.issued, ...vault.allValues(), identity.vaultToken, identity.assertion, clientSecret],
    stop: async () => {
      await Promise.all([endpoint.stop(), vault.stop()]);
    },
  };
}

/** Fails naming where a secret showed up; never prints the secret itself. */
export function expectNoSecrets(texts: Record<string, string>, secrets: string[]): void {
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    secrets.forEach((secret, i) => {
      if (secret.length >= 8 && text.includes(secret)) leaks.push(`${where} contains secret #${i} (${secret.slice(0, 3)}...)`);
    });
  }
  expect(leaks).toEqual([]);
}
