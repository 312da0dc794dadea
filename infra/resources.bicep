// The lineage function app and what it needs, in one resource group (main.bicep creates it):
// a user-assigned identity created first and used for everything (host and deployment storage,
// Cosmos DB, Event Hubs, Key Vault references, Application Insights); a Flex Consumption app on
// Node 22; Cosmos DB (graph, raw event log, requests); Storage (runtime, deployment package, dead
// letters, compliance, identities, checkpoints, operation records; the enrichment and operations queues);
// Key Vault (redaction key, chat-ops secrets, identity and checkpoint keys); Event Hubs in the
// workspaces' region with consumer groups of our own (the app's, rewind's); Application Insights;
// and an Event Grid system topic per workspace (or the one it already has).
//
// No Bicep compiler runs where this is developed: test/unit/azureTemplate.test.ts keeps the
// template coherent with the app (settings, bindings, identities, API versions).

param location string
param tags object
param resourceToken string
@description('See main.bicep.')
param workspaces array
@description('See main.bicep: ARM ids of the Azure ML registries whose assets enrichment reads (AML_REGISTRIES).')
param registries array = []
param principalId string
param principalType string
@secure()
param slackSigningSecret string
@secure()
param teamsWebhookSecret string
@secure()
param approvalSigningSecret string
@description('See main.bicep.')
param entraClientId string = ''

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
  integrity: '0 10 * * * *'
  serving: '0 20 * * * *'
  schemaDrift: '0 50 2 * * *'
}
@description('NCRONTAB schedule (UTC) of the reconcile timer that reads endpoints and deployments again through the REST enrichment.')
param reconcileSchedule string = '0 */30 * * * *'
@description('Hours after which a serving deployment not observed since is listed as stale in the compliance freshness section.')
param freshnessStaleHours int = 24
@description('Hours after which the reconcile timer also reads again unfinished jobs and nodes never fetched.')
param reconcileOlderThanHours int = 24
@description('Days each signed checkpoint of the evidence log is kept immutable (WORM) in Blob Storage.')
param checkpointRetentionDays int = 2557
@description('Days a long operation\'s status record (GET /api/operations/{id}) is kept after its last change.')
param operationRecordDays int = 30
@description('NCRONTAB schedule (UTC) of the evidence log sequencer: events logged since its last run are unprotected until it runs.')
param sequenceSchedule string = '0 */5 * * * *'

var databaseName = 'lineage'
var deadLetterContainer = 'deadletters'
var eventGridDeadLetterContainer = 'eventgrid-deadletters'
var deploymentContainer = 'app-package'
var complianceContainer = 'compliance'
var identityContainer = 'identities'
var checkpointContainer = 'checkpoints'
var enrichmentQueue = 'enrichment'
var operationsContainer = 'operations'
var operationsQueue = 'operations'
var closureQueue = 'closures'
var fanOutQueue = 'fanout'
// The queues the app sends to and its queue triggers work, and the poison queues the Functions
// host moves a message to after maxDequeueCount failed deliveries. Created here, so the app's
// identity needs rights on these queues only, not on the account's queue service.
var appQueues = [enrichmentQueue, 'enrichment-poison', operationsQueue, 'operations-poison', closureQueue, 'closures-poison', fanOutQueue, 'fanout-poison']
var eventHubName = 'aml-workspace-logs'
var consumerGroup = 'aml-lineage'
// `npm run rewind` reads with a group of its own: the app holds its group's partitions.
var rewindConsumerGroup = 'rewind'
var eventHubsNamespace = '${eventHubs.name}.servicebus.windows.net'
// Diagnostic settings stream only to a namespace in the monitored workspace's region.
var eventHubsLocation = workspaces[0].location

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // host storage and the deployment container
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Event Grid dead letters
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // each queue in appQueues: send, receive, delete, create its poison queue
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde' // Event Hubs trigger
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault references
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // the deployer writes and rotates secrets
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424' // wrapKey/unwrapKey with the identity key
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // telemetry with local auth disabled
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424' // signs evidence log checkpoints (keys/read, keys/sign)
}

