// partner-billing-sync in Azure: one resource group holding a Flex Consumption Function
// App, its user-assigned identity, a storage account (host state, deployment package,
// the sync tables and queue), Log Analytics + Application Insights, a Key Vault for the
// Partner Center refresh token, the role assignments, the alerts and the dashboard workbook;
// with vnetEnabled, a virtual network and private endpoints (core/network.bicep).
//
// Subscription scope, as azd expects for a template that creates its own resource group
// (`azd up`, or `az deployment sub create`, see docs/deploy.md).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment (dev, prod, ...): names the resource group and seeds the resource names.')
param environmentName string

// Only the regions that offer the Flex Consumption plan, so that azd's prompt lists those
// and a wrong region fails at once rather than at plan creation. Source, read 2026-12-07:
// Microsoft's Flex Consumption azd quickstart (Azure-Samples/functions-quickstart-typescript-azd,
// infra/main.bicep @157d2cec), which limits `location` the same way; Microsoft Learn, "Create
// and manage function apps in the Flex Consumption plan", section "View currently supported
// regions", names `az functionapp list-flexconsumption-locations` as the current list. Left
// out: eastus2euap, an early-access (canary) region the quickstart lists. When Microsoft adds
// a region, add it here (docs/deploy.md).
@minLength(1)
@description('Region of every resource: one that offers the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create or reuse. Default: rg-<environmentName>.')
param resourceGroupName string = ''

@minLength(3)
@description('E-mail address the alerts are sent to.')
param alertEmail string

@minLength(36)
@maxLength(36)
@description('Client (application) id of the Partner Center app registration (secure application model).')
param partnerCenterClientId string

@description('Entra tenant id of the partner (the CSP tenant). Empty: the tenant of this subscription.')
param partnerCenterTenantId string = ''

@allowed([
  'global'
  'china'
  'usgov'
])
param partnerCenterCloud string = 'global'

@allowed([
  'managed-identity'
  'secret'
])
@description('How the app proves it is the app registration: a client assertion from the managed identity through a federated credential (no secret anywhere), or a client secret kept in the Key Vault.')
param partnerCenterClientCredential string = 'managed-identity'

@description('Key Vault secret name of the Partner Center refresh token.')
param refreshTokenSecretName string = 'partner-center-refresh-token'

@description('Key Vault secret name of the client secret (used only with partnerCenterClientCredential=secret).')
param clientSecretName string = 'partner-center-client-secret'

@description('NCRONTAB (six fields, seconds first) of the sync timer. Default: hourly.')
param syncSchedule string = '0 0 * * * *'

@description('Node.js major version of the Function App. Node.js 20 reached end of life on 2026-04-30.')
@allowed([
  '22'
])
param nodeVersion string = '22'

@description('Object id of the operator deploying (azd passes AZURE_PRINCIPAL_ID): gets Key Vault Secrets Officer (for billing-sync auth login) and Storage Table Data Contributor (for billing-sync desired set). Empty: none.')
param principalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Put storage and Key Vault behind private endpoints with public network access disabled, and integrate the app into a subnet of a new virtual network (docs/deploy.md). Off by default: operators then reach storage and the vault from the internet with Entra ID only.')
param vnetEnabled bool = false

@allowed([
  'default'
  'recover'
])
@description('recover: recover this environment\'s soft-deleted Key Vault (left by `azd down`) instead of creating it. Set by the preprovision hook (infra/hooks/keyVaultCreateMode.mjs).')
param keyVaultCreateMode string = 'default'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  app: 'partner-billing-sync'
}
var effectivePartnerTenantId = !empty(partnerCenterTenantId) ? partnerCenterTenantId : tenant().tenantId
var functionAppName = 'func-billing-sync-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity './core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-billing-sync-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring './core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-billing-sync-${resourceToken}'
    applicationInsightsName: 'appi-billing-sync-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    vnetEnabled: vnetEnabled
  }
}

module keyVault './core/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    createMode: keyVaultCreateMode
    vnetEnabled: vnetEnabled
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module network './core/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-billing-sync-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
  }
}

module rbac './core/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: identity.outputs.principalId
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
  }
}

module functionApp './app/function.bicep' = {
  name: 'function'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-billing-sync-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultUri: keyVault.outputs.uri
    nodeVersion: nodeVersion
    partnerCenterCloud: partnerCenterCloud
    partnerCenterTenantId: effectivePartnerTenantId
    partnerCenterClientId: partnerCenterClientId
    refreshTokenSecretName: refreshTokenSecretName
    clientSecretName: clientSecretName
    clientCredential: partnerCenterClientCredential
    syncSchedule: syncSchedule
    virtualNetworkSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''
  }
  // The app must not start pulling its package or writing telemetry before its identity
  // holds the roles for that.
  dependsOn: [
    rbac
  ]
}

module alerts './core/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: 'billing-sync-${resourceToken}'
    actionGroupName: 'ag-billing-sync-${resourceToken}'
    alertEmail: alertEmail
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module workbook './core/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
  }
}

// azd stores these in the environment (azd env get-values): the CLI reads the same names.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_ENDPOINT string = 'https://${functionApp.outputs.defaultHostName}'
output BILLING_SYNC_STORAGE string = storage.outputs.tableEndpoint
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output PARTNER_CENTER_KEY_VAULT_URL string = keyVault.outputs.uri
output PARTNER_CENTER_TENANT_ID string = effectivePartnerTenantId
output PARTNER_CENTER_CLIENT_ID string = partnerCenterClientId
output PARTNER_CENTER_CLOUD string = partnerCenterCloud
// For the federated credential on the app registration (README): subject = principal id.
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
// The dashboard (docs/dashboard.md): open it in a browser.
output BILLING_SYNC_WORKBOOK_URL string = workbook.outputs.url
