import { literal, parameters, propertyAt, property, resources, resourcesOfType, stringLiteral, type ResourceDeclaration } from "../support/bicep";
import { TABLES } from "../../shared/stores/tables";
import { infraFile, infraFiles } from "./infra";

/** Resources the templates create (not `existing` references), at least one expected. */
async function created(type: string): Promise<ResourceDeclaration[]> {
  const found = resourcesOfType(await infraFiles(), type).filter((resource) => !resource.existing);
  expect(found.length).toBeGreaterThan(0);
  return found;
}

function setting(resource: ResourceDeclaration, ...path: string[]): unknown {
  return { resource: `${resource.file}:${resource.symbol}`, [path.join(".")]: literal(propertyAt(resource.body, ...path)) };
}

function expectSetting(resource: ResourceDeclaration, path: string[], value: string | boolean): void {
  expect(setting(resource, ...path)).toEqual({ resource: `${resource.file}:${resource.symbol}`, [path.join(".")]: value });
}

describe("storage account", () => {
  it("refuses shared keys and anonymous blob access, and takes TLS 1.2+ over HTTPS only", async () => {
    for (const account of await created("Microsoft.Storage/storageAccounts")) {
      expectSetting(account, ["properties", "allowSharedKeyAccess"], false);
      expectSetting(account, ["properties", "allowBlobPublicAccess"], false);
      expectSetting(account, ["properties", "minimumTlsVersion"], "TLS1_2");
      expectSetting(account, ["properties", "supportsHttpsTrafficOnly"], true);
      expectSetting(account, ["properties", "defaultToOAuthAuthentication"], true);
    }
  });

  it("holds the deployment container, every table the code uses and the fan-out queue", async () => {
    const storage = await infraFile("core/storage.bicep");
    const defaults = (name: string) => parameters(storage).find((param) => param.name === name)?.defaultValue;
    const arrayOfStrings = (name: string) => {
      const node = defaults(name);
      return node ? node.namedChildren.map((item) => stringLiteral(item ?? undefined)) : [];
    };
    // The tables the code opens (shared/stores/tables.ts), not a copy.
    expect(arrayOfStrings("tableNames").sort()).toEqual(Object.values(TABLES).sort());
    expect(Object.values(TABLES)).toHaveLength(6);
    expect(arrayOfStrings("queueNames")).toEqual(["billing-sync-targets", "billing-sync-targets-poison"]);
    const [tables] = await created("Microsoft.Storage/storageAccounts/tableServices/tables");
    const [queues] = await created("Microsoft.Storage/storageAccounts/queueServices/queues");
    expect({ tablesLoop: tables.loop, queuesLoop: queues.loop }).toEqual({ tablesLoop: true, queuesLoop: true });
    const [container] = await created("Microsoft.Storage/storageAccounts/blobServices/containers");
    expectSetting(container, ["properties", "publicAccess"], "None");
  });
});

