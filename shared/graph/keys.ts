import { sha256Hex } from '../util/canonicalJson.js';
import { NODE_KINDS, type NodeKind } from './nodeKinds.js';

/**
 * Natural keys and deterministic node ids.
 *
 * Every node is identified by a readable natural key. Workspace-scoped resources use their ARM id
 * in lower case (ARM ids compare case-insensitively, and logs upper-case them); registry assets use
 * `azureml://registries/...` so the same asset is one node whichever workspace refers to it; git
 * commits use `git:{repository}@{sha}`. The Cosmos id is the kind plus a hash of the key, because
 * Cosmos ids may not contain `/` and must stay short; the key itself is stored on the document.
 */
export { NODE_KINDS, type NodeKind };

export interface NodeRef {
  kind: NodeKind;
  /** Canonical natural key (lower-cased where the source compares case-insensitively). */
  key: string;
  /** Canonical workspace ARM id that scopes the node; null for registry assets and commits. */
  workspace: string | null;
  /** Human-readable name as first spelled by the source, e.g. `credit-model:3`. */
  label: string;
}

export interface WorkspaceId {
  subscription: string;
  resourceGroup: string;
  name: string;
  /** Canonical (lower-case) ARM id. */
  key: string;
}

const WORKSPACE_RE =
  /^\/?subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.machinelearningservices\/workspaces\/([^/]+)(\/.*)?$/i;
const REGISTRY_ARM_RE =
  /^\/?subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.machinelearningservices\/registries\/([^/]+)\/([^/]+)\/([^/]+)\/versions\/([^/]+)\/?$/i;
const REGISTRY_URI_RE = /^azureml:\/\/registries\/([^/]+)\/([^/]+)\/([^/]+)\/versions\/([^/]+)\/?$/i;

/**
 * Why an ARM id is not safe to put in a request path, or undefined when it is. Names come from
 * events anyone with a workspace can shape: a `..` segment walks out of the resource (up to role
 * assignments), `?` and `#` end the path, `%` smuggles either past a check, and `\` is a separator
 * to some servers. Every other character is encoded when the path is built.
 */
