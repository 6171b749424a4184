// The one identity the Function App runs as. User-assigned (not system-assigned) so that
// its client id is known before the app exists: app settings, role assignments and the
// federated credential on the Partner Center app registration can all name it.

@description('Name of the user-assigned managed identity.')
param name string

param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
