import { DomainError } from '../errors.js';
import {
  NODE_ID_RE,
  SHORTHAND_COLLECTIONS,
  azureBlobUrl,
  nodeId,
  parseArmId,
  parseRegistryUri,
  parseWorkspaceId,
  versionedAsset,
} from './keys.js';

export const ACCEPTED_REF_FORMS = [
  'NAME:VERSION or azureml:NAME:VERSION (workspace: its ARM id or short name; without it, every workspace you may see)',
  'the ARM id of a job, model version, data version, environment version, code version, compute, online endpoint or deployment (/subscriptions/…/workspaces/WS/models/NAME/versions/V)',
  'azureml:/subscriptions/… (ARM id with the azureml: prefix)',
  'azureml://registries/REGISTRY/models|data|environments|codes|components/NAME/versions/V',
  'an Azure Storage URL of a storage location (abfss://, wasbs://, https://ACCOUNT.blob|dfs.core.windows.net/…)',
  'a node id returned by this API (e.g. model-0123456789abcdef0123456789abcdef)',
];

/**
 * Resolves a user-supplied reference to candidate node ids. Several candidates come back only for
 * the `azureml:NAME:VERSION` shorthand, which does not say whether it names a model, data,
 * environment, code or component.
 */
export function resolveRef(ref: string, workspace?: string): string[] {
  const text = ref.trim();
  if (text.length === 0 || text.length > 2048) throw invalid(ref);
  if (NODE_ID_RE.test(text)) return [text];

  // Storage by any of its spellings: how Spark and other OpenLineage producers name their datasets.
  const blob = azureBlobUrl(text);
  if (blob) return [nodeId('storage', blob)];

  const registry = parseRegistryUri(text);
  if (registry) return [nodeId(registry.kind, registry.key)];

  const armText =
    text.toLowerCase().startsWith('azureml:/') && !text.toLowerCase().startsWith('azureml://') ? text.slice('azureml:'.length) : text;
  if (/^\/?subscriptions\//i.test(armText)) {
    const parsed = parseArmId(armText);
    if (!parsed) throw invalid(ref);
    return [nodeId(parsed.kind, parsed.key)];
  }

  const shorthand = /^azureml:([^:/@]+):(.+)$/i.exec(text);
  if (shorthand) {
    const [, name = '', version = ''] = shorthand;
    if (!workspace) {
      throw new DomainError('invalid-ref', 'azureml:NAME:VERSION needs the workspace parameter (the workspace ARM id).', {
        acceptedForms: ACCEPTED_REF_FORMS,
      });
    }
    const ws = parseWorkspaceId(workspace);
    if (!ws)
      throw new DomainError(
        'invalid-request',
        'workspace must be the ARM id of an Azure ML workspace (/subscriptions/…/resourceGroups/…/providers/Microsoft.MachineLearningServices/workspaces/…).',
      );
    return SHORTHAND_COLLECTIONS.map((c) => {
      const r = versionedAsset(ws, c, name, version);
      return nodeId(r.kind, r.key);
    });
  }
  throw invalid(ref);
}

function invalid(ref: string): DomainError {
  const shown = ref.length > 200 ? `${ref.slice(0, 200)}…` : ref;
  return new DomainError(
    'invalid-ref',
    `"${shown}" is not a reference this API accepts. Accepted forms: ${ACCEPTED_REF_FORMS.join('; ')}.`,
    {
      acceptedForms: ACCEPTED_REF_FORMS,
    },
  );
}
