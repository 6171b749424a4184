import { CLOUDS } from "../../shared/partnerCenter/clouds";
import { loadSettings, loadUserAuthSettings, SETTING_SPECS } from "../../shared/config/settings";

const TENANT = "0f3c2a77-5b8e-4a52-9d43-7c1e0a9b1c01";
const CLIENT = "5A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D";
const user = {
  BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true",
  PARTNER_CENTER_TENANT_ID: TENANT,
  PARTNER_CENTER_CLIENT_ID: CLIENT,
  PARTNER_CENTER_KEY_VAULT_URL: "https://contoso-billing.vault.azure.net/",
};

describe("user-auth settings (PARTNER_CENTER_AUTH=user, the default)", () => {
  it("reads the secure application model settings with their defaults", () => {
    expect(loadSettings(user).auth).toEqual({
      kind: "user",
      tenantId: TENANT,
      clientId: CLIENT.toLowerCase(),
      keyVaultUrl: "https://contoso-billing.vault.azure.net",
      refreshTokenSecretName: "partner-center-refresh-token",
      clientCredential: "managed-identity",
      clientSecretName: "partner-center-client-secret",
      managedIdentityClientId: undefined,
    });
  });

  it("takes the secret names, the client-secret mode and AZURE_CLIENT_ID when set", () => {
    const s = loadSettings({
      ...user,
      PARTNER_CENTER_REFRESH_TOKEN_SECRET: "pc-rt",
      PARTNER_CENTER_CLIENT_CREDENTIAL: "secret",
      PARTNER_CENTER_CLIENT_SECRET_NAME: "pc-cs",
      AZURE_CLIENT_ID: "11111111-2222-3333-4444-555555555555",
    });
    expect(s.auth).toMatchObject({ refreshTokenSecretName: "pc-rt", clientCredential: "secret", clientSecretName: "pc-cs", managedIdentityClientId: "11111111-2222-3333-4444-555555555555" });
  });

  it.each([
    [{ PARTNER_CENTER_TENANT_ID: undefined }, /PARTNER_CENTER_TENANT_ID is required when PARTNER_CENTER_AUTH=user/],
    [{ PARTNER_CENTER_TENANT_ID: "contoso.onmicrosoft.com" }, /PARTNER_CENTER_TENANT_ID must be a GUID/],
    [{ PARTNER_CENTER_CLIENT_ID: undefined }, /PARTNER_CENTER_CLIENT_ID is required/],
    [{ PARTNER_CENTER_CLIENT_ID: "not-a-guid" }, /PARTNER_CENTER_CLIENT_ID must be a GUID/],
    [{ PARTNER_CENTER_KEY_VAULT_URL: undefined }, /PARTNER_CENTER_KEY_VAULT_URL is required/],
    [{ PARTNER_CENTER_KEY_VAULT_URL: "http://contoso.vault.azure.net" }, /PARTNER_CENTER_KEY_VAULT_URL must be an https URL/],
    [{ PARTNER_CENTER_KEY_VAULT_URL: "https://contoso.vault.azure.net/secrets/x" }, /PARTNER_CENTER_KEY_VAULT_URL must be the vault URL alone/],
    [{ PARTNER_CENTER_KEY_VAULT_URL: "contoso" }, /PARTNER_CENTER_KEY_VAULT_URL is not a URL/],
    [{ PARTNER_CENTER_REFRESH_TOKEN_SECRET: "refresh_token" }, /PARTNER_CENTER_REFRESH_TOKEN_SECRET must be a Key Vault secret name/],
    [{ PARTNER_CENTER_CLIENT_SECRET_NAME: "a".repeat(128) }, /PARTNER_CENTER_CLIENT_SECRET_NAME must be a Key Vault secret name/],
    [{ PARTNER_CENTER_CLIENT_CREDENTIAL: "certificate" }, /PARTNER_CENTER_CLIENT_CREDENTIAL must be managed-identity or secret/],
    [{ AZURE_CLIENT_ID: "my-identity" }, /AZURE_CLIENT_ID must be the managed identity's client id/],
    [{ PARTNER_CENTER_CLOUD: "germany" }, /Germany closed on 2021-10-29/],
  ])("names the bad setting: %j", (override, message) => {
    expect(() => loadSettings({ ...user, ...override })).toThrow(message);
  });

  it("static mode needs none of them", () => {
    expect(loadSettings({ BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true", PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "t" }).auth.kind).toBe("static");
  });

  it("auth login reads the auth settings without storage or schedule", () => {
    const { BILLING_SYNC_STORAGE: _omit, ...loginEnv } = user;
    expect(loadUserAuthSettings({ ...loginEnv, PARTNER_CENTER_CLOUD: "china" })).toMatchObject({
      cloud: "china",
      authorityHost: "https://login.chinacloudapi.cn",
      auth: { tenantId: TENANT },
    });
  });

  it("lists the auth settings; the ones infra must set are marked production", () => {
    const spec = (name: string) => SETTING_SPECS.find((s) => s.name === name);
    for (const name of ["PARTNER_CENTER_TENANT_ID", "PARTNER_CENTER_CLIENT_ID", "PARTNER_CENTER_KEY_VAULT_URL", "AZURE_CLIENT_ID"]) {
      expect(spec(name)).toMatchObject({ production: true });
    }
    expect(spec("PARTNER_CENTER_REFRESH_TOKEN_SECRET")).toMatchObject({ default: "partner-center-refresh-token" });
    expect(spec("PARTNER_CENTER_CLIENT_CREDENTIAL")).toMatchObject({ default: "managed-identity" });
    expect(spec("PARTNER_CENTER_CLIENT_SECRET_NAME")).toMatchObject({ default: "partner-center-client-secret" });
  });

  it("each cloud has its own token-exchange audience for the managed identity's assertion", () => {
    expect(Object.fromEntries(Object.entries(CLOUDS).map(([name, c]) => [name, c.tokenExchangeAudience]))).toEqual({
      global: "api://AzureADTokenExchange",
      china: "api://AzureADTokenExchangeChina",
      usgov: "api://AzureADTokenExchangeUSGov",
    });
  });
});
