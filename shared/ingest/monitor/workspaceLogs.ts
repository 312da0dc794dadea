import { namedResource, versionedAsset } from '../../graph/keys.js';
import { emptyDelta } from '../../graph/model.js';
import { isTerminalRunStatus, normalizeRunStatus, parentRunId } from '../payload.js';
import { compact, outcomeOf, text, unmappedProperties, verbOf, type MonitorRecord } from './fields.js';
import { ignored, invalid, isResult, projected, recordWorkspace, type CategoryHandler, type MonitorResult } from './result.js';

/**
 * Azure ML workspace resource-log categories that say something about lineage. Field names are
 * the documented Log Analytics columns; the Event Hubs keys are undocumented (see fields.ts).
 */

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Reads, failed and unfinished operations in the audit categories say nothing new about a resource. */
function notAChange(r: MonitorRecord, category: string): MonitorResult | undefined {
  if (verbOf(r.operationName) === 'read') return ignored(category, `read operation ${r.operationName}: reads are not lineage`);
  const outcome = outcomeOf(r);
  // Audit records often carry no result at all on the wire (undocumented); those are kept,
  // because enrichment is idempotent and a missed write is worse than a repeated GET.
  if (outcome === 'failed' || outcome === 'pending') {
    return ignored(category, `operation not completed (resultType ${r.resultType ?? '-'}, resultSignature ${r.resultSignature ?? '-'})`);
  }
  return undefined;
}

const isDelete = (r: MonitorRecord) => verbOf(r.operationName) === 'delete';

export const runStatusChanged: CategoryHandler = (r, category) => {
  const at = recordWorkspace(r);
  if (isResult(at)) return at;
  const runId = text(r, 'RunId');
  if (!runId) return invalid('properties.RunId', 'required: the run whose status changed');
  const rawStatus = text(r, 'Status', 'RunStatus');
  if (!rawStatus) return invalid('properties.Status', 'required: the new run status');
  const status = normalizeRunStatus(rawStatus);
  const rootRunId = text(r, 'RootRunId');

  const delta = emptyDelta();
  const job = namedResource(at.ws, 'jobs', runId);
  delta.nodes.push({
    ref: job,
    facts: compact({
      runId,
      status,
      statusMessage: text(r, 'Message'),
      rootRunId: rootRunId && !same(rootRunId, runId) ? rootRunId : undefined,
    }),
    series: { status },
  });
  // Root runs may log their own id (or nothing) as parent; AutoML/HyperDrive children are also
  // recognisable by name, as for Event Grid.
  const parent = text(r, 'ParentRunId') ?? parentRunId(runId);
  if (parent && !same(parent, runId)) {
    const parentJob = namedResource(at.ws, 'jobs', parent);
    delta.references.push(parentJob);
    delta.edges.push({ kind: 'parentOf', from: parentJob, to: job });
  }
  const enrich = isTerminalRunStatus(status) ? [{ kind: 'job' as const, armId: `${at.ws.key}/jobs/${runId}` }] : [];
  return projected(category, r, at.ws.key, { delta, enrich });
};

const COMPUTE_JOB_MAPPED = ['JobName', 'RunId', 'JobId', 'EventType', 'ExecutionState', 'ClusterName', 'ExperimentName', 'ExperimentId'];

export const computeJobEvent: CategoryHandler = (r, category) => {
  const at = recordWorkspace(r);
  if (isResult(at)) return at;
  // JobName holds the run id (docs query: `automl_<guid>_setup`); JobId is the compute's own id.
  const jobName = text(r, 'JobName', 'RunId');
  if (!jobName) return invalid('properties.JobName', 'required: the job (run id) the event is about');
  // The docs' queries filter `OperationName == "JobSubmitted"`: the event type may sit there instead.
  const eventType = text(r, 'EventType') ?? (r.operationName && !r.operationName.includes('/') ? r.operationName : undefined);
  const clusterName = text(r, 'ClusterName');

  const delta = emptyDelta();
  const job = namedResource(at.ws, 'jobs', jobName);
  delta.nodes.push({
    ref: job,
    facts: compact({
      runId: jobName,
      computeJobEventType: eventType,
      executionState: text(r, 'ExecutionState'),
      clusterName,
      experimentName: text(r, 'ExperimentName'),
      experimentId: text(r, 'ExperimentId'),
      computeJobId: text(r, 'JobId'),
      computeJobDetails: unmappedProperties(r, COMPUTE_JOB_MAPPED),
    }),
    ...(eventType ? { series: { computeJobEventType: eventType } } : {}),
  });
  if (clusterName) {
    const compute = namedResource(at.ws, 'computes', clusterName);
    delta.references.push(compute);
    delta.edges.push({ kind: 'computeOf', from: compute, to: job });
  }
  return projected(category, r, at.ws.key, { delta });
};

