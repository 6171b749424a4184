// Role assignments. The app's data (the sync engine's tables) is granted table by table,
// as the code uses it; the platform's storage (the Flex Consumption deployment package, the
// Functions host's blobs and queues) is granted on the account, as Microsoft's Flex
// Consumption templates grant it: the account is this app's alone, and the host and the
// deployment service create containers and queues of their own (docs/deploy.md). Role
// definition ids are the built-in ones (the same GUID in every tenant), as listed in
// Microsoft's "Azure built-in roles" reference.

@description('Principal (object) id of the app\'s user-assigned managed identity.')
param appPrincipalId string

@description('Object id of the operator who deploys (azd sets AZURE_PRINCIPAL_ID). Empty: no operator roles.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

param storageAccountName string
param applicationInsightsName string
param keyVaultName string

@description('The desired state (shared/stores/tables.ts TABLES.desired): read by every run, written only to suspend a departed customer.')
param desiredTableName string = 'BillingProfileDesired'

@description('The tables the app writes (TABLES.history, TABLES.leases, TABLES.sweeps, TABLES.desiredChanges, TABLES.status).')
param writtenTableNames array = [
  'BillingProfileHistory'
  'BillingProfileLeases'
  'BillingProfileSweeps'
  'BillingProfileDesiredChanges'
  'BillingProfileStatus'
]

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2026-04-01' existing = {
  parent: storage
  name: 'default'
}

resource desiredTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2026-04-01' existing = {
  parent: tableService
  name: desiredTableName
}

resource writtenTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2026-04-01' existing = [
  for tableName in writtenTableNames: {
    parent: tableService
    name: tableName
  }
]

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

// Storage Blob Data Owner on the account: the Flex Consumption platform reads the app
// package from the deployment container with this identity (functionAppConfig.deployment),
// and the Functions host (AzureWebJobsStorage__blobServiceUri) creates and uses its own
// containers: azure-webjobs-hosts (the timer's schedule status, singleton and host locks),
// azure-webjobs-secrets (the host keys). Owner, not Contributor: what the host documents for
// identity-based AzureWebJobsStorage, and what Microsoft's Flex Consumption templates grant.
resource appBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor on the account: the timer run enqueues one message per
// target on billing-sync-targets; the host's queue trigger reads, updates and deletes them,
// watches the queue's length to scale, and moves a message that keeps failing to
// billing-sync-targets-poison (creating it if it is missing), as Microsoft's templates grant
// it to a Functions app whose triggers use queues.
resource appQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor on BillingProfileDesired: a run reads the desired state
// and the list of targets; operators change it (CLI desired set, import, restore, adopt).
// The app writes one thing itself: a customer gone for 3 runs in a row is suspended
// (Suspended, SuspendedReason "customer gone since DATE"; shared/engine/departures.ts),
// and that write, logged in BillingProfileDesiredChanges under the app's identity like any
// write, was refused with Reader only. There is no narrower built-in role: Reader cannot
// write, and a custom role would still grant writes on the whole table.
resource appDesiredContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(desiredTable.id, appPrincipalId, roles.storageTableDataContributor)
  scope: desiredTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor on BillingProfileHistory (a record per run, written ahead
// of every PUT), BillingProfileLeases (take, renew, release a target's lease) and
// BillingProfileSweeps (a sweep's PUT count, reserved before each PUT). The
// BillingProfileDesiredChanges (a run logs a desired row changed outside billing-sync, and
// the app's own suspension of a departed customer), BillingProfileStatus (one row per
// target, kept by every run). The
// tables exist (storage.bicep): with an endpoint URL the app does not create them.
resource appWrittenTablesContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (tableName, i) in writtenTableNames: {
    name: guid(writtenTables[i].id, appPrincipalId, roles.storageTableDataContributor)
    scope: writtenTables[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Monitoring Metrics Publisher: with DisableLocalAuth the ingestion endpoint accepts
// telemetry (the host's, and the app's exporter) only with an Entra ID token of an identity
// holding this role on the component (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets Officer: the refresh-token credential reads the current version of
// PARTNER_CENTER_REFRESH_TOKEN_SECRET and, when Entra ID hands back a rotated refresh
// token, sets a new secret version (Secrets User can only read). With
// PARTNER_CENTER_CLIENT_CREDENTIAL=secret it also reads the client secret. Vault scope:
// the secrets do not exist at deployment time, and the vault holds only this app's secrets.
resource appSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The operator who deploys, for the two things done from a workstation with az login:
// Key Vault Secrets Officer so that `billing-sync auth login` can store the first refresh
// token (and a client secret, if used) in the vault;
resource operatorSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

// Storage Table Data Contributor on the account so that the operator actions the app may
// not do run from the CLI: `billing-sync desired set`, `restore` and `adopt` (they write
// BillingProfileDesired), `plan`, `history` (BILLING_SYNC_STORAGE=https://<account>.table.core.windows.net),
// and Storage Explorer with Entra ID sign-in (shared key access is off).
resource operatorTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(storage.id, operatorPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}
