// The lineage function app and what it needs, with managed identity everywhere and no keys:
// Flex Consumption function app, Cosmos DB (graph, raw event log, requests), Storage (runtime,
// dead letters, enrichment queue), Event Hubs with the workspace's diagnostic setting, Application
// Insights, and the Event Grid subscription on the Azure ML workspace. The Activity Log and
// online-endpoint traffic logs are diagnostic settings at subscription and endpoint scope: add
// them to the same hub (see README).
//
// Deploy: az deployment group create -g <rg> -f infra/azure/main.bicep -p workspaceName=<aml-ws>
// then publish the code, then re-run with deployEventSubscription=true (Event Grid validates
// the function endpoint when the subscription is created).

@description('Name of the Azure ML workspace, in this resource group, whose events are captured.')
param workspaceName string

@description('Short prefix for resource names.')
@maxLength(11)
param prefix string = 'amllineage'

param location string = resourceGroup().location

@description('Create the Event Grid subscription; set true once the function code is published.')
param deployEventSubscription bool = false

@description('Slack app signing secret for /api/chatops/slack (empty: the route answers 503). Prefer a Key Vault reference.')
@secure()
param slackSigningSecret string = ''

@description('Teams outgoing-webhook security token for /api/chatops/teams (empty: the route answers 503).')
@secure()
param teamsWebhookSecret string = ''

@description('Key of the keyed hashes that replace caller identities before anything is stored. Keep it stable across deployments.')
@secure()
param redactionKey string = newGuid()

@description('Days request traces are kept before they are archived and purged.')
param retentionRequestsDays int = 30

@description('Days raw events (the audit evidence) are kept before they are archived and purged.')
param retentionRawEventsDays int = 2557

@description('Days past a policy before a record still present counts as kept too long.')
param retentionGraceDays int = 7

@description('NCRONTAB schedules (UTC) of the compliance timers.')
param complianceSchedules object = {
  lineage: '0 0 2 * * *'
  drift: '0 15 2 * * *'
  retention: '0 30 2 * * *'
  pii: '0 45 2 * * *'
}

var suffix = uniqueString(resourceGroup().id, prefix)
var databaseName = 'lineage'
var deadLetterContainer = 'deadletters'
var eventGridDeadLetterContainer = 'eventgrid-deadletters'
var deploymentContainer = 'app-package'
var eventHubName = 'aml-workspace-logs'
var enrichmentQueue = 'enrichment'
var complianceContainer = 'compliance'
var workspaceLogCategories = [
  'AmlRunStatusChangedEvent'
  'AmlComputeJobEvent'
  'ModelsChangeEvent'
  'ModelsActionEvent'
  'DataSetChangeEvent'
  'EnvironmentChangeEvent'
  'DeploymentEventACI'
  'DeploymentEventAKS'
]

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-10-01' existing = {
  name: workspaceName
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-logs-${suffix}'
  location: location
  properties: { sku: { name: 'PerGB2018' }, retentionInDays: 30 }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${prefix}-ai-${suffix}'
  location: location
  kind: 'web'
  properties: { Application_Type: 'web', WorkspaceResourceId: logs.id, DisableLocalAuth: true }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('${prefix}st${suffix}', 24)
  location: location
  sku: { name: 'Standard_ZRS' }
  kind: 'StorageV2'
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
  resource blobs 'blobServices' = {
    name: 'default'
    resource deadLetters 'containers' = { name: deadLetterContainer }
    resource eventGridDeadLetters 'containers' = { name: eventGridDeadLetterContainer }
    resource packages 'containers' = { name: deploymentContainer }
    // Compliance reports, run state, legal holds and the retention archive.
    resource compliance 'containers' = { name: complianceContainer }
  }
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: '${prefix}-cosmos-${suffix}'
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true // identities only: no account keys to leak or rotate
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: false }]
    capabilities: [{ name: 'EnableServerless' }]
  }
  resource database 'sqlDatabases' = {
    name: databaseName
    properties: { resource: { id: databaseName } }
    // Nodes and edges: a node and the edges touching it share the node's partition.
    resource graph 'containers' = {
      name: 'graph'
      properties: { resource: { id: 'graph', partitionKey: { paths: ['/pk'], kind: 'Hash', version: 2 } } }
    }
    // Append-only raw events keyed by content hash.
    resource events 'containers' = {
      name: 'events'
      properties: { resource: { id: 'events', partitionKey: { paths: ['/pk'], kind: 'Hash', version: 2 } } }
    }
    // Traced prediction requests, one point read per lookup. TTL is the backstop behind the
    // retention timer, which archives and tombstones at the policy age; TTL expires what is left at
    // policy + grace (held records and tombstones carry ttl -1 and never expire).
    resource requests 'containers' = {
      name: 'requests'
      properties: { resource: { id: 'requests', partitionKey: { paths: ['/pk'], kind: 'Hash', version: 2 }, defaultTtl: (retentionRequestsDays + retentionGraceDays) * 86400 } }
    }
  }
}

