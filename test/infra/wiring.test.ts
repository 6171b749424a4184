import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { children, descendants, entries, literal, parameters, property, resourcesOfType, stringLiteral, type BicepFile } from "../support/bicep";
import { INFRA_DIR, PROJECT_ROOT, infraFile, infraFiles, moduleParams } from "./infra";

interface ModuleCall {
  file: BicepFile;
  symbol: string;
  path: string;
  params: string[];
}

async function moduleCalls(): Promise<ModuleCall[]> {
  return (await infraFiles()).flatMap((file) =>
    descendants(file.root, "module_declaration").map((node) => {
      const [symbol, path, value] = children(node);
      // `= if (condition) { ... }`: the object is the if statement's last part.
      const body = value.type === "if_statement" ? children(value).at(-1) : value;
      return { file, symbol: symbol.text, path: stringLiteral(path) ?? path.text, params: body ? entries(property(body, "params") ?? body).map((entry) => entry.key) : [] };
    }),
  );
}

describe("template wiring", () => {
  it("targets the subscription, as azd expects of a template that creates its resource group", async () => {
    const main = await infraFile("main.bicep");
    const scope = descendants(main.root, "target_scope_assignment")[0];
    expect(literal(scope ? children(scope)[0] : undefined)).toBe("subscription");
    expect(resourcesOfType([main], "Microsoft.Resources/resourceGroups")).toHaveLength(1);
  });

  it("uses local modules only (no registry module: it cannot be restored offline and hides what is deployed)", async () => {
    const calls = await moduleCalls();
    expect(calls.length).toBeGreaterThanOrEqual(6);
    for (const call of calls) expect({ module: call.symbol, path: call.path }).toEqual({ module: call.symbol, path: expect.stringMatching(/^\.{1,2}\/[\w./-]+\.bicep$/) });
  });

  it("passes every module each parameter it requires, and no parameter it does not declare", async () => {
    const files = await infraFiles();
    for (const call of await moduleCalls()) {
      const target = join(dirname(join(INFRA_DIR, ...call.file.name.split("/"))), call.path);
      const module = files.find((file) => join(INFRA_DIR, ...file.name.split("/")) === target);
      expect({ module: call.path, found: module !== undefined }).toEqual({ module: call.path, found: true });
      const declared = parameters(module as BicepFile);
      const required = declared.filter((param) => param.defaultValue === undefined).map((param) => param.name);
      expect({ module: call.path, missing: required.filter((name) => !call.params.includes(name)) }).toEqual({ module: call.path, missing: [] });
      expect({ module: call.path, unknown: call.params.filter((name) => !declared.some((param) => param.name === name)) }).toEqual({ module: call.path, unknown: [] });
    }
  });

  it("main.parameters.json names only parameters of main.bicep and gives a value to every required one", async () => {
    const json = JSON.parse(readFileSync(join(INFRA_DIR, "main.parameters.json"), "utf8")) as { parameters: Record<string, { value: unknown }> };
    const declared = parameters(await infraFile("main.bicep"));
    const given = Object.keys(json.parameters);
    expect(given.filter((name) => !declared.some((param) => param.name === name))).toEqual([]);
    expect(declared.filter((param) => param.defaultValue === undefined && !given.includes(param.name)).map((param) => param.name)).toEqual([]);
    // azd fills these from its environment.
    expect(json.parameters.environmentName.value).toBe("${AZURE_ENV_NAME}");
    expect(json.parameters.location.value).toBe("${AZURE_LOCATION}");
    expect(json.parameters.principalId.value).toBe("${AZURE_PRINCIPAL_ID}");
    // Set by the preprovision hook (infra/hooks/keyVaultCreateMode.mjs), and by the operator.
    expect(json.parameters.keyVaultCreateMode.value).toBe("${AZURE_KEY_VAULT_CREATE_MODE=default}");
    expect(json.parameters.vnetEnabled.value).toBe("${VNET_ENABLED=false}");
  });

  it("calls the network module only with vnetEnabled, and gives the app its subnet only then", async () => {
    const main = await infraFile("main.bicep");
    const network = descendants(main.root, "module_declaration").find((node) => children(node)[0].text === "network");
    const condition = network ? children(network).at(-1) : undefined;
    expect(condition?.type).toBe("if_statement");
    expect(condition ? children(condition)[0].text : "").toBe("(vnetEnabled)");
    expect(moduleParams(main, "functionApp").get("virtualNetworkSubnetId")).toBe("vnetEnabled ? network.outputs.appSubnetId : ''");
    const param = parameters(main).find((candidate) => candidate.name === "vnetEnabled");
    expect(literal(param?.defaultValue)).toBe(false);
  });

  it("azure.yaml deploys the project root as a TypeScript function app to the site tagged for it", async () => {
    const yaml = readFileSync(join(PROJECT_ROOT, "azure.yaml"), "utf8");
    const service = /^services:\n {2}([\w-]+):\n((?: {4}.*\n?)+)/m.exec(yaml);
    expect(service).not.toBeNull();
    const [, name, body] = service as RegExpExecArray;
    expect(body).toMatch(/^ {4}host: function$/m);
    expect(body).toMatch(/^ {4}language: ts$/m);
    expect(body).toMatch(/^ {4}project: \.$/m);
    // azd finds the app by the tag azd-service-name = the service's name.
    const [site] = resourcesOfType(await infraFiles(), "Microsoft.Web/sites");
    const tags = property(site.body, "tags");
    const tagged = (tags ? descendants(tags, "object_property") : []).map((node) => children(node)).find(([key]) => stringLiteral(key) === "azd-service-name");
    expect(stringLiteral(tagged?.[1])).toBe(name);
  });
});
