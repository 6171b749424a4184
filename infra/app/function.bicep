// The Function App: Flex Consumption (FC1), Linux, Node.js. It runs as the user-assigned
// identity and holds no secret: storage, telemetry and Key Vault are all reached with
// Entra ID tokens of that identity. Every setting the code reads in production
// (shared/settings.ts SETTING_SPECS, production: true) is set here; test/infra checks it.

param name string
param planName string
param location string
param tags object = {}

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID, AzureWebJobsStorage__clientId, the App Insights AAD string).')
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string

@description('https://<vault>.vault.azure.net')
param keyVaultUri string

@description('Node.js major version. Node.js 20 reached end of life on 2026-04-30.')
@allowed([
  '22'
])
param nodeVersion string = '22'

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@allowed([
  'global'
  'china'
  'usgov'
])
param partnerCenterCloud string = 'global'

param partnerCenterTenantId string
param partnerCenterClientId string
param refreshTokenSecretName string
param clientSecretName string

@allowed([
  'managed-identity'
  'secret'
])
param clientCredential string = 'managed-identity'

@description('NCRONTAB (six fields) of the sync timer.')
param syncSchedule string = '0 0 * * * *'

@description('Subnet (delegated to Microsoft.App/environments) the app is integrated into, so that it reaches storage and Key Vault through their private endpoints. Empty: no virtual network.')
param virtualNetworkSubnetId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  // azd finds the app to deploy the `api` service of azure.yaml to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: !empty(virtualNetworkSubnetId) ? virtualNetworkSubnetId : null
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// Flex Consumption takes the worker runtime and version from functionAppConfig, so
// FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION / WEBSITE_RUN_FROM_PACKAGE are
// not set here. None of these values is a secret: the App Insights connection string only
// names the component (local auth is off, so it cannot be used to send telemetry alone).
resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // The Functions host's own storage (timer leases, keys, queue triggers), by identity. No
    // tableServiceUri: the host would use tables only for its optional diagnostic events, and
    // the identity holds table rights on the sync engine's tables only (rbac.bicep).
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue

    // DefaultAzureCredential (tables, Key Vault) and the client assertion use this identity.
    AZURE_CLIENT_ID: identityClientId

    // Telemetry: Entra ID auth only.
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'

    // The sync engine (shared/settings.ts).
    BILLING_SYNC_STORAGE: storage.properties.primaryEndpoints.table
    BILLING_SYNC_SCHEDULE: syncSchedule
    PARTNER_CENTER_CLOUD: partnerCenterCloud
    PARTNER_CENTER_AUTH: 'user'
    PARTNER_CENTER_TENANT_ID: partnerCenterTenantId
    PARTNER_CENTER_CLIENT_ID: partnerCenterClientId
    PARTNER_CENTER_KEY_VAULT_URL: keyVaultUri
    PARTNER_CENTER_REFRESH_TOKEN_SECRET: refreshTokenSecretName
    PARTNER_CENTER_CLIENT_CREDENTIAL: clientCredential
    PARTNER_CENTER_CLIENT_SECRET_NAME: clientSecretName
  }
}

// Deployments go through Entra ID (azd, az functionapp deployment); basic-auth
// publishing credentials for FTP and the SCM site stay off. This policy is what keeps FTP
// off: siteConfig.ftpsState is not supported on Flex Consumption (functions-app-settings,
// "Flex Consumption plan deprecations"), so it is not set.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output id string = app.id
output defaultHostName string = app.properties.defaultHostName
