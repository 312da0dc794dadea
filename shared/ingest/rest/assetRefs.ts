import {
  namedResource,
  parseArmId,
  parseRegistryUri,
  parseWorkspaceId,
  storageLocation,
  versionedAsset,
  type NodeRef,
  type WorkspaceId,
} from '../../graph/keys.js';

/**
 * The many ways Azure ML names an asset (test/fixtures/README.md, `azureml-rest/`), resolved to one
 * node identity. `collection` says what a bare `azureml:NAME:VERSION` names (the job input type
 * tells: `uri_folder` is data, `mlflow_model` is a model).
 */
export type AssetCollection = 'models' | 'data' | 'environments' | 'codes' | 'components';

export interface ResolvedAsset {
  /** The node the reference names, when it names one we model. */
  ref?: NodeRef;
  /** For job-output URIs: the job whose output it is. */
  producedBy?: NodeRef;
  /** For datastore URIs: the datastore, and the path inside it. */
  datastore?: NodeRef;
  path?: string;
  /** For datastore paths and storage URLs: the location as a node, linking writers to readers. */
  location?: NodeRef;
}

const STORAGE_URL_RE = /^(https|abfss|wasbs|adl|abfs|wasb):\/\/[^/]+\/./i;

function withLocation(r: ResolvedAsset): ResolvedAsset {
  return r.datastore && r.path !== undefined ? { ...r, location: storageLocation(r.datastore, r.path) } : r;
}

const JOB_OUTPUT_RE = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/(.*))?$/i;
const MLFLOW_RUN_RE = /^runs:\/([^/]+)\/(.*)$/i;
const SHORT_DATASTORE_RE = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.*)$/i;
const DEFAULT_OUTPUT_RE = /^azureml:\/\/datastores\/([^/]+)\/(ExperimentRun\/dcid\.([^/]+).*)$/i;
const LONG_DATASTORE_RE =
  /^azureml:\/\/subscriptions\/([^/]+)\/resource[gG]roups\/([^/]+)\/(?:providers\/Microsoft\.MachineLearningServices\/)?workspaces\/([^/]+)\/datastores\/([^/]+)\/paths\/(.*)$/i;
const LOCATION_ASSET_RE = /^azureml:\/\/locations\/[^/]+\/workspaces\/([^/]+)\/([^/]+)\/([^/]+)\/versions\/([^/]+)$/i;
const SHORT_ASSET_RE = /^azureml:\/\/(models|data)\/([^/]+)\/versions\/([^/]+)$/i;
const SHORTHAND_RE = /^azureml:([^/:@]+):(.+)$/i;

export const MODEL_INPUT_TYPES = new Set(['custom_model', 'mlflow_model', 'triton_model']);

export function collectionForInputType(type: string | undefined): AssetCollection {
  return type && MODEL_INPUT_TYPES.has(type.toLowerCase()) ? 'models' : 'data';
}

/**
 * @param workspaceGuid the workspace's `properties.workspaceId`, when known: `azureml://locations/…`
 * ids name the workspace by this GUID, not by name, and resolve only when it matches.
 */
export function resolveAssetRef(
  text: string | null | undefined,
  ws: WorkspaceId,
  collection: AssetCollection,
  workspaceGuid?: string,
): ResolvedAsset {
  if (!text) return {};
  const t = text.trim();
  let m: RegExpExecArray | null;

  const registry = parseRegistryUri(t);
  if (registry) return { ref: registry };

  const armText = /^azureml:\/[^/]/i.test(t) ? t.slice('azureml:'.length) : t;
  if (/^\/?subscriptions\//i.test(armText)) {
    const datastorePath = /^(.*\/datastores\/[^/]+)\/paths\/(.*)$/i.exec(armText); // form N
    if (datastorePath) {
      const ds = parseArmId(datastorePath[1] as string);
      return ds ? withLocation({ datastore: ds, path: datastorePath[2] }) : {};
    }
    const ref = parseArmId(armText);
    return ref ? { ref } : {};
  }

  if ((m = JOB_OUTPUT_RE.exec(t))) return { producedBy: namedResource(ws, 'jobs', m[1] as string), path: m[3] };
  if ((m = MLFLOW_RUN_RE.exec(t))) return { producedBy: namedResource(ws, 'jobs', m[1] as string), path: m[2] };
  if ((m = DEFAULT_OUTPUT_RE.exec(t)))
    return {
      producedBy: namedResource(ws, 'jobs', m[3] as string),
      datastore: namedResource(ws, 'datastores', m[1] as string),
      path: m[2],
    };
  if ((m = SHORT_DATASTORE_RE.exec(t))) return withLocation({ datastore: namedResource(ws, 'datastores', m[1] as string), path: m[2] });
  if ((m = LONG_DATASTORE_RE.exec(t))) {
    const other = parseWorkspaceId(
      `/subscriptions/${m[1]}/resourceGroups/${m[2]}/providers/Microsoft.MachineLearningServices/workspaces/${m[3]}`,
    );
    return other ? withLocation({ datastore: namedResource(other, 'datastores', m[4] as string), path: m[5] }) : {};
  }
  if ((m = LOCATION_ASSET_RE.exec(t))) {
    const [, guid = '', type = '', name = '', version = ''] = m;
    if (!workspaceGuid || guid.toLowerCase() !== workspaceGuid.toLowerCase()) return {};
    return isCollection(type) ? { ref: versionedAsset(ws, type.toLowerCase(), name, version) } : {};
  }
  if ((m = SHORT_ASSET_RE.exec(t))) return { ref: versionedAsset(ws, (m[1] as string).toLowerCase(), m[2] as string, m[3] as string) };
  if ((m = SHORTHAND_RE.exec(t))) {
    // `azureml:name@latest` names no fixed version and resolves to nothing stable.
    return { ref: versionedAsset(ws, collection, m[1] as string, m[2] as string) };
  }
  if (STORAGE_URL_RE.test(t)) return { location: storageLocation(undefined, t) };
  return {};
}

function isCollection(type: string): boolean {
  return ['models', 'data', 'environments', 'codes', 'components'].includes(type.toLowerCase());
}
