import { inspect } from "node:util";
import type { TokenCredential } from "@azure/core-auth";
import { createUserCredential, type UserAuthOptions } from "../../shared/auth/userCredential";
import { partnerCenterScope } from "../../shared/partnerCenter/clouds";
import { isSyncError, SyncError } from "../../shared/core/errors";
import { loadSettings, type UserAuthSettings } from "../../shared/config/settings";
import { CLIENT_SECRET_NAME, expectNoSecrets, REFRESH_TOKEN_SECRET, startAuthRig, type AuthRig, type AuthRigOptions } from "../support/authRig";

/**
 * The refresh-token credential as production builds it (createUserCredential), against a
 * local token endpoint and a local Key Vault reached by the real SecretClient over HTTPS.
 * Only the managed identity is a stub (IMDS cannot run here).
 */
const SCOPE = partnerCenterScope("https://api.partnercenter.microsoft.com");
const HOUR = 3600_000;

let rig: AuthRig;
let clock: number;
const rotations: { secretName: string; secretVersion?: string; rotatedAt: Date }[] = [];
const errors: unknown[] = [];

async function setUp(options: AuthRigOptions = {}, extra: Partial<UserAuthOptions> = {}): Promise<TokenCredential> {
  rig = await startAuthRig(options);
  clock = Date.parse("2026-03-01T10:00:00Z");
  rotations.length = 0;
  const settings = loadSettings({ ...rig.env, BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true" });
  return createUserCredential(
    settings,
    settings.auth as UserAuthSettings,
    rig.userAuth({ now: () => clock, onRotated: (info) => rotations.push(info), ...extra }),
  );
}

async function failure(credential: TokenCredential): Promise<SyncError> {
  try {
    await credential.getToken(SCOPE);
  } catch (err) {
    errors.push(err);
    if (isSyncError(err)) return err;
    throw err;
  }
  throw new Error("getToken succeeded where it should have failed");
}

afterEach(async () => {
  try {
    // Whatever the test did: no token, refresh token, assertion or client secret in any error it produced.
    expectNoSecrets(
      Object.fromEntries(errors.map((e, i) => [`error ${i}`, `${inspect(e, { depth: 5 })} ${JSON.stringify(e)} ${String(e)}`])),
      rig.secretValues(),
    );
  } finally {
    errors.length = 0;
    await rig.stop();
  }
});

describe("refresh-token credential: exchange, cache, rotation", () => {
  it("exchanges the refresh token from Key Vault with a client assertion and stores the rotated one back exactly once", async () => {
    const credential = await setUp();
    const consented = rig.consent();
    const token = await credential.getToken(SCOPE);

    const [exchange] = rig.endpoint.exchanges();
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    expect(exchange.path).toBe(`/${rig.tenantId}/oauth2/v2.0/token`);
    expect(exchange.form).toMatchObject({
      grant_type: "refresh_token",
      client_id: rig.clientId,
      scope: `${SCOPE} offline_access`,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(exchange.form.refresh_token === consented).toBe(true);
    expect(exchange.form.client_assertion === rig.identity.assertion).toBe(true);
    expect(exchange.form.client_secret).toBeUndefined();
    expect(rig.identity.scopes).toContain("api://AzureADTokenExchange/.default");
    expect(rig.identity.scopes).toContain("https://vault.azure.net/.default");

    expect(rig.endpoint.acceptsAccessToken(token!.token)).toBe(true);
    expect(token!.expiresOnTimestamp).toBe(clock + HOUR);
    expect(token!.refreshAfterTimestamp).toBe(clock + HOUR - 5 * 60_000);

    const versions = rig.vault.versions(REFRESH_TOKEN_SECRET);
    expect(versions).toHaveLength(2);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(1);
    expect(versions[1].value === rig.endpoint.issued.at(-1)).toBe(true);
    expect(rotations).toEqual([{ secretName: REFRESH_TOKEN_SECRET, secretVersion: versions[1].version, rotatedAt: new Date(clock) }]);
  });

  it("reuses the cached access token: many calls, one exchange, one Key Vault read", async () => {
    const credential = await setUp();
    rig.consent();
    const first = await credential.getToken(SCOPE);
    clock += 30 * 60_000;
    const again = await Promise.all([credential.getToken(SCOPE), credential.getToken(SCOPE), credential.getToken(SCOPE)]);
    expect(again.map((t) => t!.token === first!.token)).toEqual([true, true, true]);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    expect(rig.vault.requests.filter((r) => r.method === "GET" && r.authorized)).toHaveLength(1);
  });

  it("refreshes before expiry: 5 minutes ahead, with the rotated refresh token, and stores the next one", async () => {
    const credential = await setUp();
    rig.consent();
    const first = await credential.getToken(SCOPE);
    const rotatedOnce = rig.vault.current(REFRESH_TOKEN_SECRET);

    clock = first!.expiresOnTimestamp - 5 * 60_000 - 1;
    expect((await credential.getToken(SCOPE))!.token === first!.token).toBe(true);
    expect(rig.endpoint.exchanges()).toHaveLength(1);

    clock = first!.expiresOnTimestamp - 5 * 60_000;
    const second = await credential.getToken(SCOPE);
    expect(second!.token === first!.token).toBe(false);
    expect(rig.endpoint.exchanges()).toHaveLength(2);
    expect(rig.endpoint.exchanges()[1].form.refresh_token === rotatedOnce).toBe(true);
    expect(rig.vault.versions(REFRESH_TOKEN_SECRET)).toHaveLength(3);
    expect(rotations).toHaveLength(2);
  });

  it("caps the margin at half the lifetime of a short-lived token, so it is still cached", async () => {
    const credential = await setUp({ accessTokenLifetimeInSeconds: 120 });
    rig.consent();
    const first = await credential.getToken(SCOPE);
    expect(first!.refreshAfterTimestamp).toBe(clock + 60_000);
    clock += 59_000;
    await credential.getToken(SCOPE);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    clock += 1_000;
    await credential.getToken(SCOPE);
    expect(rig.endpoint.exchanges()).toHaveLength(2);
  });

  it("concurrent callers share one exchange and one write-back", async () => {
    const credential = await setUp();
    rig.consent();
    rig.endpoint.delayInMs = 150;
    const tokens = await Promise.all(Array.from({ length: 12 }, () => credential.getToken(SCOPE)));
    expect(new Set(tokens.map((t) => t!.token)).size).toBe(1);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(1);
    expect(rotations).toHaveLength(1);
  });

  it("writes nothing when the endpoint returns no new refresh token", async () => {
    const credential = await setUp();
    rig.consent();
    rig.endpoint.rotate = false;
    await credential.getToken(SCOPE);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(0);
    expect(rotations).toHaveLength(0);
  });

  it("secret mode: the client secret comes from Key Vault, no assertion is asked for", async () => {
    const credential = await setUp({ clientCredential: "secret" });
    rig.consent();
    await credential.getToken(SCOPE);
    const [exchange] = rig.endpoint.exchanges();
    expect(exchange.form.client_secret === rig.clientSecret).toBe(true);
    expect(exchange.form.client_assertion).toBeUndefined();
    expect(rig.identity.scopes.filter((s) => s.startsWith("api://"))).toEqual([]);
    expect(rig.vault.requests.some((r) => r.path === `/secrets/${CLIENT_SECRET_NAME}` && r.status === 200)).toBe(true);
  });

  it("retries a 503 from the token endpoint with the shared backoff, then succeeds", async () => {
    const credential = await setUp();
    rig.consent();
    rig.endpoint.refuseNext({ status: 503, error: "temporarily_unavailable" });
    await credential.getToken(SCOPE);
    expect(rig.endpoint.requests.filter((r) => r.form.grant_type === "refresh_token")).toHaveLength(2);
    expect(rig.waits).toHaveLength(1);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(1);
  });
});

describe("refresh-token credential: errors an operator can act on, never retried in a loop", () => {
  it("an expired refresh token (AADSTS700082): consent again, remembered for a minute instead of re-asked", async () => {
    const credential = await setUp({}, { failureMemoryInMs: 60_000 });
    rig.consent();
    rig.endpoint.revokeAll();
    const error = await failure(credential);
    expect(error).toMatchObject({ code: "AuthError", serviceCode: "AADSTS700082", statusCode: 400 });
    expect(error.message).toContain("consent again with `billing-sync auth login`");
    expect(error.message).toContain(`Key Vault secret "${REFRESH_TOKEN_SECRET}"`);

    for (let i = 0; i < 5; i++) await failure(credential);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
    expect(rig.vault.writes(REFRESH_TOKEN_SECRET)).toHaveLength(0);

    clock += 60_000;
    await failure(credential);
    expect(rig.endpoint.exchanges()).toHaveLength(2);
  });

  it("invalid_grant without an AADSTS code also says to consent again", async () => {
    const credential = await setUp();
    rig.consent();
    rig.endpoint.refuseNext({ status: 400, error: "invalid_grant", description: "Bad refresh token" });
    const error = await failure(credential);
    expect(error).toMatchObject({ code: "AuthError", serviceCode: "invalid_grant" });
    expect(error.message).toMatch(/has expired or was revoked.*consent again with `billing-sync auth login`/);
  });

  it("MFA or Conditional Access no longer satisfied (AADSTS50076): sign in again with MFA", async () => {
    const credential = await setUp();
    rig.consent();
    rig.endpoint.refuseNext({ status: 400, error: "invalid_grant", aadsts: "50076", description: "Due to a configuration change you must use multi-factor authentication." });
    const error = await failure(credential);
    expect(error).toMatchObject({ serviceCode: "AADSTS50076" });
    expect(error.message).toMatch(/no longer satisfies MFA.*consent again with `billing-sync auth login`, signing in with MFA/);
  });

  it("a refresh token issued to a public client (AADSTS700025) says to turn public client flows off", async () => {
    const credential = await setUp({ publicClient: true });
    rig.consent();
    const error = await failure(credential);
    expect(error).toMatchObject({ serviceCode: "AADSTS700025" });
    expect(error.message).toContain("'Allow public client flows' to No");
  });

  it("a federated credential that does not match the managed identity (AADSTS700213) is named", async () => {
    const credential = await setUp();
    rig.consent();
    // The app registration trusts another identity than the one the app runs as.
    rig.endpoint.options.clientAssertion = "assertion-of-another-identity";
    const error = await failure(credential);
    expect(error).toMatchObject({ serviceCode: "AADSTS700213" });
    expect(error.message).toMatch(/federated credential .* managed identity/);
  });

  it("Key Vault 403 on read: names the vault and the role, and asks the token endpoint nothing", async () => {
    const credential = await setUp();
    rig.consent();
    rig.vault.forbid = { read: true };
    const error = await failure(credential);
    expect(error).toMatchObject({ code: "AuthError", serviceCode: "KeyVaultForbidden", statusCode: 403 });
    expect(error.message).toContain(rig.vault.url);
    expect(error.message).toContain('"Key Vault Secrets Officer" role');
    expect(error.message).toContain("ForbiddenByRbac");
    expect(rig.endpoint.requests).toHaveLength(0);
    await failure(credential);
    expect(rig.vault.requests.filter((r) => r.status === 403)).toHaveLength(1);
  });

  it("Key Vault 403 on write-back: the run fails (the chain is at risk) with the role to grant", async () => {
    const credential = await setUp();
    rig.consent();
    rig.vault.forbid = { write: true };
    const error = await failure(credential);
    expect(error).toMatchObject({ serviceCode: "KeyVaultForbidden" });
    expect(error.message).toMatch(/refused to write secret "partner-center-refresh-token" \(403 ForbiddenByRbac\).*"Key Vault Secrets Officer" role/);
    expect(rig.endpoint.exchanges()).toHaveLength(1);
  });

  it("a firewall 403 says the firewall, not the role", async () => {
    const credential = await setUp();
    rig.consent();
    rig.vault.forbid = { read: true, innerCode: "ForbiddenByFirewall" };
    const error = await failure(credential);
    expect(error.message).toMatch(/firewall blocks/);
  });

  it("secret mode: a wrong client secret in Key Vault (AADSTS7000215) says which secret to fix", async () => {
    const credential = await setUp({ clientCredential: "secret" });
    rig.consent();
    rig.endpoint.options.clientSecret = "rotated-elsewhere";
    const error = await failure(credential);
    expect(error).toMatchObject({ serviceCode: "AADSTS7000215" });
    expect(error.message).toContain("client secret in Key Vault is wrong");
    expect(error.message).toContain("PARTNER_CENTER_CLIENT_SECRET_NAME");
  });

  it("secret mode: a 403 on the client secret alone names Key Vault Secrets User (read is enough for it)", async () => {
    const credential = await setUp({ clientCredential: "secret" });
    rig.consent();
    rig.vault.forbid = { read: true, only: CLIENT_SECRET_NAME };
    const error = await failure(credential);
    expect(error).toMatchObject({ serviceCode: "KeyVaultForbidden" });
    expect(error.message).toMatch(/refused to read secret "partner-center-client-secret".*"Key Vault Secrets User" role/);
    expect(rig.endpoint.requests).toHaveLength(0);
  });

  it("no refresh token in Key Vault yet: run `billing-sync auth login`", async () => {
    const credential = await setUp();
    const error = await failure(credential);
    expect(error).toMatchObject({ serviceCode: "KeyVaultSecretNotFound" });
    expect(error.message).toContain("Store the first refresh token with `billing-sync auth login`");
  });

  it("no managed identity available: names AZURE_CLIENT_ID, keeps no SDK error object", async () => {
    const credential = await setUp();
    rig.consent();
    rig.identity.failWith = { name: "CredentialUnavailableError", message: "ManagedIdentityCredential: no managed identity endpoint found." };
    const error = await failure(credential);
    expect(error).toMatchObject({ code: "AuthError", serviceCode: "AzureCredentialUnavailable" });
    expect(error.message).toContain("AZURE_CLIENT_ID");
    expect(Object.values(error).some((v) => v instanceof Error)).toBe(false);
  });

  it("printing the credential shows no token", async () => {
    const credential = await setUp();
    rig.consent();
    await credential.getToken(SCOPE);
    const printed = { inspect: inspect(credential, { depth: 10, showHidden: true }), json: JSON.stringify(credential) ?? "" };
    expect(rig.endpoint.issued.length).toBeGreaterThan(0);
    expectNoSecrets(printed, rig.secretValues());
  });
});
