import { loadSettings, parseAuthenticationString, parseSchedule, SETTING_SPECS } from "../../shared/config/settings";

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
  ])("names the bad setting: %j", (override, message) => {
    expect(() => loadSettings({ ...base, ...override })).toThrow(message);
  });

  it("accepts http only on loopback, for the simulator", () => {
    expect(loadSettings({ ...base, PARTNER_CENTER_BASE_URL: "http://127.0.0.1:7071/" }).apiBaseUrl).toBe("http://127.0.0.1:7071");
  });

  describe("a storage connection string reaches Table Storage over https, or over http only on loopback", () => {
    const key = "AccountKey=c2VjcmV0LWtleS12YWx1ZQ==";
    it.each([
      [`DefaultEndpointsProtocol=http;AccountName=acct;${key};TableEndpoint=http://tables.example.com/acct`, /has a TableEndpoint that must be https \(http is allowed only for localhost\), got "http:\/\/tables\.example\.com"/],
      [`DefaultEndpointsProtocol=http;AccountName=acct;${key}`, /says DefaultEndpointsProtocol=http: Table Storage must be reached over https/],
      [`AccountName=acct;${key};TableEndpoint=not a url`, /has a TableEndpoint that is not a URL/],
    ])("refuses %s, naming the key but not the account key", (value, message) => {
      expect(() => loadSettings({ ...base, BILLING_SYNC_STORAGE: value })).toThrow(message);
      expect(() => loadSettings({ ...base, BILLING_SYNC_STORAGE: value })).toThrow(expect.objectContaining({ message: expect.not.stringContaining("c2VjcmV0") }));
    });

    it.each([
      "UseDevelopmentStorage=true",
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;${key};TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;`,
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;${key};TableEndpoint=http://localhost:10002/devstoreaccount1`,
      `DefaultEndpointsProtocol=https;AccountName=acct;${key};EndpointSuffix=core.windows.net`,
      `DefaultEndpointsProtocol=http;AccountName=acct;${key};TableEndpoint=https://acct.table.core.windows.net`,
    ])("accepts %s", (value) => {
      expect(loadSettings({ ...base, BILLING_SYNC_STORAGE: value }).storage).toEqual({ kind: "connectionString", connectionString: value });
    });
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

  it("reads the sweep's PUT limit: a whole number from 1, unset for 10% of the targets (at least 10)", () => {
    expect(loadSettings(base).maxCorrectionsPerSweep).toBeUndefined();
    expect(loadSettings({ ...base, BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP: " 20 " }).maxCorrectionsPerSweep).toBe(20);
    for (const bad of ["0", "-5", "1.5", "ten", "10%"]) {
      expect(() => loadSettings({ ...base, BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP: bad })).toThrow(/BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP must be a whole number of PUTs per sweep from 1/);
    }
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

describe("telemetry settings", () => {
  const IKEY = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D";
  const conn = `InstrumentationKey=${IKEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/`;

  it("is off without a connection string, whatever else is set", () => {
    expect(loadSettings(base).telemetry).toEqual({ kind: "off" });
    expect(loadSettings({ ...base, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=AAD" }).telemetry).toEqual({ kind: "off" });
  });

  it("is on with a connection string, the key in the lower case the exporter requires", () => {
    const s = loadSettings({ ...base, APPLICATIONINSIGHTS_CONNECTION_STRING: ` ${conn}; ` });
    expect(s.telemetry).toEqual({
      kind: "on",
      connectionString: `instrumentationkey=${IKEY.toLowerCase()};ingestionendpoint=https://westeurope-5.in.applicationinsights.azure.com/;liveendpoint=https://westeurope.livediagnostics.monitor.azure.com/`,
      ingestionEndpoint: "https://westeurope-5.in.applicationinsights.azure.com/",
    });
    expect(s.appInsightsConnectionString).toBe(s.telemetry.kind === "on" ? s.telemetry.connectionString : "");
  });

  it("takes Entra auth for a user-assigned or the system-assigned managed identity", () => {
    const clientId = "8d4c5b0a-1e2f-4a3b-9c8d-7e6f5a4b3c2d";
    expect(loadSettings({ ...base, APPLICATIONINSIGHTS_CONNECTION_STRING: conn, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD;ClientId=${clientId}` }).telemetry).toMatchObject({
      kind: "on",
      entra: { clientId },
    });
    expect(parseAuthenticationString("authorization=aad")).toEqual({});
  });

  it.each([
    ["garbage", /APPLICATIONINSIGHTS_CONNECTION_STRING is not a connection string/],
    ["IngestionEndpoint=https://x.example/", /APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey/],
    ["InstrumentationKey=not-a-guid", /APPLICATIONINSIGHTS_CONNECTION_STRING has an InstrumentationKey that is not a GUID/],
    [`InstrumentationKey=${IKEY};IngestionEndpoint=ftp://x`, /APPLICATIONINSIGHTS_CONNECTION_STRING has an IngestionEndpoint that is not an https URL/],
  ])("a bad connection string (%s) turns telemetry off with a problem naming the setting, and does not stop the sync", (value, problem) => {
    const s = loadSettings({ ...base, APPLICATIONINSIGHTS_CONNECTION_STRING: value });
    expect(s.telemetry).toEqual({ kind: "invalid", problem: expect.stringMatching(problem) });
    expect(s.appInsightsConnectionString).toBeUndefined();
  });

  it.each([
    ["Authorization=AAD;ClientId=not-a-guid", /ClientId that is not a GUID/],
    ["Authorization=ikey", /must say Authorization=AAD/],
    ["ClientId=8d4c5b0a-1e2f-4a3b-9c8d-7e6f5a4b3c2d", /must say Authorization=AAD/],
    ["Authorization=AAD;Secret=x", /unknown key\(s\) secret/],
    ["AAD", /is not key=value;key=value/],
  ])("a bad APPLICATIONINSIGHTS_AUTHENTICATION_STRING (%s) is named, with the expected form", (value, problem) => {
    const s = loadSettings({ ...base, APPLICATIONINSIGHTS_CONNECTION_STRING: conn, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: value });
    expect(s.telemetry).toEqual({ kind: "invalid", problem: expect.stringMatching(problem) });
    expect(s.telemetry.kind === "invalid" && s.telemetry.problem).toMatch(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING .*expected Authorization=AAD;ClientId=/);
  });

  it("never quotes the connection string in a problem", () => {
    const s = loadSettings({ ...base, APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=secretish-value-123" });
    expect(s.telemetry.kind === "invalid" && s.telemetry.problem).not.toContain("secretish-value-123");
  });

  it("lists the Entra setting as one Azure must set", () => {
    expect(SETTING_SPECS.find((x) => x.name === "APPLICATIONINSIGHTS_AUTHENTICATION_STRING")?.production).toBe(true);
  });
});
