// The vault that holds the Partner Center refresh token (and, only with
// PARTNER_CENTER_CLIENT_CREDENTIAL=secret, the app registration's client secret).
// Access is Azure RBAC only (no access policies); a deleted vault or secret stays
// recoverable for 90 days and cannot be purged early, so a slip cannot lose the token
// chain for good. Every access is audited to Log Analytics (AuditEvent).

param name string
param location string
param tags object = {}

@allowed([
  'default'
  'recover'
])
@description('recover: this name is held by a soft-deleted vault (after `azd down`): recover it, with its secrets, instead of creating it (which would fail for 90 days). The preprovision hook decides (infra/hooks/keyVaultCreateMode.mjs).')
param createMode string = 'default'

@description('Private endpoint only (network.bicep): public network access disabled.')
param vnetEnabled bool = false

@description('Resource id of the Log Analytics workspace the audit log goes to.')
param logAnalyticsWorkspaceId string

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    createMode: createMode
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Who read or wrote which secret, from where, and who was refused: the AuditEvent category
// to the workspace the alerts and the app's telemetry use (table AzureDiagnostics).
// API version: diagnosticSettings' only GA version (2016-09-01) is the older service-level
// form; this preview is the current one (the test of API versions names this exception).
resource audit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output id string = vault.id
// The form PARTNER_CENTER_KEY_VAULT_URL expects (https://<vault>.vault.azure.net, no
// trailing slash); vaultUri ends with '/'. The suffix follows the cloud.
output uri string = 'https://${vault.name}${environment().suffixes.keyvaultDns}'