export function armIdProblem(armId: string): string | undefined {
  if (!/^\/subscriptions\//i.test(armId)) return 'it does not start with /subscriptions/';
  for (const segment of armId.slice(1).split('/')) {
    if (segment === '') return 'it has an empty path segment';
    if (segment === '.' || segment === '..') return `it has a "${segment}" path segment`;
    const bad = /[?#%\\]|\p{Cc}/u.exec(segment);
    if (bad) return `a path segment holds ${JSON.stringify(bad[0])}`;
  }
  return undefined;
}

/**
 * Ids already computed: the same workspace, models, experiments and computes recur in event after
 * event, and a SHA-256 per reference was a tenth of normalization's time. One map per kind, so a
 * lookup hashes the key the caller holds (its hash is kept on the string) instead of a new one
 * joined to the kind. All emptied when they hold ID_CACHE_SIZE ids.
 */
const ID_CACHE_SIZE = 20_000;
const idCache = new Map<NodeKind, Map<string, string>>();
let cachedIds = 0;

export function nodeId(kind: NodeKind, key: string): string {
  let byKey = idCache.get(kind);
  const cached = byKey?.get(key);
  if (cached !== undefined) return cached;
  const id = `${kind}-${sha256Hex(key).slice(0, 32)}`;
  if (cachedIds >= ID_CACHE_SIZE) {
    idCache.clear();
    cachedIds = 0;
    byKey = undefined;
  }
  if (!byKey) idCache.set(kind, (byKey = new Map<string, string>()));
  byKey.set(key, id);
  cachedIds++;
  return id;
}

/** A node's kind, from its deterministic id (`{kind}-{hash}`). */
export function kindOfId(id: string): string {
  return id.slice(0, id.lastIndexOf('-'));
}

export const NODE_ID_RE = new RegExp(`^(${NODE_KINDS.join('|')})-[0-9a-f]{32}$`);

export function workspaceKey(subscription: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscription}/resourcegroups/${resourceGroup}/providers/microsoft.machinelearningservices/workspaces/${name}`.toLowerCase();
}

export function parseWorkspaceId(text: string): WorkspaceId | undefined {
  const m = WORKSPACE_RE.exec(text.trim());
  if (!m || (m[4] !== undefined && m[4] !== '/')) return undefined;
  const [, subscription = '', resourceGroup = '', name = ''] = m;
  return { subscription, resourceGroup, name, key: workspaceKey(subscription, resourceGroup, name) };
}

/** Versioned asset collections inside a workspace and the node kind each holds. */
const VERSIONED: Record<string, NodeKind> = {
  models: 'model',
  data: 'data',
  environments: 'environment',
  codes: 'code',
  components: 'component',
};
/** Named resources inside a workspace. `services`, `datasets` are SDK v1 objects with no ARM id. */
const NAMED: Record<string, NodeKind> = {
  jobs: 'job',
  computes: 'compute',
  datastores: 'datastore',
  onlineendpoints: 'endpoint',
  batchendpoints: 'endpoint',
  services: 'service',
  datasets: 'dataset',
};
const REGISTRY_KINDS: Record<string, NodeKind> = { ...VERSIONED };

export function versionedAsset(ws: WorkspaceId | string, collection: keyof typeof VERSIONED, name: string, version: string): NodeRef {
  const wsKey = typeof ws === 'string' ? ws : ws.key;
  const kind = VERSIONED[collection];
  if (!kind) throw new Error(`unknown asset collection ${collection}`);
  return { kind, workspace: wsKey, key: `${wsKey}/${collection}/${name}/versions/${version}`.toLowerCase(), label: `${name}:${version}` };
}

export function namedResource(ws: WorkspaceId | string, collection: string, name: string): NodeRef {
  const wsKey = typeof ws === 'string' ? ws : ws.key;
  const kind = NAMED[collection.toLowerCase()];
  if (!kind) throw new Error(`unknown resource collection ${collection}`);
  return { kind, workspace: wsKey, key: `${wsKey}/${collection}/${name}`.toLowerCase(), label: name };
}

export function endpointDeployment(
  ws: WorkspaceId | string,
  collection: 'onlineEndpoints' | 'batchEndpoints',
  endpoint: string,
  deployment: string,
): NodeRef {
  const wsKey = typeof ws === 'string' ? ws : ws.key;
  return {
    kind: 'deployment',
    workspace: wsKey,
    key: `${wsKey}/${collection}/${endpoint}/deployments/${deployment}`.toLowerCase(),
    label: `${endpoint}/${deployment}`,
  };
}

export function driftSignal(ws: WorkspaceId | string, monitorId: string, runId: string): NodeRef {
  const wsKey = typeof ws === 'string' ? ws : ws.key;
  return { kind: 'drift', workspace: wsKey, key: `${wsKey}/datadrifts/${monitorId}/runs/${runId}`.toLowerCase(), label: runId };
}

export function registryAsset(registry: string, collection: string, name: string, version: string): NodeRef | undefined {
  const kind = REGISTRY_KINDS[collection.toLowerCase()];
  if (!kind) return undefined;
  return {
    kind,
    workspace: null,
    key: `azureml://registries/${registry}/${collection}/${name}/versions/${version}`.toLowerCase(),
    label: `${name}:${version}`,
  };
}

/**
 * A git commit is global: the same commit used from two workspaces is one node. Repository URLs
 * are normalised so `git@github.com:org/repo.git` and `https://github.com/org/repo` agree.
 */
export function gitCommit(repository: string, commit: string): NodeRef {
  const repo = normalizeRepositoryUrl(repository);
  const sha = commit.trim().toLowerCase();
  return { kind: 'commit', workspace: null, key: `git:${repo}@${sha}`, label: `${repo}@${sha.slice(0, 12)}` };
}

