// One subscription of captureEventGrid to a workspace's system topic, in the topic's resource group.

param topicName string
@secure()
param endpointUrl string
param deadLetterStorageId string

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: topicName
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'captureEventGrid'
  properties: {
    eventDeliverySchema: 'CloudEventSchemaV1_0'
    destination: {
      endpointType: 'WebHook'
      properties: { endpointUrl: endpointUrl, maxEventsPerBatch: 10, preferredBatchSizeInKilobytes: 64 }
    }
    // No event-type filter: every event the workspace's topic raises is logged raw, so a type
    // Azure adds later can be projected by a replay once it is declared in shared/ingest.
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
    // Written by the topic's own identity, which holds Storage Blob Data Contributor on the container.
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: { resourceId: deadLetterStorageId, blobContainerName: 'eventgrid-deadletters' }
      }
    }
  }
}