// Created before the app, so every role it needs exists when the app first starts (a
// system-assigned identity exists only once the app does, too late for deployment storage).
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-lineage-${resourceToken}'
  location: location
  tags: tags
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-lineage-${resourceToken}'
  location: location
  tags: tags
  properties: { sku: { name: 'PerGB2018' }, retentionInDays: 30 }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-lineage-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: { Application_Type: 'web', WorkspaceResourceId: logs.id, DisableLocalAuth: true }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('stlineage${resourceToken}', 24)
  location: location
  tags: tags
  sku: { name: 'Standard_ZRS' }
  kind: 'StorageV2'
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
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
    // Sealed identities (approvers, owners, authors) and the log of every reveal.
    resource identities 'containers' = { name: identityContainer }
    // Signed checkpoints of the evidence log, written once each. A time-based retention (WORM)
    // policy: new blobs may be created, none may be overwritten or deleted until the period ends,
    // not even by the app's identity (policies are control-plane; it holds data-plane roles only).
    // Left unlocked so a mistaken period can be corrected; lock it once checked (see README).
    resource checkpoints 'containers' = {
      name: checkpointContainer
      resource worm 'immutabilityPolicies' = {
        name: 'default'
        properties: { immutabilityPeriodSinceCreationInDays: checkpointRetentionDays, allowProtectedAppendWrites: false }
      }
    }
    // Status records of long operations (GET /api/operations/{id}); deleted by the lifecycle rule below.
    resource operations 'containers' = { name: operationsContainer }
  }
  // Operation records are only for following a run: Storage's lifecycle management deletes each one
  // operationRecordDays after its last change (the app never deletes them; an expired id answers 404).
  // The rule filters by "container/prefix", so it touches nothing outside the operations container.
  resource lifecycle 'managementPolicies' = {
    name: 'default'
    properties: {
      policy: {
        rules: [
          {
            name: 'expire-operation-records'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: { blobTypes: ['blockBlob'], prefixMatch: ['${operationsContainer}/'] }
              actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: operationRecordDays } } }
            }
          }
        ]
      }
    }
  }
  resource queueService 'queueServices' = {
    name: 'default'
  }
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for name in appQueues: {
    parent: storage::queueService
    name: name
  }
]

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: 'cosmos-lineage-${resourceToken}'
  location: location
  tags: tags
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
    // The evidence log: tiles, state and checkpoints, one logical partition (shared/store/tlogStore.ts).
    resource tlog 'containers' = {
      name: 'tlog'
      properties: { resource: { id: 'tlog', partitionKey: { paths: ['/pk'], kind: 'Hash', version: 2 } } }
    }
    // Traced prediction requests, one point read per lookup. TTL is the backstop behind the
    // retention timer, which archives and tombstones at the policy age; TTL expires what is left at
    // policy + grace (held records and tombstones carry ttl -1 and never expire).
    resource requests 'containers' = {
      name: 'requests'
      properties: {
        resource: {
          id: 'requests'
          partitionKey: { paths: ['/pk'], kind: 'Hash', version: 2 }
          defaultTtl: (retentionRequestsDays + retentionGraceDays) * 86400
        }
      }
    }
  }
}

// Workspace resource logs stream here through each workspace's diagnostic setting; the app reads
// with its identity through a consumer group no other reader shares.
resource eventHubs 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: 'evhns-lineage-${resourceToken}'
  location: eventHubsLocation
  tags: tags
  sku: { name: 'Standard', tier: 'Standard', capacity: 1 }
  properties: { disableLocalAuth: false, minimumTlsVersion: '1.2' } // Azure Monitor streams with the rule below
  resource hub 'eventhubs' = {
    name: eventHubName
    properties: { partitionCount: 4, messageRetentionInDays: 7 }
    resource lineageReader 'consumergroups' = { name: consumerGroup }
    resource rewindReader 'consumergroups' = { name: rewindConsumerGroup }
  }
  // Azure Monitor cannot stream with a managed identity; streaming requires Manage, Send and Listen.
  resource monitorRule 'authorizationRules' = {
    name: 'azure-monitor'
    properties: { rights: ['Manage', 'Send', 'Listen'] }
  }
}

