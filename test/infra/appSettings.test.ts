import { CLOUDS } from "../../shared/partnerCenter/clouds";
import { parseSchedule, parseStorage, SETTING_SPECS } from "../../shared/config/settings";
import { literal, memberPath, parameters, parseBicep, stringTemplate } from "../support/bicep";
import { appSettingsOf, missingProductionSettings } from "./appSettingsModel";
import { infraFile, infraFiles } from "./infra";

async function appSettings() {
  const settings = appSettingsOf(await infraFiles());
  expect(settings.size).toBeGreaterThan(10);
  return settings;
}

describe("app settings", () => {
  it("set every setting the code's settings module marks production: true (SETTING_SPECS)", async () => {
    const production = SETTING_SPECS.filter((spec) => spec.production).map((spec) => spec.name);
    expect(production.length).toBeGreaterThan(0);
    expect(missingProductionSettings(SETTING_SPECS, await appSettings())).toEqual([]);
  });

  it("report a production setting added to the code but not to Bicep (the check can fail)", async () => {
    const specs = [...SETTING_SPECS, { name: "BILLING_SYNC_NEW_SETTING", meaning: "added later", production: true }];
    expect(missingProductionSettings(specs, await appSettings())).toEqual(["BILLING_SYNC_NEW_SETTING"]);
    const emptied = await parseBicep(
      "resource s 'Microsoft.Web/sites/config@2024-11-01' = {\n  name: 'appsettings'\n  properties: {\n    BILLING_SYNC_STORAGE: ''\n  }\n}\n",
      "emptied.bicep",
    );
    expect(missingProductionSettings(SETTING_SPECS, appSettingsOf([emptied]))).toContain("BILLING_SYNC_STORAGE");
  });

  it("point the Functions host at its storage by identity: managedidentity, the client id and the blob and queue URIs", async () => {
    const settings = await appSettings();
    expect(literal(settings.get("AzureWebJobsStorage__credential"))).toBe("managedidentity");
    expect(settings.get("AzureWebJobsStorage__clientId")?.text).toBe("identityClientId");
    for (const service of ["blob", "queue"]) {
      const value = settings.get(`AzureWebJobsStorage__${service}ServiceUri`);
      expect(value && memberPath(value)).toEqual(["properties", "primaryEndpoints", service]);
    }
    // Not the table service: the host would use it only for optional diagnostic events, and
    // the identity holds table rights on the engine's three tables only (rbac.bicep).
    expect(settings.has("AzureWebJobsStorage__tableServiceUri")).toBe(false);
    // The connection-string form would need an account key.
    expect(settings.has("AzureWebJobsStorage")).toBe(false);
    expect([...settings.keys()].filter((name) => /accountKey|__connectionString/i.test(name))).toEqual([]);
  });

  it("give the code the managed identity's client id and Entra ID auth for telemetry", async () => {
    const settings = await appSettings();
    expect(settings.get("AZURE_CLIENT_ID")?.text).toBe("identityClientId");
    expect(stringTemplate(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"))).toBe("Authorization=AAD;ClientId=${identityClientId}");
    const connection = settings.get("APPLICATIONINSIGHTS_CONNECTION_STRING");
    expect(connection && memberPath(connection)).toEqual(["properties", "ConnectionString"]);
  });

  it("give BILLING_SYNC_STORAGE the table endpoint, which the code reads as managed identity (not a connection string)", async () => {
    const value = (await appSettings()).get("BILLING_SYNC_STORAGE");
    expect(value && memberPath(value)).toEqual(["properties", "primaryEndpoints", "table"]);
    // What that property holds in Azure, through the code's own parser.
    expect(parseStorage({ BILLING_SYNC_STORAGE: "https://stexample.table.core.windows.net/" }).kind).toBe("endpoint");
  });

  it("run the secure application model, and never carry a static token or a simulator URL", async () => {
    const settings = await appSettings();
    expect(literal(settings.get("PARTNER_CENTER_AUTH"))).toBe("user");
    for (const name of ["PARTNER_CENTER_ACCESS_TOKEN", "PARTNER_CENTER_BASE_URL"]) {
      expect(SETTING_SPECS.map((spec) => spec.name)).toContain(name);
      expect({ name, set: settings.has(name) }).toEqual({ name, set: false });
    }
  });

  it("leave out what Flex Consumption takes from functionAppConfig instead", async () => {
    const settings = await appSettings();
    for (const name of ["FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_NODE_DEFAULT_VERSION"]) {
      expect({ name, set: settings.has(name) }).toEqual({ name, set: false });
    }
  });

  it("default the schedule to the code's default, a schedule the code accepts", async () => {
    const spec = SETTING_SPECS.find((candidate) => candidate.name === "BILLING_SYNC_SCHEDULE");
    for (const file of [await infraFile("main.bicep"), await infraFile("app/function.bicep")]) {
      const param = parameters(file).find((candidate) => candidate.name === "syncSchedule");
      const value = literal(param?.defaultValue);
      expect({ file: file.name, value }).toEqual({ file: file.name, value: spec?.default });
      expect(() => parseSchedule(String(value))).not.toThrow();
    }
  });

  it("allow exactly the clouds the code knows", async () => {
    for (const file of [await infraFile("main.bicep"), await infraFile("app/function.bicep")]) {
      const param = parameters(file).find((candidate) => candidate.name === "partnerCenterCloud");
      const allowed = param?.decorators.get("allowed")?.childForFieldName("arguments")?.namedChildren[0];
      const values = allowed?.namedChildren.map((item) => literal(item ?? undefined)).sort();
      expect({ file: file.name, values }).toEqual({ file: file.name, values: Object.keys(CLOUDS).sort() });
    }
  });
});