export function normalizeRepositoryUrl(url: string): string {
  let u = url.trim();
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(u); // git@host:org/repo
  if (scp) u = `${scp[1]}/${scp[2]}`;
  u = u.replace(/^[a-z+]+:\/\//i, '').replace(/^[^@/]+@/, '');
  u = u.replace(/\.git$/i, '').replace(/\/+$/, '');
  return u.toLowerCase();
}

/**
 * Parses an ARM id (leading slash optional, any casing) of an Azure ML resource into a node
 * reference: versioned assets, jobs, computes, datastores, endpoints and their deployments,
 * and registry asset versions.
 */
export function parseArmId(text: string): NodeRef | undefined {
  const trimmed = text.trim();
  const reg = REGISTRY_ARM_RE.exec(trimmed);
  if (reg) {
    const [, registry = '', collection = '', name = '', version = ''] = reg;
    return registryAsset(registry, collection, name, version);
  }
  const m = WORKSPACE_RE.exec(trimmed);
  if (!m) return undefined;
  const [, sub = '', rg = '', wsName = '', rest = ''] = m;
  const ws = workspaceKey(sub, rg, wsName);
  const parts = rest.split('/').filter((p) => p.length > 0);
  const [collection, name, sub1, sub2, sub3] = parts;
  if (!collection || !name) return undefined;
  const lower = collection.toLowerCase();
  if (lower in VERSIONED && sub1?.toLowerCase() === 'versions' && sub2 && parts.length === 4) {
    return versionedAsset(ws, lower, name, sub2);
  }
  if ((lower === 'onlineendpoints' || lower === 'batchendpoints') && sub1?.toLowerCase() === 'deployments' && sub2 && parts.length === 4) {
    return endpointDeployment(ws, lower === 'onlineendpoints' ? 'onlineEndpoints' : 'batchEndpoints', name, sub2);
  }
  if (lower === 'datadrifts' && sub1?.toLowerCase() === 'runs' && sub2 && parts.length === 4) {
    return driftSignal(ws, name, sub2);
  }
  if (lower in NAMED && parts.length === 2 && sub3 === undefined) {
    return namedResource(ws, lower, name);
  }
  return undefined;
}

/**
 * The ARM id of a registry asset version, `{registry ARM id}/{collection}/{name}/versions/{version}`,
 * from its node (keyed `azureml://registries/...` in lower case) and the registry's ARM id. Name
 * and version take the label's spelling where it agrees with the key: ARM compares names without
 * case, but the API documents versions as case-sensitive. Undefined for any other node.
 */
export function registryAssetArmId(ref: NodeRef, registryArmId: string): string | undefined {
  const m = REGISTRY_URI_RE.exec(ref.key);
  if (!m || ref.workspace !== null) return undefined;
  const [, , collection = '', keyName = '', keyVersion = ''] = m;
  const colon = ref.label.indexOf(':');
  const labelName = colon > 0 ? ref.label.slice(0, colon) : '';
  const labelVersion = colon > 0 ? ref.label.slice(colon + 1) : '';
  const spelled = labelName.toLowerCase() === keyName && labelVersion.toLowerCase() === keyVersion;
  const base = registryArmId.replace(/\/+$/, '');
  return `${base.startsWith('/') ? '' : '/'}${base}/${collection}/${spelled ? labelName : keyName}/versions/${spelled ? labelVersion : keyVersion}`;
}

/** The registry a registry asset node belongs to (its name, lower case), from its `azureml://registries/…` key. */
export function registryNameOf(ref: NodeRef): string | undefined {
  return ref.workspace === null ? REGISTRY_URI_RE.exec(ref.key)?.[1] : undefined;
}

export function parseRegistryUri(text: string): NodeRef | undefined {
  const m = REGISTRY_URI_RE.exec(text.trim());
  if (!m) return undefined;
  const [, registry = '', collection = '', name = '', version = ''] = m;
  return registryAsset(registry, collection, name, version);
}

/**
 * A storage location: a datastore path (`{datastore key}/paths/{path}`) or a storage URL. Paths are
 * case-sensitive in storage, so only the ARM part is lower-cased; query strings (SAS tokens) are
 * never part of a key. Azure Storage is one location whatever the spelling: `abfss://` and
 * `wasbs://` URIs and the blob and dfs https endpoints of a container all key as its blob URL
 * (`azureBlobUrl`), so a Spark job's output and an Azure ML data asset on the same files meet.
 */
export function storageLocation(datastore: NodeRef | undefined, pathOrUrl: string): NodeRef {
  const path = pathOrUrl.split('?')[0]?.replace(/\/+$/, '') ?? '';
  if (datastore)
    return {
      kind: 'storage',
      workspace: datastore.workspace,
      key: `${datastore.key}/paths/${path.replace(/^\/+/, '')}`,
      label: `${datastore.label}/${path.replace(/^\/+/, '')}`,
    };
  let key = azureBlobUrl(path) ?? path;
  if (key === path) {
    try {
      const url = new URL(path);
      // Other schemes: keep the user part (a bucket or container), drop any password.
      const user = url.username ? `${url.username}@` : '';
      key = `${url.protocol}//${user}${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      // Not a URL after all: the text itself, minus any query, is the best identity there is.
    }
  }
  return { kind: 'storage', workspace: null, key, label: key };
}

/**
 * An approval of a model version, one per source and occurrence: `{model key}/approvals/{source}/{id}`,
 * where the id is what makes it unique at its source (the rule, the pipeline run, the operation).
 */
export function approvalOf(model: NodeRef, source: string, id: string): NodeRef {
  return {
    kind: 'approval',
    workspace: model.workspace,
    key: `${model.key}/approvals/${source.toLowerCase()}/${id}`,
    label: `approval of ${model.label} (${source})`,
  };
}

const AZURE_STORAGE_HOST = /^([a-z0-9]{3,24})\.(?:blob|dfs)\.(core\.[a-z0-9.-]+)$/i;

/**
 * An Azure Storage container path as its blob endpoint URL,
 * `https://{account}.blob.{suffix}/{container}/{path}`, from any of the forms that name it:
 * `abfss://{container}@{account}.dfs.{suffix}/{path}` (and `abfs://`), `wasbs://` (and `wasb://`)
 * with `.blob.`, and `https://{account}.{blob|dfs}.{suffix}/{container}/{path}`. The suffix keeps
 * sovereign clouds apart (`core.windows.net`, `core.chinacloudapi.cn`, ...). Undefined for
 * anything else.
 */
export function azureBlobUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
  const host = AZURE_STORAGE_HOST.exec(url.hostname);
  if (!host) return undefined;
  const [, account = '', suffix = ''] = host;
  const scheme = url.protocol.toLowerCase();
  const segments = url.pathname.split('/').filter((s) => s.length > 0);
  let container: string | undefined;
  if (/^(abfss?|wasbs?):$/.test(scheme)) {
    container = decodeURIComponent(url.username) || undefined;
  } else if (scheme === 'https:' || scheme === 'http:') {
    container = segments.shift();
  }
  if (!container) return undefined;
  const rest = segments.join('/');
  return `https://${account.toLowerCase()}.blob.${suffix.toLowerCase()}/${container.toLowerCase()}${rest ? `/${rest}` : ''}`;
}

/** A datastore's container as the blob URL `azureBlobUrl` keys its paths under, for the kinds that name one. */
export function datastoreBlobUrl(datastore: Record<string, unknown>): string | undefined {
  const type = typeof datastore.datastoreType === 'string' ? datastore.datastoreType.toLowerCase() : '';
  const container = type === 'azureblob' ? datastore.containerName : type === 'azuredatalakegen2' ? datastore.filesystem : undefined;
  const account = datastore.accountName;
  const endpoint = typeof datastore.endpoint === 'string' && datastore.endpoint.length > 0 ? datastore.endpoint : 'core.windows.net';
  if (typeof container !== 'string' || typeof account !== 'string' || !container || !account) return undefined;
  return azureBlobUrl(`https://${account}.blob.${endpoint}/${container}`);
}

/** Kinds an `azureml:NAME:VERSION` shorthand may name. */
export const SHORTHAND_COLLECTIONS = ['models', 'data', 'environments', 'codes', 'components'] as const;
