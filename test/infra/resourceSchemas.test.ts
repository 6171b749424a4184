import { parseBicep, resources } from "../support/bicep";
import { infraFiles } from "./infra";
import { checkResources, isGa, loadTypeData, newestGa, resolveDeclaration } from "./resourceSchema";

/**
 * What `az bicep build` would say about the resource declarations, without the compiler
 * (it cannot be installed here): every declaration under infra/, whichever file or module
 * declares it, checked against the compiler's own type data (Azure/bicep-types-az, cut to
 * the types used: test/fixtures/azure-types/, rebuilt by its extract.mjs).
 */
const data = loadTypeData();

async function problemsOf(text: string): Promise<string[]> {
  return checkResources([await parseBicep(text, "mistake.bicep")], data);
}

describe("resource declarations against the Bicep compiler's type data", () => {
  it("every resource in infra/ exists at its apiVersion, and writes only properties of its type, none read-only, literals of the right type and value", async () => {
    const files = await infraFiles();
    const declared = files.flatMap((file) => resources(file).map((declaration) => resolveDeclaration(file, declaration)));
    expect(declared.length).toBeGreaterThan(30);
    expect(checkResources(files, data)).toEqual([]);
  });

  it("each resource uses the newest GA apiVersion its type has (diagnosticSettings: its current form is a preview)", async () => {
    const files = await infraFiles();
    for (const { type, apiVersion, at } of files.flatMap((file) => resources(file).map((declaration) => resolveDeclaration(file, declaration)))) {
      const expected = type.toLowerCase() === "microsoft.insights/diagnosticsettings" ? "2021-05-01-preview" : newestGa(data, type);
      expect({ at, type, apiVersion }).toEqual({ at, type, apiVersion: expected });
    }
  });

  it("reports a misspelled property, at any depth, with the names the type has", async () => {
    const problems = await problemsOf(
      "resource app 'Microsoft.Web/sites@2025-03-01' = {\n  name: 'x'\n  location: 'westeurope'\n  properties: {\n    httpsOnyl: true\n    siteConfig: {\n      minTlsVersoin: '1.2'\n    }\n  }\n}\n",
    );
    expect(problems).toEqual([
      expect.stringMatching(/^mistake\.bicep:app\.properties\.httpsOnyl: unknown property httpsOnyl; the type has .*httpsOnly.* \(line 5, column 5\)$/),
      expect.stringMatching(/^mistake\.bicep:app\.properties\.siteConfig\.minTlsVersoin: unknown property minTlsVersoin; .*minTlsVersion/),
    ]);
  });

  it("reports an unknown apiVersion, and an unknown type", async () => {
    expect(await problemsOf("resource st 'Microsoft.Storage/storageAccounts@2024-13-01' existing = {\n  name: 'x'\n}\n")).toEqual([
      expect.stringMatching(/^mistake\.bicep:st: unknown apiVersion 2024-13-01 of Microsoft\.Storage\/storageAccounts; known GA versions end with .*2026-04-01/),
    ]);
    expect(await problemsOf("resource st 'Microsoft.Storage/storageAcounts@2026-04-01' existing = {\n  name: 'x'\n}\n")).toEqual([
      expect.stringMatching(/resource type Microsoft\.Storage\/storageAcounts is not in the type data/),
    ]);
  });

  it("reports a read-only property, a value outside the type's enum, a wrong literal type, a missing required property and a wrong case", async () => {
    const problems = await problemsOf(
      [
        "resource st 'Microsoft.Storage/storageAccounts@2026-04-01' = {",
        "  name: 'x'",
        "  location: 'westeurope'",
        "  kind: 'StorageV2'",
        "  sku: {}",
        "  properties: {",
        "    primaryEndpoints: {}",
        "    accessTier: 'Warm'",
        "    minimumTlsVersion: 'TLS1_4'",
        "    allowSharedKeyAccess: 'false'",
        "    SupportsHttpsTrafficOnly: true",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    expect(problems).toEqual([
      expect.stringMatching(/st\.sku: required property name is missing/),
      expect.stringMatching(/st\.properties\.primaryEndpoints: property primaryEndpoints is read-only/),
      expect.stringMatching(/st\.properties\.accessTier: 'Warm' is not one of 'Hot', 'Cool', 'Premium', 'Cold', 'Smart'/),
      expect.stringMatching(/st\.properties\.minimumTlsVersion: 'TLS1_4' is none of the known values 'TLS1_0', 'TLS1_1', 'TLS1_2', 'TLS1_3'/),
      expect.stringMatching(/st\.properties\.allowSharedKeyAccess: a string where boolean is expected/),
      expect.stringMatching(/st\.properties\.SupportsHttpsTrafficOnly: property SupportsHttpsTrafficOnly is spelled supportsHttpsTrafficOnly in the type/),
    ]);
  });

  it("checks a child declared inside its parent under the parent's type and apiVersion, and both branches of a condition", async () => {
    const problems = await problemsOf(
      [
        "resource vnet 'Microsoft.Network/virtualNetworks@2025-09-01' = {",
        "  name: 'v'",
        "  location: 'westeurope'",
        "  properties: {",
        "    privateEndpointVNetPolicies: enabled ? 'Disabled' : 'Sometimes'",
        "  }",
        "  resource subnet 'subnets' = {",
        "    name: 's'",
        "    properties: {",
        "      adressPrefix: '10.0.0.0/24'",
        "    }",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    expect(problems).toEqual([
      expect.stringMatching(/vnet\.properties\.privateEndpointVNetPolicies: 'Sometimes' is none of the known values 'Disabled', 'Basic'/),
      expect.stringMatching(/^mistake\.bicep:subnet\.properties\.adressPrefix: unknown property adressPrefix/),
    ]);
  });

  it("picks the variant of a resource whose name chooses its shape (sites/config 'appsettings' takes any setting; 'web' does not)", async () => {
    const ok = await problemsOf("resource c 'Microsoft.Web/sites/config@2025-03-01' = {\n  name: 'appsettings'\n  properties: {\n    ANY_SETTING: 'x'\n  }\n}\n");
    expect(ok).toEqual([]);
    const wrong = await problemsOf("resource c 'Microsoft.Web/sites/config@2025-03-01' = {\n  name: 'web'\n  properties: {\n    ANY_SETTING: 'x'\n  }\n}\n");
    expect(wrong).toEqual([expect.stringMatching(/c\.properties\.ANY_SETTING: unknown property ANY_SETTING/)]);
  });

  it("holds, for each type infra/ uses, every apiVersion the type data knows (so that unknown means unknown)", () => {
    for (const [type, versions] of Object.entries(data.apiVersions)) {
      expect({ type, some: versions.length > 1, ga: versions.some(isGa) }).toEqual({ type, some: true, ga: true });
    }
    expect(data.source).toMatchObject({ repository: "Azure/bicep-types-az", commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
  });
});
