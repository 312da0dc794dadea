# azd predown: removes what `azd up` put outside its resource group, which `azd down` would leave
# behind: each workspace's diagnostic setting and the app's Reader role on it, and the
# subscription on system topics the deployment reused. Missing pieces are skipped.
foreach ($ws in ("$env:WORKSPACE_IDS" -split ' ' | Where-Object { $_ })) {
  az monitor diagnostic-settings delete --name aml-lineage --resource $ws --output none 2>$null
  if ($LASTEXITCODE -eq 0) { Write-Host "removed diagnostic setting on $ws" }
  if ($env:AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID) {
    az role assignment delete --assignee $env:AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID --scope $ws --output none 2>$null
    if ($LASTEXITCODE -eq 0) { Write-Host "removed the app's role on $ws" }
  }
}
foreach ($topic in ("$env:REUSED_SYSTEM_TOPIC_IDS" -split ' ' | Where-Object { $_ })) {
  $parts = $topic -split '/'
  az eventgrid system-topic event-subscription delete --resource-group $parts[4] --system-topic-name $parts[8] `
    --name captureEventGrid --yes --output none 2>$null
  if ($LASTEXITCODE -eq 0) { Write-Host "removed captureEventGrid from $topic" }
}
exit 0
