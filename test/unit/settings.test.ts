import { loadSettings, parseSchedule, SETTING_SPECS } from "../../shared/settings";

const base = { BILLING_SYNC_STORAGE: "UseDevelopmentStorage=true", PARTNER_CENTER_AUTH: "static", PARTNER_CENTER_ACCESS_TOKEN: "tok" };

describe("loadSettings", () => {
  it("applies the documented defaults", () => {
    const s = loadSettings(base);
    expect(s.cloud).toBe("global");
    expect(s.apiBaseUrl).toBe("https://api.partnercenter.microsoft.com");
    expect(s.authorityHost).toBe("https://login.microsoftonline.com");
    expect(s.schedule).toBe("0 0 * * * *");
    expect(s.storage).toEqual({ kind: "connectionString", connectionString: "UseDevelopmentStorage=true" });
  });

  it.each([
    ["china", "https://partner.partnercenterapi.microsoftonline.cn", "https://login.chinacloudapi.cn"],
    ["usgov", "https://api.partnercenter.microsoft.com", "https://login.microsoftonline.us"],
  ])("picks the endpoints of the %s cloud", (cloud, api, authority) => {
    const s = loadSettings({ ...base, PARTNER_CENTER_CLOUD: cloud });
    expect([s.apiBaseUrl, s.authorityHost]).toEqual([api, authority]);
  });

  it.each([
    [{ PARTNER_CENTER_CLOUD: "germany" }, /PARTNER_CENTER_CLOUD.*Germany closed/],
    [{ PARTNER_CENTER_CLOUD: "mars" }, /PARTNER_CENTER_CLOUD must be one of global, china, usgov/],
    [{ PARTNER_CENTER_AUTH: "password" }, /PARTNER_CENTER_AUTH must be user or static/],
    [{ PARTNER_CENTER_ACCESS_TOKEN: "" }, /PARTNER_CENTER_ACCESS_TOKEN is required/],
    [{ PARTNER_CENTER_ACCESS_TOKEN: "Bearer abc" }, /PARTNER_CENTER_ACCESS_TOKEN must be the bare token/],
    [{ BILLING_SYNC_STORAGE: undefined }, /BILLING_SYNC_STORAGE is required/],
    [{ BILLING_SYNC_STORAGE: "just-a-name" }, /BILLING_SYNC_STORAGE is neither a connection string/],
    [{ BILLING_SYNC_STORAGE: "http://example.com/tables" }, /BILLING_SYNC_STORAGE must be an https URL/],
    [{ PARTNER_CENTER_BASE_URL: "http://api.example.com" }, /PARTNER_CENTER_BASE_URL must be an https URL \(http is allowed only for localhost\)/],
    [{ PARTNER_CENTER_BASE_URL: "not a url" }, /PARTNER_CENTER_BASE_URL is not a URL/],
    [{ BILLING_SYNC_SCHEDULE: "0 * * * *" }, /BILLING_SYNC_SCHEDULE must be an NCRONTAB expression with six fields/],
    [{ APPLICATIONINSIGHTS_CONNECTION_STRING: "garbage" }, /APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey/],
  ])("names the bad setting: %j", (override, message) => {
    expect(() => loadSettings({ ...base, ...override })).toThrow(message);
  });

  it("accepts http only on loopback, for the simulator", () => {
    expect(loadSettings({ ...base, PARTNER_CENTER_BASE_URL: "http://127.0.0.1:7071/" }).apiBaseUrl).toBe("http://127.0.0.1:7071");
  });

  it("reads a table endpoint URL as identity-based storage", () => {
    expect(loadSettings({ ...base, BILLING_SYNC_STORAGE: "https://acct.table.core.windows.net" }).storage).toEqual({
      kind: "endpoint",
      endpoint: "https://acct.table.core.windows.net",
    });
  });

  it("never puts the token value in a settings error", () => {
    const secret = "s3cr3t-token-value with space";
    expect(() => loadSettings({ ...base, PARTNER_CENTER_ACCESS_TOKEN: secret })).toThrow(expect.objectContaining({ message: expect.not.stringContaining("s3cr3t") }));
  });

  it("normalises an NCRONTAB schedule", () => {
    expect(parseSchedule("0  */30 * * * *")).toBe("0 */30 * * * *");
  });

  it("lists every setting it reads, with the production ones marked", () => {
    const names = SETTING_SPECS.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["PARTNER_CENTER_CLOUD", "BILLING_SYNC_STORAGE", "BILLING_SYNC_SCHEDULE"]));
    expect(SETTING_SPECS.find((s) => s.name === "PARTNER_CENTER_ACCESS_TOKEN")?.production).toBe(false);
  });
});
