#!/bin/sh
# azd predown: removes what `azd up` put outside its resource group, which `azd down` would leave
# behind: each workspace's diagnostic setting and the app's Reader role on it, and the
# subscription on system topics the deployment reused. Missing pieces are skipped.
set -u
for ws in ${WORKSPACE_IDS:-}; do
  az monitor diagnostic-settings delete --name aml-lineage --resource "$ws" --output none 2>/dev/null && echo "removed diagnostic setting on $ws"
  if [ -n "${AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID:-}" ]; then
    az role assignment delete --assignee "$AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID" --scope "$ws" --output none 2>/dev/null && echo "removed the app's role on $ws"
  fi
done
for topic in ${REUSED_SYSTEM_TOPIC_IDS:-}; do
  rg=$(echo "$topic" | cut -d/ -f5)
  name=$(echo "$topic" | cut -d/ -f9)
  az eventgrid system-topic event-subscription delete --resource-group "$rg" --system-topic-name "$name" \
    --name captureEventGrid --yes --output none 2>/dev/null && echo "removed captureEventGrid from $topic"
done
exit 0
