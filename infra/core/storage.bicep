// One storage account for everything the app keeps: the Functions host's own state
// (AzureWebJobsStorage: blob leases for the timer, queues for fan-out), the Flex
// Consumption deployment package, and the sync engine's tables. The host creates its own
// containers (azure-webjobs-hosts, azure-webjobs-secrets) on first start (rbac.bicep).
// No account key is ever handed out: shared key access is off, so only Entra ID (managed
// identity, az login) can read or write data.

param name string
param location string
param tags object = {}

@description('Blob container the Flex Consumption plan deploys the app package from.')
param deploymentContainerName string

@description('Tables the sync engine uses (shared/stores/tables.ts TABLES).')
param tableNames array = [
  'BillingProfileDesired'
  'BillingProfileHistory'
  'BillingProfileLeases'
  'BillingProfileSweeps'
  'BillingProfileDesiredChanges'
  'BillingProfileStatus'
]

@description('Queues: the per-target fan-out queue and the poison queue the host moves failed messages to.')
param queueNames array = [
  'billing-sync-targets'
  'billing-sync-targets-poison'
]

@description('Private endpoints only (network.bicep): public network access disabled.')
param vnetEnabled bool = false

resource account 'Microsoft.Storage/storageAccounts@2026-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    // Without vnetEnabled: reachable from the internet (operators use the CLI or Storage
    // Explorer), but only with an Entra ID token (see allowSharedKeyAccess). With it: only
    // through the private endpoints of network.bicep.
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: vnetEnabled ? {
      defaultAction: 'Deny'
      bypass: 'None'
    } : {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-04-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-04-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2026-04-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2026-04-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2026-04-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-04-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
