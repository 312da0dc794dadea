import { registryAsset } from '../../graph/keys.js';
import { registryDirectory, registryFollowUps } from '../followUps.js';
import { emptyDelta } from '../../graph/model.js';
import { registryOf } from '../payload.js';
import { compact, outcomeOf, text, verbOf, type MonitorRecord } from './fields.js';
import { ignored, invalid, projected, type CategoryHandler } from './result.js';

const COLLECTIONS: Record<string, string> = {
  model: 'models',
  models: 'models',
  data: 'data',
  environment: 'environments',
  environments: 'environments',
  code: 'codes',
  codes: 'codes',
  component: 'components',
  components: 'components',
};

/**
 * Which kind of asset a registry write is about. The documented columns (AssetName,
 * AssetVersion, RegistryResourceId, Labels) do not say; an `AssetType` field or an ARM-style
 * operation name such as `.../registries/models/versions/write` would, but neither is documented.
 * Without one the record is ignored rather than guessed: a model and an environment may share a
 * name and version.
 */
function assetCollection(r: MonitorRecord): string | undefined {
  const candidates = [text(r, 'AssetType'), ...(r.operationName?.split('/') ?? [])];
  for (const c of candidates) {
    const collection = c && COLLECTIONS[c.trim().toLowerCase()];
    if (collection) return collection;
  }
  return undefined;
}

/** Registry assets are global (`azureml://registries/...`); the result's `workspace` is the registry's ARM id. */
export const registryAssetWrite: CategoryHandler = (r, category) => {
  const outcome = outcomeOf(r);
  if (verbOf(r.operationName) === 'read' || outcome === 'failed' || outcome === 'pending') {
    return ignored(category, `not a completed write (${r.operationName ?? 'no operationName'}, resultType ${r.resultType ?? '-'})`);
  }
  const collection = assetCollection(r);
  if (!collection)
    return ignored(
      category,
      'asset type unknown: the registry write log names an asset and version but not whether it is a model, data, environment, code or component',
    );
  const registryId = text(r, 'RegistryResourceId') ?? r.resourceId;
  const registry = registryId ? registryOf(registryId) : undefined;
  if (!registry)
    return invalid(
      'properties.RegistryResourceId',
      'expected the ARM id of an Azure ML registry (/subscriptions/…/providers/Microsoft.MachineLearningServices/registries/…)',
    );
  const name = text(r, 'AssetName');
  if (!name) return invalid('properties.AssetName', 'required: the asset that was written');
  const version = text(r, 'AssetVersion');
  if (!version) return invalid('properties.AssetVersion', 'required: registry assets are versioned');
  const ref = registryAsset(registry.name, collection, name, version);
  if (!ref) return ignored(category, `registry collection ${collection} has no node kind`);
  const delta = emptyDelta();
  delta.nodes.push({ ref, facts: compact({ name, version, registry: registry.name, labels: text(r, 'Labels') }) });
  // The record names the registry by its ARM id: the asset can be read there whatever AML_REGISTRIES lists.
  const enrich = registryId ? registryFollowUps({ references: [ref], edges: [] }, registryDirectory([registryId.trim()])) : [];
  return projected(category, r, registry.key, { delta, enrich });
};
