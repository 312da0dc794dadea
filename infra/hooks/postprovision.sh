#!/bin/sh
# azd postprovision: makes sure Key Vault holds the redaction key, creating it once and never
# replacing it (a new key would stop equal identities from joining), and the OpenLineage API key,
# also created once; then asks App Service to resolve the app's Key Vault references now rather
# than within 24 hours.
set -eu
: "${AZURE_KEY_VAULT_NAME:?run azd provision first}" "${AZURE_FUNCTION_APP_ID:?run azd provision first}"

# Listing tells "absent" from "not allowed yet" (a role assignment can take minutes to apply):
# only a successful listing without the secret creates it.
attempt=1
until names=$(az keyvault secret list --vault-name "$AZURE_KEY_VAULT_NAME" --query "[].name" -o tsv); do
  if [ "$attempt" -ge 10 ]; then
    echo "cannot list the secrets of $AZURE_KEY_VAULT_NAME; the redaction key was not checked. Re-run: azd hooks run postprovision" >&2
    exit 1
  fi
  echo "waiting for Key Vault access (attempt $attempt)..."
  attempt=$((attempt + 1))
  sleep 20
done

if printf '%s\n' "$names" | grep -qx 'redaction-key'; then
  echo "redaction-key: kept (already in $AZURE_KEY_VAULT_NAME)"
else
  key=$(od -An -N48 -tx1 /dev/urandom | tr -d ' \n')
  az keyvault secret set --vault-name "$AZURE_KEY_VAULT_NAME" --name redaction-key --value "$key" --output none
  echo "redaction-key: created in $AZURE_KEY_VAULT_NAME"
fi

# The key OpenLineage clients send to POST /api/v1/lineage (Authorization: Bearer KEY): created
# once like the redaction key; rotate it by setting a new value and re-running this hook.
if printf '%s\n' "$names" | grep -qx 'openlineage-api-key'; then
  echo "openlineage-api-key: kept (already in $AZURE_KEY_VAULT_NAME)"
else
  key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  az keyvault secret set --vault-name "$AZURE_KEY_VAULT_NAME" --name openlineage-api-key --value "$key" --output none
  echo "openlineage-api-key: created in $AZURE_KEY_VAULT_NAME (az keyvault secret show --vault-name $AZURE_KEY_VAULT_NAME --name openlineage-api-key --query value -o tsv)"
fi

az rest --method post --output none \
  --url "https://management.azure.com${AZURE_FUNCTION_APP_ID}/config/configreferences/appsettings/refresh?api-version=2022-03-01"
echo "Key Vault references refreshed"
