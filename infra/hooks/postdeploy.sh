#!/bin/sh
# azd postdeploy: subscribes captureEventGrid to every workspace's system topic. The webhook
# needs the app's eventgrid_extension system key, which the Functions host creates when it first
# loads the Event Grid extension after a deployment, so wait for it (up to 10 minutes).
set -eu
: "${AZURE_RESOURCE_GROUP:?run azd provision first}" "${AZURE_FUNCTION_APP_NAME:?run azd provision first}"
: "${EVENT_GRID_SYSTEM_TOPIC_IDS:?no workspaces: set AML_WORKSPACES and run azd provision}" "${DEADLETTER_STORAGE_ID:?run azd provision first}"

key=''
attempt=1
while [ -z "$key" ]; do
  key=$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" --query "systemKeys.eventgrid_extension" -o tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  if [ "$attempt" -ge 40 ]; then
    echo "the app has no eventgrid_extension key after 10 minutes; check it started, then: azd hooks run postdeploy" >&2
    exit 1
  fi
  echo "waiting for the Event Grid extension key (attempt $attempt)..."
  attempt=$((attempt + 1))
  sleep 15
done

az deployment group create --name lineage-event-subscriptions --resource-group "$AZURE_RESOURCE_GROUP" \
  --template-file infra/eventSubscriptions.bicep --output none \
  --parameters systemTopicIds="$EVENT_GRID_SYSTEM_TOPIC_IDS" functionAppHost="${AZURE_FUNCTION_URL#https://}" \
    eventGridKey="$key" deadLetterStorageId="$DEADLETTER_STORAGE_ID"
echo "captureEventGrid subscribed to: $EVENT_GRID_SYSTEM_TOPIC_IDS"
if [ -n "${WORKSPACES_WITHOUT_RESOURCE_LOGS:-}" ]; then
  echo "resource logs are not streamed for (other region than the Event Hubs namespace): $WORKSPACES_WITHOUT_RESOURCE_LOGS"
fi
