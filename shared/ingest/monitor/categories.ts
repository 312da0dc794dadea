import { isRecord } from '../../util/isRecord.js';
import { getIgnoringCase } from '../payload.js';
import type { ValidationIssue } from '../issues.js';
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
 * Hubs) into graph deltas, enrichment messages and prediction requests.
 *
 * No Azure ML record has ever been published in its Event Hubs form (test/fixtures/README.md,
 * `azure-monitor/`): only Log Analytics columns and other services' envelopes are documented. Parsing is
 * therefore tolerant (see monitor/fields.ts), and anything not understood is `ignored` with a
 * reason, never thrown: the caller keeps every record in the raw log for a later replay.
 */

/** Where a message came from on Event Hubs, kept with its raw records. */
export interface MonitorDelivery {
  partitionId?: string;
  sequenceNumber?: string | number;
  offset?: string;
  enqueuedTime?: string;
}

export type SplitResult = { ok: true; records: unknown[] } | { ok: false; issues: ValidationIssue[] };

const ENVELOPE = 'expected an Azure Monitor message: {"records":[...]} or an array of such objects';

function decode(body: Uint8Array | ArrayBuffer): { ok: true; text: string } | { ok: false; issues: ValidationIssue[] } {
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(body) };
  } catch {
    return { ok: false, issues: [{ path: '(root)', message: 'body bytes are not valid UTF-8' }] };
  }
}

function recordsOf(value: unknown, path: string): { ok: true; records: unknown[] } | { ok: false; issues: ValidationIssue[] } {
  if (!isRecord(value)) return { ok: false, issues: [{ path: path || '(root)', message: ENVELOPE }] };
  const records = getIgnoringCase(value, 'records');
  if (records === undefined) return { ok: false, issues: [{ path: path || '(root)', message: ENVELOPE }] };
  if (!Array.isArray(records))
    return { ok: false, issues: [{ path: path ? `${path}.records` : 'records', message: 'expected an array of records' }] };
  return { ok: true, records };
}

/**
 * One Event Hubs message body from Azure Monitor diagnostic settings or the Activity Log.
 * Accepts `{"records":[...]}`, the outer-array variant of stream-monitoring-data-event-hubs.md
 * (`[{"records":[...], "EventProcessedUtcTime":…, "PartitionId":…}]`), either as JSON text, or as
 * UTF-8 bytes (the Functions host hands Event Hubs bodies over as a Buffer unless told otherwise).
 * Records are returned as they are, valid or not: the caller normalizes and isolates each one.
 */
export function splitMonitorMessage(body: unknown): SplitResult {
  let value = body;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
    const decoded = decode(value);
    if (!decoded.ok) return decoded;
    value = decoded.text;
  }
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value.replace(/^\uFEFF/, ''));
    } catch (error) {
      return {
        ok: false,
        issues: [{ path: '(root)', message: `body is not JSON: ${error instanceof Error ? error.message : String(error)}` }],
      };
    }
  }
  if (!Array.isArray(value)) return recordsOf(value, '');
  const records: unknown[] = [];
  const issues: ValidationIssue[] = [];
  value.forEach((item, index) => {
    const part = recordsOf(item, String(index));
    if (part.ok) records.push(...part.records);
    else issues.push(...part.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, records };
}

const READS_ARE_NOT_LINEAGE = 'read events are not lineage';

/** Categories with a handler, or a reason they are ignored; keys are compared ignoring case. */
const CATEGORIES = new Map<string, { name: string; handle: CategoryHandler } | { name: string; reason: string }>(
  (
    [
      ['AmlRunStatusChangedEvent', runStatusChanged],
      ['AmlComputeJobEvent', computeJobEvent],
      ['ModelsChangeEvent', modelsEvent],
      ['ModelsActionEvent', modelsEvent],
      ['DataSetChangeEvent', dataSetChangeEvent],
      ['EnvironmentChangeEvent', environmentChangeEvent],
      ['DeploymentEventACI', deploymentEvent('ACI')],
      ['DeploymentEventAKS', deploymentEvent('AKS')],
      ['AmlOnlineEndpointTrafficLog', trafficLog],
      ['RegistryAssetWriteEvent', registryAssetWrite],
      // The Activity Log mapping says category is always "Administrative"; the docs' own Event
      // Hubs example has "Write" (the operation's verb), so the verbs are accepted too.
      ['Administrative', activityLog],
      ['Write', activityLog],
      ['Delete', activityLog],
      ['Action', activityLog],
      ['AmlComputeClusterEvent', 'cluster scaling events are not lineage'],
      ['AmlComputeClusterNodeEvent', 'cluster node events are not lineage (and the table is deprecated)'],
      ['AmlComputeCpuGpuUtilization', 'utilization samples are not lineage'],
      ['ComputeInstanceEvent', 'compute instance access is not lineage'],
      ['DataLabelChangeEvent', 'labeling projects are not part of the graph'],
      ['DataStoreChangeEvent', 'datastore changes are not projected (no datastore enrichment)'],
      ['InferencingOperationACI', 'per-request inference on ACI/AKS is not lineage'],
      ['InferencingOperationAKS', 'per-request inference on ACI/AKS is not lineage'],
      ['PipelineChangeEvent', 'pipeline drafts and endpoints are not part of the graph'],
      ['RunEvent', 'run access audit; run status comes from AmlRunStatusChangedEvent'],
      ['AmlOnlineEndpointConsoleLog', 'container console output is not lineage'],
      ['AmlOnlineEndpointEventLog', 'inference-server container lifecycle events are not lineage'],
    ] as Array<[string, CategoryHandler | string]>
  ).map(([name, h]) => [name.toLowerCase(), typeof h === 'string' ? { name, reason: h } : { name, handle: h }]),
);

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
    const known = CATEGORIES.get(r.category.toLowerCase());
    if (known && 'handle' in known) return known.handle(r, known.name);
    if (known) return { status: 'ignored', category: known.name, reason: known.reason };
    if (/readevents?$/i.test(r.category)) return { status: 'ignored', category: r.category, reason: READS_ARE_NOT_LINEAGE };
    return { status: 'ignored', category: r.category, reason: `unknown category ${r.category}` };
  } catch (error) {
    // Last resort for inputs no test foresaw (exotic getters, proxies): a record must never
    // take its batch down with it.
    return invalid('(root)', `record could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}
