import { azureBlobUrl, parseRegistryUri, parseWorkspaceId, storageLocation, type NodeRef } from '../../graph/keys.js';
import { resolveAssetRef } from '../rest/assetRefs.js';

/**
 * OpenLineage names a dataset by `namespace` and `name` (the spec's naming conventions: for Azure
 * storage the namespace is `abfss://{container}@{account}.dfs.core.windows.net` or
 * `wasbs://{container}@{account}.blob.core.windows.net` and the name the path). Joined, they are a
 * URI; where the URI names something the graph already knows, the dataset is that node:
 * - Azure Storage in any spelling: the storage node keyed by its blob URL, the same node an Azure
 *   ML data asset's location is (shared/ingest/rest/resourceKinds.ts, `locationOf`);
 * - `azureml://subscriptions/…/workspaces/…/datastores/…/paths/…`: the datastore path node Azure
 *   ML jobs and data assets use; `azureml:/subscriptions/…` ARM ids and `azureml://registries/…`
 *   of data and models: that asset version;
 * - other storage URIs (`s3://`, `gs://`, `hdfs://`, `file:`, `dbfs:`): a storage node by URI;
 * - anything else (database tables, topics): an OpenLineage dataset node by namespace and name.
 * The short `azureml://datastores/NAME/paths/…` form names no workspace and stays a URI of its own.
 */
const STORAGE_SCHEMES = /^(abfss?|wasbs?|https?|s3[an]?|gs|hdfs|file|dbfs|adl|azureml):/i;
const ASSET_KINDS = new Set(['data', 'model', 'dataset']);
/** The workspace an `azureml:` URI names: ARM ids and long datastore URIs (no `providers/` segment) alike. */
const NAMED_WORKSPACE =
  /\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/(?:providers\/microsoft\.machinelearningservices\/)?workspaces\/([^/]+)/i;

export function datasetUri(namespace: string, name: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(name)) return name;
  return `${namespace.replace(/\/+$/, '')}/${name.replace(/^\/+/, '')}`;
}

export function datasetNode(namespace: string, name: string): NodeRef {
  const uri = datasetUri(namespace, name);
  if (azureBlobUrl(uri)) return storageLocation(undefined, uri);
  if (/^azureml:/i.test(uri)) {
    const named = NAMED_WORKSPACE.exec(uri);
    const ws = named
      ? parseWorkspaceId(
          `/subscriptions/${named[1]}/resourceGroups/${named[2]}/providers/Microsoft.MachineLearningServices/workspaces/${named[3]}`,
        )
      : undefined;
    const registry = parseRegistryUri(uri);
    if (registry && ASSET_KINDS.has(registry.kind)) return registry;
    const resolved = ws ? resolveAssetRef(uri, ws, 'data') : {};
    if (resolved.ref && ASSET_KINDS.has(resolved.ref.kind)) return resolved.ref;
    if (resolved.location) return resolved.location;
  }
  if (STORAGE_SCHEMES.test(uri)) return storageLocation(undefined, uri);
  return { kind: 'dataset', workspace: null, key: `openlineage:${namespace}/${name}`, label: name };
}
