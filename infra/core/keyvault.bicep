// The vault that holds the Partner Center refresh token (and, only with
// PARTNER_CENTER_CLIENT_CREDENTIAL=secret, the app registration's client secret).
// Access is Azure RBAC only (no access policies); a deleted vault or secret stays
// recoverable for 90 days and cannot be purged early, so a slip cannot lose the token
// chain for good.

param name string
param location string
param tags object = {}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
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
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

output name string = vault.name
output id string = vault.id
// The form PARTNER_CENTER_KEY_VAULT_URL expects (https://<vault>.vault.azure.net, no
// trailing slash); vaultUri ends with '/'. The suffix follows the cloud.
output uri string = 'https://${vault.name}${environment().suffixes.keyvaultDns}'
