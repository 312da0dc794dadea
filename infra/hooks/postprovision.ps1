# azd postprovision: makes sure Key Vault holds the redaction key, creating it once and never
# replacing it (a new key would stop equal identities from joining), and the OpenLineage API key,
# also created once; then asks App Service to resolve the app's Key Vault references now rather
# than within 24 hours.
$ErrorActionPreference = 'Stop'
if (-not $env:AZURE_KEY_VAULT_NAME -or -not $env:AZURE_FUNCTION_APP_ID) { throw 'run azd provision first' }

# Listing tells "absent" from "not allowed yet" (a role assignment can take minutes to apply):
# only a successful listing without the secret creates it.
$names = $null
for ($attempt = 1; $attempt -le 10; $attempt++) {
  $names = az keyvault secret list --vault-name $env:AZURE_KEY_VAULT_NAME --query "[].name" -o tsv
  if ($LASTEXITCODE -eq 0) { break }
  if ($attempt -eq 10) { throw "cannot list the secrets of $($env:AZURE_KEY_VAULT_NAME); the redaction key was not checked. Re-run: azd hooks run postprovision" }
  Write-Host "waiting for Key Vault access (attempt $attempt)..."
  Start-Sleep -Seconds 20
}

if (@($names) -contains 'redaction-key') {
  Write-Host "redaction-key: kept (already in $($env:AZURE_KEY_VAULT_NAME))"
} else {
  $bytes = [byte[]]::new(48)
  [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
  $key = -join ($bytes | ForEach-Object { $_.ToString('x2') })
  az keyvault secret set --vault-name $env:AZURE_KEY_VAULT_NAME --name redaction-key --value $key --output none
  if ($LASTEXITCODE -ne 0) { throw 'could not create redaction-key' }
  Write-Host "redaction-key: created in $($env:AZURE_KEY_VAULT_NAME)"
}

# The key OpenLineage clients send to POST /api/v1/lineage (Authorization: Bearer KEY): created
# once like the redaction key; rotate it by setting a new value and re-running this hook.
if (@($names) -contains 'openlineage-api-key') {
  Write-Host "openlineage-api-key: kept (already in $($env:AZURE_KEY_VAULT_NAME))"
} else {
  $bytes = [byte[]]::new(32)
  [System.Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
  $key = -join ($bytes | ForEach-Object { $_.ToString('x2') })
  az keyvault secret set --vault-name $env:AZURE_KEY_VAULT_NAME --name openlineage-api-key --value $key --output none
  if ($LASTEXITCODE -ne 0) { throw 'could not create openlineage-api-key' }
  Write-Host "openlineage-api-key: created in $($env:AZURE_KEY_VAULT_NAME)"
}

az rest --method post --output none --url "https://management.azure.com$($env:AZURE_FUNCTION_APP_ID)/config/configreferences/appsettings/refresh?api-version=2022-03-01"
if ($LASTEXITCODE -ne 0) { throw 'could not refresh the Key Vault references' }
Write-Host 'Key Vault references refreshed'
