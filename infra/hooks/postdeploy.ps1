# azd postdeploy: subscribes captureEventGrid to every workspace's system topic. The webhook
# needs the app's eventgrid_extension system key, which the Functions host creates when it first
# loads the Event Grid extension after a deployment, so wait for it (up to 10 minutes).
$ErrorActionPreference = 'Stop'
if (-not $env:AZURE_RESOURCE_GROUP -or -not $env:AZURE_FUNCTION_APP_NAME -or -not $env:DEADLETTER_STORAGE_ID) { throw 'run azd provision first' }
if (-not $env:EVENT_GRID_SYSTEM_TOPIC_IDS) { throw 'no workspaces: set AML_WORKSPACES and run azd provision' }

$key = ''
for ($attempt = 1; -not $key; $attempt++) {
  $key = az functionapp keys list -g $env:AZURE_RESOURCE_GROUP -n $env:AZURE_FUNCTION_APP_NAME --query "systemKeys.eventgrid_extension" -o tsv 2>$null
  if ($key) { break }
  if ($attempt -ge 40) { throw 'the app has no eventgrid_extension key after 10 minutes; check it started, then: azd hooks run postdeploy' }
  Write-Host "waiting for the Event Grid extension key (attempt $attempt)..."
  Start-Sleep -Seconds 15
}

$hostName = $env:AZURE_FUNCTION_URL -replace '^https://', ''
az deployment group create --name lineage-event-subscriptions --resource-group $env:AZURE_RESOURCE_GROUP `
  --template-file infra/eventSubscriptions.bicep --output none `
  --parameters systemTopicIds="$($env:EVENT_GRID_SYSTEM_TOPIC_IDS)" functionAppHost=$hostName `
  eventGridKey=$key deadLetterStorageId=$env:DEADLETTER_STORAGE_ID
if ($LASTEXITCODE -ne 0) { throw 'the Event Grid subscriptions were not created' }
Write-Host "captureEventGrid subscribed to: $($env:EVENT_GRID_SYSTEM_TOPIC_IDS)"
if ($env:WORKSPACES_WITHOUT_RESOURCE_LOGS) {
  Write-Host "resource logs are not streamed for (other region than the Event Hubs namespace): $($env:WORKSPACES_WITHOUT_RESOURCE_LOGS)"
}