// RBAC-only vault: the app reads secrets through Key Vault references with its identity.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('kv-lineage-${resourceToken}', 24)
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    publicNetworkAccess: 'Enabled'
  }
  // The redaction key is NOT written here: a template cannot tell "absent" from "present", and a
  // key that changes silently stops equal identities from joining. The postprovision hook creates
  // it once when the vault has none, and never overwrites it.
  resource slack 'secrets' = if (!empty(slackSigningSecret)) {
    name: 'slack-signing-secret'
    properties: { value: slackSigningSecret }
  }
  resource teams 'secrets' = if (!empty(teamsWebhookSecret)) {
    name: 'teams-webhook-secret'
    properties: { value: teamsWebhookSecret }
  }
  resource approvals 'secrets' = if (!empty(approvalSigningSecret)) {
    name: 'approval-signing-secret'
    properties: { value: approvalSigningSecret }
  }
  // Wraps the data keys that seal identities. ARM creates a key only when it does not exist (no new
  // version on redeploy), so sealed identities stay readable across deployments.
  resource identityKey 'keys' = {
    name: 'identity-wrapping-key'
    properties: {
      kty: 'RSA'
      keySize: 3072
      keyOps: ['wrapKey', 'unwrapKey']
    }
  }
  // Signs the evidence log's checkpoints (ECDSA P-256, ES256): the private key never leaves the vault.
  resource checkpointKey 'keys' = {
    name: 'checkpoint-signing'
    properties: { kty: 'EC', curveName: 'P-256', keyOps: ['sign', 'verify'] }
  }
}

// Role assignments of the app's identity. The app depends on all of them, so they exist before it starts.
resource hostBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Host storage needs no queue rights (no blob trigger); the queue triggers and the app's sends get
// them on each queue they use, by its resource id.
resource queueAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in appQueues: {
    scope: queues[i]
    name: guid(queues[i].id, identity.id, roles.storageQueueDataContributor)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource readLogs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: eventHubs
  name: guid(eventHubs.id, identity.id, roles.eventHubsDataReceiver)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataReceiver)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource readSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource useIdentityKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault::identityKey
  name: guid(vault::identityKey.id, identity.id, roles.keyVaultCryptoUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Scoped to the checkpoint key: the sign operation and reading its public key, nothing else of the vault's.
resource signCheckpoints 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault::checkpointKey
  name: guid(vault::checkpointKey.id, identity.id, roles.keyVaultCryptoUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource publishTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: insights
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Least privilege on Cosmos DB: data-plane read/write on this account's documents only (no key,
// no control-plane rights; the containers above are created here, not by the app).
resource cosmosData 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, identity.id, 'data-contributor')
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002' // Cosmos DB Built-in Data Contributor
    principalId: identity.properties.principalId
    scope: cosmos.id
  }
}

resource deployerSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  scope: vault
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: principalType
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-lineage-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