/** AmlModelsEvent names the model but never its version, so only the container can be enriched. */
export const modelsEvent: CategoryHandler = (r, category) => {
  const skip = notAChange(r, category);
  if (skip) return skip;
  const at = recordWorkspace(r);
  if (isResult(at)) return at;
  const name = text(r, 'AmlModelName', 'ModelName');
  if (!name) return invalid('properties.AmlModelName', 'required: the model the operation changed');
  return projected(category, r, at.ws.key, { enrich: [{ kind: 'modelContainer', armId: `${at.ws.key}/models/${name}` }] });
};

/**
 * AmlDataSetEvent is about SDK v1 datasets: an id (GUID) and a name, no version and no ARM id.
 * The change is recorded on a `dataset` node keyed like the Event Grid drift events key their
 * datasets (by id; by name only when the id is missing), so both meet. Only if a version is
 * present (not a documented column) can the v2 data asset it is exposed as be enriched.
 */
export const dataSetChangeEvent: CategoryHandler = (r, category) => {
  const skip = notAChange(r, category);
  if (skip) return skip;
  const at = recordWorkspace(r);
  if (isResult(at)) return at;
  const datasetId = text(r, 'AmlDatasetId', 'DatasetId');
  const name = text(r, 'AmlDatasetName', 'DatasetName');
  const idOrName = datasetId ?? name;
  if (!idOrName) return invalid('properties.AmlDatasetId', 'required: AmlDatasetId or AmlDatasetName');
  const version = text(r, 'AmlDatasetVersion', 'DatasetVersion');

  const delta = emptyDelta();
  const deleted = isDelete(r);
  delta.nodes.push({
    ref: namedResource(at.ws, 'datasets', idOrName),
    facts: compact({ datasetId, name, lastChangedAt: r.time, deletedAt: deleted ? r.time : undefined }),
  });
  const enrich = name && version && !deleted ? [{ kind: 'data' as const, armId: `${at.ws.key}/data/${name}/versions/${version}` }] : [];
  return projected(category, r, at.ws.key, { delta, enrich });
};

export const environmentChangeEvent: CategoryHandler = (r, category) => {
  const skip = notAChange(r, category);
  if (skip) return skip;
  const at = recordWorkspace(r);
  if (isResult(at)) return at;
  const name = text(r, 'AmlEnvironmentName', 'EnvironmentName');
  if (!name) return invalid('properties.AmlEnvironmentName', 'required: the environment the operation changed');
  const version = text(r, 'AmlEnvironmentVersion', 'EnvironmentVersion');
  if (!version) return ignored(category, `environment ${name} without a version: there is no resource to enrich`);
  if (isDelete(r)) {
    const delta = emptyDelta();
    delta.nodes.push({ ref: versionedAsset(at.ws, 'environments', name, version), facts: { deletedAt: r.time } });
    return projected(category, r, at.ws.key, { delta });
  }
  return projected(category, r, at.ws.key, {
    enrich: [{ kind: 'environment', armId: `${at.ws.key}/environments/${name}/versions/${version}` }],
  });
};

/** ACI/AKS web services (SDK v1): no ARM id to enrich, so the operation is kept on the `service` node. */
export function deploymentEvent(computeType: 'ACI' | 'AKS'): CategoryHandler {
  return (r, category) => {
    if (verbOf(r.operationName) === 'read') return ignored(category, `read operation ${r.operationName}: reads are not lineage`);
    const at = recordWorkspace(r);
    if (isResult(at)) return at;
    const name = text(r, 'AmlServiceName', 'ServiceName');
    if (!name) return invalid('properties.AmlServiceName', 'required: the service that was deployed');
    const outcome = outcomeOf(r);
    const delta = emptyDelta();
    delta.nodes.push({
      ref: namedResource(at.ws, 'services', name),
      facts: compact({
        name,
        computeType,
        lastDeploymentOperation: compact({
          operationName: r.operationName,
          resultType: r.resultType,
          resultSignature: r.resultSignature,
          durationMs: r.durationMs,
        }),
        deploymentDetails: unmappedProperties(r, ['AmlServiceName', 'ServiceName']),
        deletedAt: isDelete(r) && outcome !== 'failed' && outcome !== 'pending' ? r.time : undefined,
      }),
    });
    return projected(category, r, at.ws.key, { delta });
  };
}
