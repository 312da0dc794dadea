import type { EnrichmentKind } from '../enrichmentMessage.js';
import { armIdProblem, parseArmId } from '../../graph/keys.js';
import { emptyDelta } from '../../graph/model.js';
import { approvalDelta } from '../approvals.js';
import { registryOf } from '../payload.js';
import { topText } from './fields.js';
import { ignored, invalid, isResult, projected, recordWorkspace, type CategoryHandler } from './result.js';

/**
 * Azure ML resource types (operation name between the provider and the verb, lower-cased) whose
 * Activity Log writes and deletes matter for lineage, with the enrichment a write asks for. The
 * RBAC list spells `onlineEndpoints` and `onlineendpoints` both ways, so matching ignores case.
 * `null`: no enrichment exists, but a delete is still recorded on the node.
 */
const LINEAGE_TYPES: Record<string, EnrichmentKind | null> = {
  'workspaces/jobs': 'job',
  'workspaces/models': 'modelContainer',
  'workspaces/models/versions': 'model',
  'workspaces/data/versions': 'data',
  'workspaces/environments/versions': 'environment',
  'workspaces/codes/versions': 'code',
  'workspaces/components/versions': null,
  'workspaces/onlineendpoints': 'endpoint',
  'workspaces/onlineendpoints/deployments': 'deployment',
  'workspaces/batchendpoints': 'endpoint',
  'workspaces/batchendpoints/deployments': 'deployment',
  'workspaces/computes': 'compute',
  'workspaces/datastores': null,
};

/**
 * ARM control-plane records, in the Event Hubs form (`resultType`) or the REST form (`status`,
 * `{value}` wrappers). Each write/delete produces a Started (or Accepted) record and a Succeeded
 * or Failed one sharing a correlationId; only success says the resource changed. A write asks
 * for enrichment of the resource; a delete marks the node `deletedAt`, never removes it.
 */
export const activityLog: CategoryHandler = (r, category) => {
  const op = r.operationName;
  if (!op) return invalid('operationName', 'required: the ARM operation, e.g. Microsoft.MachineLearningServices/workspaces/jobs/write');
  const parts = op
    .toLowerCase()
    .split('/')
    .filter((p) => p.length > 0);
  if (parts[0] !== 'microsoft.machinelearningservices')
    return ignored(category, `Activity Log operation ${op} is not on an Azure ML resource`);
  const result = r.resultType ?? topText(r.top, 'status');
  if (!result || !/^succe(ss|eded)$/i.test(result))
    return ignored(category, `${op} ${result ?? 'without a result'}: only succeeded operations are projected`);
  const verb = parts[parts.length - 1];
  const type = parts.slice(1, -1).join('/');
  if (type === 'registries/models/versions' && verb === 'write') return sharedToRegistry(r, category);
  if ((verb !== 'write' && verb !== 'delete') || !Object.hasOwn(LINEAGE_TYPES, type))
    return ignored(category, `operation ${op} is not projected`);

  const at = recordWorkspace(r);
  if (isResult(at)) return at;
  const idType = ['workspaces', ...at.rest.filter((_, i) => i % 2 === 0)].join('/').toLowerCase();
  if (at.rest.length % 2 !== 0 || idType !== type || !r.resourceId) {
    return invalid('resourceId', `expected the ARM id of a ${type} resource, as ${op} names`);
  }
  if (verb === 'write') {
    const kind = LINEAGE_TYPES[type];
    if (!kind) return ignored(category, `no enrichment exists for ${type}`);
    return projected(category, r, at.ws.key, { enrich: [{ kind, armId: r.resourceId }] });
  }
  const ref = parseArmId(r.resourceId);
  if (!ref) return ignored(category, `a deleted ${type} has no node in the graph`);
  const delta = emptyDelta();
  delta.nodes.push({ ref, facts: { deletedAt: r.time } });
  return projected(category, r, at.ws.key, { delta });
};

/**
 * A model version written into a registry (shared or promoted from a workspace): the write is an
 * approval of the registry version, by the caller, at the record's time, traceable by its
 * correlation id; and the version is read from the registry, where it names what it was copied from.
 */
const sharedToRegistry: CategoryHandler = (r, category) => {
  const model = r.resourceId ? parseArmId(r.resourceId) : undefined;
  const registry = r.resourceId ? registryOf(r.resourceId.replace(/\/models\/.*$/i, '')) : undefined;
  if (model?.kind !== 'model' || !registry || !r.resourceId)
    return invalid('resourceId', 'expected the ARM id of a registry model version (…/registries/R/models/M/versions/V)');
  const correlationId = topText(r.top, 'correlationId');
  const by = topText(r.top, 'caller');
  const delta = approvalDelta(model, correlationId ?? r.time, {
    decision: 'approved',
    ...(by ? { by } : {}),
    at: r.time,
    ...(correlationId ? { ticket: `correlation ${correlationId}` } : {}),
    source: 'activity-log',
  });
  const enrich = armIdProblem(r.resourceId) ? [] : [{ kind: 'model' as const, armId: r.resourceId }];
  return projected(category, r, registry.key, { delta, enrich });
};
