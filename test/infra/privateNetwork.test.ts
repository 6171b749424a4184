import { children, literal, parameters, property, propertyAt, resourcesOfType, stringTemplate, type Node } from "../support/bicep";
import { infraFile, moduleParams } from "./infra";

/** The text of an expression, spaces normalised (for ternaries the helpers do not evaluate). */
const expression = (node: Node | undefined) => node?.text.replace(/\s+/g, " ");

describe("private networking (vnetEnabled)", () => {
  it("is a parameter of main.bicep, off by default, passed to storage, Key Vault and (as the subnet) the app", async () => {
    const main = await infraFile("main.bicep");
    expect(literal(parameters(main).find((param) => param.name === "vnetEnabled")?.defaultValue)).toBe(false);
    for (const module of ["storage", "keyVault"]) expect({ module, passes: moduleParams(main, module).get("vnetEnabled") }).toEqual({ module, passes: "vnetEnabled" });
    expect(moduleParams(main, "functionApp").get("virtualNetworkSubnetId")).toBe("vnetEnabled ? network.outputs.appSubnetId : ''");
  });

  it("turns public network access off on storage and Key Vault when enabled, and only then", async () => {
    const storage = await infraFile("core/storage.bicep");
    const [account] = resourcesOfType([storage], "Microsoft.Storage/storageAccounts");
    expect(expression(propertyAt(account.body, "properties", "publicNetworkAccess"))).toBe("vnetEnabled ? 'Disabled' : 'Enabled'");
    const acls = propertyAt(account.body, "properties", "networkAcls");
    expect(acls?.type).toBe("ternary_expression");
    const [condition, whenOn, whenOff] = acls ? children(acls) : [];
    expect(condition?.text).toBe("vnetEnabled");
    expect([literal(property(whenOn, "defaultAction")), literal(property(whenOff, "defaultAction"))]).toEqual(["Deny", "Allow"]);

    const keyVault = await infraFile("core/keyvault.bicep");
    const [vault] = resourcesOfType([keyVault], "Microsoft.KeyVault/vaults");
    expect(expression(propertyAt(vault.body, "properties", "publicNetworkAccess"))).toBe("vnetEnabled ? 'Disabled' : 'Enabled'");
    expect(expression(propertyAt(vault.body, "properties", "networkAcls", "defaultAction"))).toBe("vnetEnabled ? 'Deny' : 'Allow'");
    for (const file of [storage, keyVault]) expect(literal(parameters(file).find((param) => param.name === "vnetEnabled")?.defaultValue)).toBe(false);
  });

  it("puts blob, queue, table and Key Vault behind private endpoints, each with its private DNS zone linked to the network", async () => {
    const network = await infraFile("core/network.bicep");
    const endpointsVar = children(network.root).find((node) => node.type === "variable_declaration" && children(node)[0].text === "endpoints");
    const endpoints = endpointsVar ? children(children(endpointsVar).at(-1) as Node) : [];
    const table = endpoints.map((item) => ({ groupId: literal(property(item, "groupId")), zone: stringTemplate(property(item, "zone")), onVault: literal(property(item, "onVault")) }));
    expect(table).toEqual([
      { groupId: "blob", zone: "privatelink.blob.${storageSuffix}", onVault: false },
      { groupId: "queue", zone: "privatelink.queue.${storageSuffix}", onVault: false },
      { groupId: "table", zone: "privatelink.table.${storageSuffix}", onVault: false },
      { groupId: "vault", zone: "privatelink${replace(environment().suffixes.keyvaultDns, 'vault', 'vaultcore')}", onVault: true },
    ]);
    const [endpoint] = resourcesOfType([network], "Microsoft.Network/privateEndpoints");
    const connection = children(propertyAt(endpoint.body, "properties", "privateLinkServiceConnections") as Node)[0];
    expect(expression(propertyAt(connection, "properties", "privateLinkServiceId"))).toBe("endpoint.onVault ? vault.id : storage.id");
    expect(expression(propertyAt(endpoint.body, "properties", "subnet", "id"))).toBe("vnet::privateEndpointSubnet.id");
    for (const type of ["Microsoft.Network/privateEndpoints", "Microsoft.Network/privateDnsZones", "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"]) {
      const [resource] = resourcesOfType([network], type);
      expect({ type, loopsOverEndpoints: resource?.loop && / in endpoints:/.test(resource.node.text) }).toEqual({ type, loopsOverEndpoints: true });
    }
    const [zoneGroup] = resourcesOfType([network], "Microsoft.Network/privateEndpoints/privateDnsZoneGroups");
    expect(zoneGroup.node.text).toMatch(/privateDnsZoneId: zones\[i\]\.id/);
    const [link] = resourcesOfType([network], "Microsoft.Network/privateDnsZones/virtualNetworkLinks");
    expect(expression(propertyAt(link.body, "properties", "virtualNetwork", "id"))).toBe("vnet.id");
    expect(literal(propertyAt(link.body, "properties", "registrationEnabled"))).toBe(false);
  });

  it("integrates the app into a subnet delegated to Microsoft.App/environments (Flex Consumption)", async () => {
    const network = await infraFile("core/network.bicep");
    const [vnet] = resourcesOfType([network], "Microsoft.Network/virtualNetworks");
    const subnets = children(propertyAt(vnet.body, "properties", "subnets") as Node);
    const app = subnets.find((subnet) => literal(property(subnet, "name")) === "app");
    const delegations = children(propertyAt(app, "properties", "delegations") as Node);
    expect(delegations.map((delegation) => literal(propertyAt(delegation, "properties", "serviceName")))).toEqual(["Microsoft.App/environments"]);
    const endpointsSubnet = subnets.find((subnet) => literal(property(subnet, "name")) === "private-endpoints");
    expect(literal(propertyAt(endpointsSubnet, "properties", "privateEndpointNetworkPolicies"))).toBe("Disabled");
    expect(network.text).toMatch(/^output appSubnetId string = vnet::appSubnet\.id$/m);

    const functionApp = await infraFile("app/function.bicep");
    const [site] = resourcesOfType([functionApp], "Microsoft.Web/sites");
    expect(expression(propertyAt(site.body, "properties", "virtualNetworkSubnetId"))).toBe("!empty(virtualNetworkSubnetId) ? virtualNetworkSubnetId : null");
    expect(literal(parameters(functionApp).find((param) => param.name === "virtualNetworkSubnetId")?.defaultValue)).toBe("");
  });
});
