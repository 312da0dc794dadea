// What the app needs on one Azure ML registry, deployed in the registry's resource group: Reader
// for the app's identity, so enrichment can read the registry's models, data, environments and
// components through ARM (registries/*/versions GET), and nothing more. Reader, not AzureML
// Registry User: the app only reads asset metadata, it never pulls or uses an asset.

param registryName string
param appPrincipalId string

var reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

resource registry 'Microsoft.MachineLearningServices/registries@2024-10-01' existing = {
  name: registryName
}

resource appReadsRegistry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, appPrincipalId, reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}