var identityCredential = { credential: 'managedidentity', clientId: identity.properties.clientId }

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-lineage-${resourceToken}'
  location: location
  tags: union(tags, { 'azd-service-name': 'lineage' })
  kind: 'functionapp,linux'
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }
  dependsOn: [storage::blobs::packages, hostBlobs, queueAccess, readLogs, readSecrets, useIdentityKey, signCheckpoints, publishTelemetry, cosmosData]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      // The reader in test/unit/azureTemplate.test.ts parses this list: keep one
      // `{ name: 'X', value: … }` entry per line.
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: identityCredential.credential }
        { name: 'AzureWebJobsStorage__clientId', value: identityCredential.clientId }
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
        { name: 'COSMOS_ENDPOINT', value: cosmos.properties.documentEndpoint }
        { name: 'COSMOS_DATABASE', value: databaseName }
        { name: 'STORAGE_BLOB_ENDPOINT', value: storage.properties.primaryEndpoints.blob }
        { name: 'STORAGE_QUEUE_ENDPOINT', value: storage.properties.primaryEndpoints.queue }
        { name: 'DEADLETTER_CONTAINER', value: deadLetterContainer }
        { name: 'ENRICHMENT_QUEUE', value: enrichmentQueue }
        { name: 'OPERATIONS_QUEUE', value: operationsQueue }
        { name: 'CLOSURE_QUEUE', value: closureQueue }
        { name: 'FANOUT_QUEUE', value: fanOutQueue }
        { name: 'OPERATIONS_CONTAINER', value: operationsContainer }
        { name: 'COMPLIANCE_CONTAINER', value: complianceContainer }
        { name: 'REDACTION_KEY', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=redaction-key)' }
        { name: 'SLACK_SIGNING_SECRET', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=slack-signing-secret)' }
        { name: 'TEAMS_WEBHOOK_SECRET', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=teams-webhook-secret)' }
        { name: 'APPROVAL_SIGNING_SECRET', value: empty(approvalSigningSecret) ? '' : '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=approval-signing-secret)' }
        { name: 'IDENTITY_KEYVAULT_KEY_ID', value: vault::identityKey.properties.keyUri }
        { name: 'IDENTITY_CONTAINER', value: identityContainer }
        { name: 'OPENLINEAGE_API_KEY', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=openlineage-api-key)' }
        // Registries named by `azureml://registries/NAME/…` are read where this list says (JSON array of ARM ids).
        { name: 'AML_REGISTRIES', value: string(registries) }
        { name: 'CHATOPS_DEFAULT_WORKSPACE', value: length(workspaces) == 1 ? workspaces[0].id : '' }
        { name: 'EVENTHUB_NAME', value: eventHubName }
        { name: 'EVENTHUB_CONSUMER_GROUP', value: consumerGroup }
        { name: 'EVENTHUB_CONNECTION__fullyQualifiedNamespace', value: eventHubsNamespace }
        { name: 'EVENTHUB_CONNECTION__credential', value: identityCredential.credential }
        { name: 'EVENTHUB_CONNECTION__clientId', value: identityCredential.clientId }
        { name: 'COMPLIANCE_LINEAGE_SCHEDULE', value: complianceSchedules.lineage }
        { name: 'COMPLIANCE_DRIFT_SCHEDULE', value: complianceSchedules.drift }
        { name: 'COMPLIANCE_RETENTION_SCHEDULE', value: complianceSchedules.retention }
        { name: 'COMPLIANCE_PII_SCHEDULE', value: complianceSchedules.pii }
        { name: 'COMPLIANCE_INTEGRITY_SCHEDULE', value: complianceSchedules.integrity }
        { name: 'COMPLIANCE_SERVING_SCHEDULE', value: complianceSchedules.serving }
        { name: 'COMPLIANCE_SCHEMA_DRIFT_SCHEDULE', value: complianceSchedules.schemaDrift }
        { name: 'RECONCILE_SCHEDULE', value: reconcileSchedule }
        { name: 'FRESHNESS_STALE_HOURS', value: string(freshnessStaleHours) }
        { name: 'RECONCILE_OLDER_THAN_HOURS', value: string(reconcileOlderThanHours) }
        { name: 'TLOG_SEQUENCE_SCHEDULE', value: sequenceSchedule }
        { name: 'TLOG_CHECKPOINT_CONTAINER', value: checkpointContainer }
        { name: 'TLOG_KEYVAULT_KEY_ID', value: vault::checkpointKey.properties.keyUri }
        { name: 'RETENTION_REQUESTS_DAYS', value: string(retentionRequestsDays) }
        { name: 'RETENTION_RAW_EVENTS_DAYS', value: string(retentionRawEventsDays) }
        { name: 'RETENTION_GRACE_DAYS', value: string(retentionGraceDays) }
        { name: 'AUDIT_WINDOW_DAYS', value: string(retentionRawEventsDays) }
      ]
    }
  }
}

