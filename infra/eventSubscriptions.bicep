// The Event Grid subscriptions of the lineage app, one per system topic. Deployed by the
// postdeploy hook (infra/hooks/postdeploy.sh, .ps1) once the deployed app's Event Grid extension
// has created its system key: the webhook endpoint needs it, and Event Grid validates the endpoint
// when the subscription is created.

@description('Space-separated ARM ids of the system topics (azd output EVENT_GRID_SYSTEM_TOPIC_IDS).')
param systemTopicIds string
@description('Host name of the function app, e.g. func-lineage-xxxx.azurewebsites.net.')
param functionAppHost string
@description('The function app\'s eventgrid_extension system key.')
@secure()
param eventGridKey string
@description('Storage account holding the eventgrid-deadletters container.')
param deadLetterStorageId string

module subscriptions 'modules/eventSubscription.bicep' = [
  for (topicId, i) in split(trim(systemTopicIds), ' '): {
    name: 'lineage-event-subscription-${i}'
    scope: resourceGroup(split(topicId, '/')[4])
    params: {
      topicName: split(topicId, '/')[8]
      endpointUrl: 'https://${functionAppHost}/runtime/webhooks/eventgrid?functionName=captureEventGrid&code=${eventGridKey}'
      deadLetterStorageId: deadLetterStorageId
    }
  }
]
