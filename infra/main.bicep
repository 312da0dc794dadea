// Entry point of `azd up` (azd's default infra/main.bicep): a resource group holding the lineage
// function app and everything it needs (resources.bicep), plus what has to live on each Azure ML
// workspace (modules/workspace.bicep: the diagnostic setting and the Reader role for enrichment), and
// Reader on each shared registry (modules/registry.bicep).
// The Event Grid subscriptions are created by the postdeploy hook (infra/hooks/postdeploy.*) from
// eventSubscriptions.bicep, once the deployed app's Event Grid extension key exists.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds the resource names.')
param environmentName string

@minLength(1)
@description('Region of the resource group, the function app, Cosmos DB, Storage and Key Vault (a region with Flex Consumption).')
@metadata({ azd: { type: 'location' } })
param location string

@minLength(1)
@description('''The Azure ML workspaces to capture, in this subscription, as a JSON array (azd env AML_WORKSPACES):
[{ "id": "/subscriptions/…/resourceGroups/…/providers/Microsoft.MachineLearningServices/workspaces/NAME",
   "location": "westeurope",
   "existingSystemTopic": { "resourceGroup": "…", "name": "…" } }]
"location" is the workspace's region. "existingSystemTopic" is optional: a workspace can have only one
Event Grid system topic, so name the one it already has (it needs a system-assigned identity).
Resource logs stream through an Event Hubs namespace in the first workspace's region; workspaces in
other regions are captured from Event Grid and listed in WORKSPACES_WITHOUT_RESOURCE_LOGS.''')
param workspaces array

@description('''Azure ML registries the workspaces share models, data, environments and components through, as a JSON
array of their ARM ids (azd env AML_REGISTRIES; empty by default). The app's identity gets Reader on each, and the
app setting AML_REGISTRIES lists them, so assets named azureml://registries/NAME/... are read there.''')
param registries array = []

@description('Object id of the person or pipeline running azd; gets Key Vault Secrets Officer to create and rotate secrets.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

@description('Slack app signing secret, written to Key Vault when given (empty keeps what the vault holds).')
@secure()
param slackSigningSecret string = ''

@description('Teams outgoing-webhook security token, written to Key Vault when given (empty keeps what the vault holds).')
@secure()
param teamsWebhookSecret string = ''

@description('Shared secret for signed approvals (POST /api/approvals with X-Lineage-Signature), written to Key Vault when given; empty: approvals need the approver role.')
@secure()
param approvalSigningSecret string = ''

@description('''Application (client) id of a Microsoft Entra app registration with the app roles Lineage.Reader, Lineage.Auditor,
Lineage.Approver and Lineage.Admin (azd env ENTRA_CLIENT_ID). When given, App Service authentication validates Entra tokens in
front of the app and passes the caller's roles on; callers without a token still get through with a function key (key-only role).
Empty: no authentication in front, and the app ignores any principal header.''')
param entraClientId string = ''

var tags = { 'azd-env-name': environmentName }
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  name: 'lineage-resources'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    workspaces: workspaces
    registries: registries
    principalId: principalId
    principalType: principalType
    slackSigningSecret: slackSigningSecret
    teamsWebhookSecret: teamsWebhookSecret
    approvalSigningSecret: approvalSigningSecret
    entraClientId: entraClientId
  }
}

// Extension resources on each workspace, deployed in the workspace's own resource group.
module workspaceAccess 'modules/workspace.bicep' = [
  for (ws, i) in workspaces: {
    name: 'lineage-workspace-${i}'
    scope: resourceGroup(split(ws.id, '/')[2], split(ws.id, '/')[4])
    params: {
      workspaceName: split(ws.id, '/')[8]
      appPrincipalId: resources.outputs.identityPrincipalId
      // Azure Monitor streams only to a namespace in the monitored resource's region.
      eventHubAuthorizationRuleId: ws.location == resources.outputs.eventHubsLocation ? resources.outputs.monitorRuleId : ''
      eventHubName: resources.outputs.eventHubName
    }
  }
]

// Reader on each registry, deployed in the registry's own resource group (it may be in another subscription).
module registryAccess 'modules/registry.bicep' = [
  for (id, i) in registries: {
    name: 'lineage-registry-${i}'
    scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])
    params: {
      registryName: split(id, '/')[8]
      appPrincipalId: resources.outputs.identityPrincipalId
    }
  }
]

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = resources.outputs.functionAppName
output AZURE_FUNCTION_APP_ID string = resources.outputs.functionAppId
output AZURE_FUNCTION_URL string = resources.outputs.functionAppUrl
output AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID string = resources.outputs.identityPrincipalId
output AZURE_KEY_VAULT_NAME string = resources.outputs.keyVaultName
output COSMOS_ENDPOINT string = resources.outputs.cosmosEndpoint
output STORAGE_BLOB_ENDPOINT string = resources.outputs.blobEndpoint
// For npm run rewind against the deployment (EVENTHUB_CONNECTION__fullyQualifiedNamespace, EVENTHUB_NAME).
output EVENTHUB_NAMESPACE string = resources.outputs.eventHubsNamespace
output EVENTHUB_NAME string = resources.outputs.eventHubName
output DEADLETTER_STORAGE_ID string = resources.outputs.storageId
// Space-separated ARM ids (ids contain no spaces), so the POSIX and PowerShell hooks split them alike.
output WORKSPACE_IDS string = join(map(workspaces, ws => ws.id), ' ')
output EVENT_GRID_SYSTEM_TOPIC_IDS string = join(resources.outputs.systemTopicIds, ' ')
output REUSED_SYSTEM_TOPIC_IDS string = join(resources.outputs.reusedSystemTopicIds, ' ')
output WORKSPACES_WITHOUT_RESOURCE_LOGS string = join(
  map(filter(workspaces, ws => ws.location != resources.outputs.eventHubsLocation), ws => ws.id),
  ' '
)