describe("function app", () => {
  it("is Linux on a Flex Consumption (FC1) plan", async () => {
    const [plan] = await created("Microsoft.Web/serverfarms");
    expectSetting(plan, ["sku", "name"], "FC1");
    expectSetting(plan, ["sku", "tier"], "FlexConsumption");
    expectSetting(plan, ["properties", "reserved"], true);
    const [app] = await created("Microsoft.Web/sites");
    expectSetting(app, ["kind"], "functionapp,linux");
  });

  it("serves HTTPS only with TLS 1.2 at least, and sets no ftpsState (Flex Consumption does not support it: FTP is off by the publishing policy)", async () => {
    for (const app of await created("Microsoft.Web/sites")) {
      expectSetting(app, ["properties", "httpsOnly"], true);
      expectSetting(app, ["properties", "siteConfig", "minTlsVersion"], "1.2");
      expectSetting(app, ["properties", "siteConfig", "scmMinTlsVersion"], "1.2");
      expect(propertyAt(app.body, "properties", "siteConfig", "ftpsState")).toBeUndefined();
    }
  });

  it("turns basic-auth publishing off for FTP and the SCM site", async () => {
    const policies = await created("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
    expect(policies.map((policy) => stringLiteral(property(policy.body, "name"))).sort()).toEqual(["ftp", "scm"]);
    for (const policy of policies) expectSetting(policy, ["properties", "allow"], false);
  });

  it("runs Node.js 22 from functionAppConfig (20 reached end of life) and deploys with its user-assigned identity", async () => {
    const [app] = await created("Microsoft.Web/sites");
    const runtime = propertyAt(app.body, "properties", "functionAppConfig", "runtime");
    expect(literal(property(runtime, "name"))).toBe("node");
    // The version is a parameter in function.bicep and in main.bicep: default 22, and 22 the only value allowed.
    const version = property(runtime, "version");
    for (const file of [await infraFile(app.file), await infraFile("main.bicep")]) {
      const param = parameters(file).find((candidate) => candidate.name === version?.text);
      expect({ file: file.name, default: literal(param?.defaultValue) }).toEqual({ file: file.name, default: "22" });
      const allowed = param?.decorators.get("allowed")?.childForFieldName("arguments")?.namedChildren[0];
      expect({ file: file.name, allowed: allowed?.namedChildren.map((item) => literal(item ?? undefined)) }).toEqual({ file: file.name, allowed: ["22"] });
    }

    const deployment = propertyAt(app.body, "properties", "functionAppConfig", "deployment", "storage");
    expect(literal(property(deployment, "type"))).toBe("blobContainer");
    expect(literal(propertyAt(deployment, "authentication", "type"))).toBe("UserAssignedIdentity");
    expect(literal(propertyAt(app.body, "identity", "type"))).toBe("UserAssigned");
  });
});

describe("monitoring", () => {
  it("Application Insights accepts only Entra ID authenticated telemetry (DisableLocalAuth)", async () => {
    for (const component of await created("Microsoft.Insights/components")) {
      expectSetting(component, ["properties", "DisableLocalAuth"], true);
      expect(propertyAt(component.body, "properties", "WorkspaceResourceId")).toBeDefined();
    }
  });

  it("Log Analytics refuses workspace keys too", async () => {
    for (const workspace of await created("Microsoft.OperationalInsights/workspaces")) {
      expectSetting(workspace, ["properties", "features", "disableLocalAuth"], true);
    }
  });
});

describe("key vault", () => {
  it("uses Azure RBAC, soft delete and purge protection, and no access policies", async () => {
    for (const vault of await created("Microsoft.KeyVault/vaults")) {
      expectSetting(vault, ["properties", "enableRbacAuthorization"], true);
      expectSetting(vault, ["properties", "enableSoftDelete"], true);
      expectSetting(vault, ["properties", "enablePurgeProtection"], true);
      expect(propertyAt(vault.body, "properties", "accessPolicies")).toBeUndefined();
    }
  });
});

/**
 * Resource types whose current API version is a preview, with the reason. Microsoft.Insights
 * diagnosticSettings: its only GA version, 2016-09-01, is the older service-level form; every
 * current template (and the Azure Verified Modules) use 2021-05-01-preview.
 */
const PREVIEW_ONLY: Record<string, string> = { "Microsoft.Insights/diagnosticSettings": "2021-05-01-preview" };

describe("API versions", () => {
  it("every resource names a GA (non-preview) API version, but for the types whose current version is a preview", async () => {
    const declared = (await infraFiles()).flatMap(resources).filter((resource) => resource.type.includes("/") && !(resource.type in PREVIEW_ONLY));
    expect(declared.length).toBeGreaterThan(10);
    for (const resource of (await infraFiles()).flatMap(resources).filter((candidate) => candidate.type in PREVIEW_ONLY)) {
      expect({ resource: resource.symbol, apiVersion: resource.apiVersion }).toEqual({ resource: resource.symbol, apiVersion: PREVIEW_ONLY[resource.type] });
    }
    for (const resource of declared) {
      expect({ resource: `${resource.file}:${resource.symbol}`, apiVersion: resource.apiVersion }).toEqual({
        resource: `${resource.file}:${resource.symbol}`,
        apiVersion: expect.stringMatching(/^20\d\d-\d\d-\d\d$/),
      });
    }
  });
});