// Workspace resource logs stream here through a diagnostic setting; the app reads with its identity.
resource eventHubs 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: '${prefix}-ehns-${suffix}'
  location: location
  sku: { name: 'Standard', tier: 'Standard', capacity: 1 }
  properties: { disableLocalAuth: false, minimumTlsVersion: '1.2' } // Azure Monitor sends with the rule below
  resource hub 'eventhubs' = {
    name: eventHubName
    properties: { partitionCount: 4, messageRetentionInDays: 7 }
  }
  // Send-only rule for Azure Monitor's diagnostic setting (it cannot use a managed identity).
  resource monitorSend 'authorizationRules' = {
    name: 'azure-monitor-send'
    properties: { rights: ['Send'] }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: workspace
  name: 'aml-lineage'
  properties: {
    eventHubAuthorizationRuleId: eventHubs::monitorSend.id
    eventHubName: eventHubName
    logs: [for category in workspaceLogCategories: { category: category, enabled: true }]
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${prefix}-plan-${suffix}'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: '${prefix}-func-${suffix}'
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '20' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'COSMOS_ENDPOINT', value: cosmos.properties.documentEndpoint }
        { name: 'COSMOS_DATABASE', value: databaseName }
        { name: 'STORAGE_BLOB_ENDPOINT', value: storage.properties.primaryEndpoints.blob }
        { name: 'DEADLETTER_CONTAINER', value: deadLetterContainer }
        { name: 'ENRICHMENT_QUEUE', value: enrichmentQueue }
        { name: 'REDACTION_KEY', value: redactionKey }
        { name: 'SLACK_SIGNING_SECRET', value: slackSigningSecret }
        { name: 'TEAMS_WEBHOOK_SECRET', value: teamsWebhookSecret }
        { name: 'EVENTHUB_NAME', value: eventHubName }
        { name: 'COMPLIANCE_CONTAINER', value: complianceContainer }
        { name: 'COMPLIANCE_LINEAGE_SCHEDULE', value: complianceSchedules.lineage }
        { name: 'COMPLIANCE_DRIFT_SCHEDULE', value: complianceSchedules.drift }
        { name: 'COMPLIANCE_RETENTION_SCHEDULE', value: complianceSchedules.retention }
        { name: 'COMPLIANCE_PII_SCHEDULE', value: complianceSchedules.pii }
        { name: 'RETENTION_REQUESTS_DAYS', value: string(retentionRequestsDays) }
        { name: 'RETENTION_RAW_EVENTS_DAYS', value: string(retentionRawEventsDays) }
        { name: 'RETENTION_GRACE_DAYS', value: string(retentionGraceDays) }
        { name: 'AUDIT_WINDOW_DAYS', value: string(retentionRawEventsDays) }
        { name: 'EVENTHUB_CONNECTION__fullyQualifiedNamespace', value: '${eventHubs.name}.servicebus.windows.net' }
      ]
    }
  }
}

// Least privilege: data-plane read/write on this account's documents only (no key, no
// control-plane rights; the containers above are created here, not by the app).
resource cosmosData 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, app.id, 'data-contributor')
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002' // Cosmos DB Built-in Data Contributor
    principalId: app.identity.principalId
    scope: cosmos.id
  }
}

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // the Functions runtime and deployment need owner on blobs
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource appBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, app.id, storageBlobDataOwner)
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner), principalId: app.identity.principalId, principalType: 'ServicePrincipal' }
}

resource appQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, app.id, storageQueueDataContributor)
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor), principalId: app.identity.principalId, principalType: 'ServicePrincipal' }
}

var eventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
var reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

resource appEventHubs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: eventHubs
  name: guid(eventHubs.id, app.id, eventHubsDataReceiver)
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiver), principalId: app.identity.principalId, principalType: 'ServicePrincipal' }
}

// Enrichment reads jobs, models, data, environments, endpoints through ARM: Reader on the workspace, nothing more.
resource appReadsWorkspace 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: workspace
  name: guid(workspace.id, app.id, reader)
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader), principalId: app.identity.principalId, principalType: 'ServicePrincipal' }
}

resource appTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: insights
  name: guid(insights.id, app.id, monitoringMetricsPublisher)
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher), principalId: app.identity.principalId, principalType: 'ServicePrincipal' }
}

// Event Grid system topic on the workspace; undeliverable events land in Blob Storage.
resource topic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: '${prefix}-aml-events-${suffix}'
  location: location
  identity: { type: 'SystemAssigned' }
  properties: { source: workspace.id, topicType: 'Microsoft.MachineLearningServices.Workspaces' }
}

resource topicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, topic.id, storageBlobDataContributor)
  properties: { roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor), principalId: topic.identity.principalId, principalType: 'ServicePrincipal' }
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2024-06-01-preview' = if (deployEventSubscription) {
  parent: topic
  name: 'captureEventGrid'
  properties: {
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    destination: {
      endpointType: 'AzureFunction'
      properties: { resourceId: '${app.id}/functions/captureEventGrid', maxEventsPerBatch: 10, preferredBatchSizeInKilobytes: 64 }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.MachineLearningServices.ModelRegistered'
        'Microsoft.MachineLearningServices.ModelDeployed'
        'Microsoft.MachineLearningServices.RunCompleted'
        'Microsoft.MachineLearningServices.RunStatusChanged'
        'Microsoft.MachineLearningServices.DatasetDriftDetected'
      ]
    }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: { endpointType: 'StorageBlob', properties: { resourceId: storage.id, blobContainerName: eventGridDeadLetterContainer } }
    }
  }
}

output functionAppName string = app.name
output cosmosEndpoint string = cosmos.properties.documentEndpoint
