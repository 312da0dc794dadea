import { activityLog } from './activityLog.js';
import { readRecord } from './fields.js';
import { registryAssetWrite } from './registryLogs.js';
import { invalid, type CategoryHandler, type MonitorResult } from './result.js';
import { trafficLog } from './trafficLog.js';
import {
  computeJobEvent,
  dataSetChangeEvent,
  deploymentEvent,
  environmentChangeEvent,
  modelsEvent,
  runStatusChanged,
} from './workspaceLogs.js';

export type { MonitorResult } from './result.js';

/**
 * Azure Monitor records (diagnostic-setting resource logs and the Activity Log, streamed to Event
 * Hubs) into graph deltas, enrichment messages and prediction requests: one entry per category in
 * CATEGORIES below, with its projection or the reason it is ignored.
 *
 * No Azure ML record has ever been published in its Event Hubs form (test/fixtures/README.md,
 * `azure-monitor/`): only Log Analytics columns and other services' envelopes are documented.
 * Parsing is therefore tolerant (see fields.ts), and anything not understood is `ignored` with a
 * reason, never thrown: the caller keeps every record in the raw log for a later replay.
 */

const READS_ARE_NOT_LINEAGE = 'read events are not lineage';

/** A category's projection, or why its records are not projected. */
type MonitorCategory = { category: string; project: CategoryHandler } | { category: string; ignore: string };

/** One entry per known category (compared ignoring case); other categories are ignored as unknown. */
const CATEGORIES: MonitorCategory[] = [
  { category: 'AmlRunStatusChangedEvent', project: runStatusChanged },
  { category: 'AmlComputeJobEvent', project: computeJobEvent },
  { category: 'ModelsChangeEvent', project: modelsEvent },
  { category: 'ModelsActionEvent', project: modelsEvent },
  { category: 'DataSetChangeEvent', project: dataSetChangeEvent },
  { category: 'EnvironmentChangeEvent', project: environmentChangeEvent },
  { category: 'DeploymentEventACI', project: deploymentEvent('ACI') },
  { category: 'DeploymentEventAKS', project: deploymentEvent('AKS') },
  { category: 'AmlOnlineEndpointTrafficLog', project: trafficLog },
  { category: 'RegistryAssetWriteEvent', project: registryAssetWrite },
  // The Activity Log mapping says category is always "Administrative"; the docs' own Event
  // Hubs example has "Write" (the operation's verb), so the verbs are accepted too.
  { category: 'Administrative', project: activityLog },
  { category: 'Write', project: activityLog },
  { category: 'Delete', project: activityLog },
  { category: 'Action', project: activityLog },
  { category: 'AmlComputeClusterEvent', ignore: 'cluster scaling events are not lineage' },
  { category: 'AmlComputeClusterNodeEvent', ignore: 'cluster node events are not lineage (and the table is deprecated)' },
  { category: 'AmlComputeCpuGpuUtilization', ignore: 'utilization samples are not lineage' },
  { category: 'ComputeInstanceEvent', ignore: 'compute instance access is not lineage' },
  { category: 'DataLabelChangeEvent', ignore: 'labeling projects are not part of the graph' },
  { category: 'DataStoreChangeEvent', ignore: 'datastore changes are not projected (no datastore enrichment)' },
  { category: 'InferencingOperationACI', ignore: 'per-request inference on ACI/AKS is not lineage' },
  { category: 'InferencingOperationAKS', ignore: 'per-request inference on ACI/AKS is not lineage' },
  { category: 'PipelineChangeEvent', ignore: 'pipeline drafts and endpoints are not part of the graph' },
  { category: 'RunEvent', ignore: 'run access audit; run status comes from AmlRunStatusChangedEvent' },
  { category: 'AmlOnlineEndpointConsoleLog', ignore: 'container console output is not lineage' },
  { category: 'AmlOnlineEndpointEventLog', ignore: 'inference-server container lifecycle events are not lineage' },
];

const BY_CATEGORY = new Map(CATEGORIES.map((entry) => [entry.category.toLowerCase(), entry]));

/** Metric records carry no category; they are reported under the Log Analytics table name. */
export const METRICS_CATEGORY = 'AzureMetrics';

export function normalizeMonitorRecord(record: unknown): MonitorResult {
  try {
    const read = readRecord(record);
    if (!read.ok) return { status: 'invalid', issues: read.issues };
    const r = read.record;
    if (!r.category) {
      if (r.top.has('metricname')) return { status: 'ignored', category: METRICS_CATEGORY, reason: 'metric records are not lineage' };
      return invalid('category', 'required: the log category of the record');
    }
    const known = BY_CATEGORY.get(r.category.toLowerCase());
    if (known && 'project' in known) return known.project(r, known.category);
    if (known) return { status: 'ignored', category: known.category, reason: known.ignore };
    if (/readevents?$/i.test(r.category)) return { status: 'ignored', category: r.category, reason: READS_ARE_NOT_LINEAGE };
    return { status: 'ignored', category: r.category, reason: `unknown category ${r.category}` };
  } catch (error) {
    // Last resort for inputs no test foresaw (exotic getters, proxies): a record must never
    // take its batch down with it.
    return invalid('(root)', `record could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}