// App Service authentication with Microsoft Entra ID, when an app registration is named. It
// validates bearer tokens (issuer: the tenant's v2.0 endpoint; audience: the registration's client
// id, always allowed, or its default Application ID URI) and hands the app their roles in
// x-ms-client-principal, turning on WEBSITE_AUTH_ENABLED, the only signal shared/access.ts trusts.
// Requests without a token pass through (AllowAnonymous): function keys still guard every route,
// key-only callers get KEY_ONLY_ROLE, and Event Grid, Slack, Teams and OpenLineage keep their own
// keys and signatures. No client secret: the API validates tokens and signs nobody in.
resource appAuth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(entraClientId)) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: { requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous' }
    httpSettings: { requireHttps: true }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: { allowedAudiences: ['api://${entraClientId}'] }
      }
    }
    login: { tokenStore: { enabled: false } }
  }
}

// One Event Grid system topic per workspace, in the workspace's region (a workspace can have only
// one; reuse it with existingSystemTopic). Undeliverable events land in Blob Storage, written by
// the topic's own identity.
var newTopicWorkspaces = filter(workspaces, ws => empty(ws.?existingSystemTopic ?? {}))
var reusedTopicWorkspaces = filter(workspaces, ws => !empty(ws.?existingSystemTopic ?? {}))

resource topics 'Microsoft.EventGrid/systemTopics@2025-02-15' = [
  for ws in newTopicWorkspaces: {
    name: 'evgt-${split(ws.id, '/')[8]}-${resourceToken}'
    location: ws.location
    tags: tags
    identity: { type: 'SystemAssigned' }
    properties: { source: ws.id, topicType: 'Microsoft.MachineLearningServices.Workspaces' }
  }
]

resource reusedTopics 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = [
  for ws in reusedTopicWorkspaces: {
    name: ws.existingSystemTopic.name
    scope: resourceGroup(ws.existingSystemTopic.resourceGroup)
  }
]

resource topicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (ws, i) in newTopicWorkspaces: {
    scope: storage::blobs::eventGridDeadLetters
    name: guid(storage.id, topics[i].id, roles.storageBlobDataContributor)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      principalId: topics[i].identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource reusedTopicDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (ws, i) in reusedTopicWorkspaces: {
    scope: storage::blobs::eventGridDeadLetters
    name: guid(storage.id, reusedTopics[i].id, roles.storageBlobDataContributor)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      principalId: reusedTopics[i].identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output functionAppName string = app.name
output functionAppId string = app.id
output functionAppUrl string = 'https://${app.properties.defaultHostName}'
output identityPrincipalId string = identity.properties.principalId
output keyVaultName string = vault.name
output cosmosEndpoint string = cosmos.properties.documentEndpoint
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output storageId string = storage.id
output eventHubsLocation string = eventHubsLocation
output eventHubName string = eventHubName
output eventHubsNamespace string = eventHubsNamespace
output monitorRuleId string = eventHubs::monitorRule.id
// Ids from resourceId(): Bicep cannot index a resource collection inside a lambda.
var newTopicIds = map(newTopicWorkspaces, ws => resourceId('Microsoft.EventGrid/systemTopics', 'evgt-${split(ws.id, '/')[8]}-${resourceToken}'))
var reusedTopicIds = map(
  reusedTopicWorkspaces,
  ws => resourceId(ws.existingSystemTopic.resourceGroup, 'Microsoft.EventGrid/systemTopics', ws.existingSystemTopic.name)
)
output systemTopicIds array = concat(newTopicIds, reusedTopicIds)
output reusedSystemTopicIds array = reusedTopicIds
