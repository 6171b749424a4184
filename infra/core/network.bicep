// Only with vnetEnabled (main.bicep): a virtual network that the Function App is integrated
// into, and private endpoints for everything the app reads and writes (storage blob, queue
// and table; Key Vault), each with its private DNS zone linked to the network. storage.bicep
// and keyvault.bicep then disable public network access. The layout follows the azd Flex
// Consumption quickstart (Azure-Samples/functions-quickstart-typescript-azd): one subnet for
// the private endpoints, one delegated to Microsoft.App/environments for the app.
// Outbound calls to Partner Center, Entra ID and Application Insights leave through the
// app subnet (docs/deploy.md).

@description('Name of the virtual network.')
param name string
param location string
param tags object = {}

param storageAccountName string
param keyVaultName string

param addressPrefix string = '10.0.0.0/16'
param privateEndpointSubnetPrefix string = '10.0.1.0/24'
param appSubnetPrefix string = '10.0.2.0/24'

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource vnet 'Microsoft.Network/virtualNetworks@2025-09-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          // Flex Consumption integrates through a subnet delegated to Container Apps environments.
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }

  resource privateEndpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }
}

// One private endpoint per service the app uses; the zone names follow the cloud
// (privatelink.blob.core.windows.net, privatelink.vaultcore.azure.net in the public cloud).
var storageSuffix = environment().suffixes.storage
var endpoints = [
  {
    name: 'blob'
    groupId: 'blob'
    zone: 'privatelink.blob.${storageSuffix}'
    onVault: false
  }
  {
    name: 'queue'
    groupId: 'queue'
    zone: 'privatelink.queue.${storageSuffix}'
    onVault: false
  }
  {
    name: 'table'
    groupId: 'table'
    zone: 'privatelink.table.${storageSuffix}'
    onVault: false
  }
  {
    name: 'vault'
    groupId: 'vault'
    zone: 'privatelink${replace(environment().suffixes.keyvaultDns, 'vault', 'vaultcore')}'
    onVault: true
  }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for endpoint in endpoints: {
    name: endpoint.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (endpoint, i) in endpoints: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2025-09-01' = [
  for endpoint in endpoints: {
    name: 'pe-${endpoint.onVault ? keyVaultName : storageAccountName}-${endpoint.name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: vnet::privateEndpointSubnet.id
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.onVault ? vault.id : storage.id
            groupIds: [
              endpoint.groupId
            ]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-09-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.name
          properties: {
            privateDnsZoneId: zones[i].id
          }
        }
      ]
    }
  }
]

output vnetId string = vnet.id
output appSubnetId string = vnet::appSubnet.id
output privateEndpointSubnetId string = vnet::privateEndpointSubnet.id
