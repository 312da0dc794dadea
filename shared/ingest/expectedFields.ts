import { isRecord } from '../util/isRecord.js';
import { azureMlEventType } from './eventGrid/azureMlEvents.js';
import { cloudEventSchema, detectSchema, eventGridSchema } from './eventGrid/envelope.js';
import { readRecord, normalizeKey } from './monitor/fields.js';
import { restObservationSchema } from './rest/observation.js';

/**
 * Which fields of a received event we did not expect (schema drift, metric M10): the field paths,
 * never the values. What is expected comes from the ingest schemas where they declare it (the
 * Event Grid envelopes and each Azure ML event type's `data`); the Azure Monitor common schema and
 * the REST resources are read without a closed schema, so their expected fields are listed here.
 *
 * Computed when the compliance run re-reads the raw log, never on the capture path.
 */
export type SourceKind = 'event-type' | 'category' | 'resource-kind';

export interface FieldCheck {
  /** The event type, Monitor category or REST resource kind, as the normalizer names it. */
  source: string;
  sourceKind: SourceKind;
  /** Paths of the fields we did not expect, sorted (`data.NewField`, `resource.properties.newSetting`). */
  unexpected: string[];
}

/** CloudEvents 1.0 context attributes besides those the envelope schema reads. */
const CLOUDEVENTS_EXTRA = ['datacontenttype', 'dataschema', 'data_base64'];
const EVENTGRID_ENVELOPE = new Set(Object.keys(eventGridSchema.shape).map((k) => k.toLowerCase()));
const CLOUDEVENTS_ENVELOPE = new Set([...Object.keys(cloudEventSchema.shape), ...CLOUDEVENTS_EXTRA].map((k) => k.toLowerCase()));

/**
 * Top-level fields of an Azure Monitor record in any documented form: the resource-log common
 * schema, the Activity Log's Event Hubs and REST forms, and the Log Analytics column names the
 * readers accept (`TimeGenerated`, `_ResourceId`). Compared ignoring case, `_` and `-`.
 */
const MONITOR_TOP = new Set(
  [
    'time',
    'resourceId',
    'tenantId',
    'operationName',
    'operationVersion',
    'category',
    'type',
    'resultType',
    'resultSignature',
    'resultDescription',
    'durationMs',
    'callerIpAddress',
    'correlationId',
    'identity',
    'level',
    'location',
    'properties',
    'caller',
    'authorization',
    'channels',
    'claims',
    'description',
    'eventDataId',
    'eventName',
    'eventTimestamp',
    'httpRequest',
    'id',
    'operationId',
    'resourceGroupName',
    'resourceProviderName',
    'resourceType',
    'status',
    'subStatus',
    'submissionTimestamp',
    'subscriptionId',
    'TimeGenerated',
    '_ResourceId',
  ].map(normalizeKey),
);

/** Fields of every ARM resource envelope. */
const REST_ENVELOPE = new Set(['id', 'name', 'type', 'properties', 'systemData', 'location', 'tags', 'identity', 'kind', 'sku']);
const COMMON_ASSET = ['description', 'tags', 'properties', 'isArchived', 'isAnonymous', 'provisioningState', 'autoDeleteSetting', 'stage'];

/**
 * `properties` fields of each REST resource kind: what the projections read (rest/resourceKinds.ts)
 * and the documented fields they deliberately leave aside. Kinds not listed (MLflow answers) have
 * no closed list and are not checked.
 */
const REST_PROPERTIES: Partial<Record<string, readonly string[]>> = {
  job: [
    ...COMMON_ASSET,
    'jobType',
    'displayName',
    'status',
    'experimentName',
    'inputs',
    'outputs',
    'trial',
    'taskDetails',
    'codeId',
    'environmentId',
    'computeId',
    'command',
    'objective',
    'searchSpace',
    'services',
    'componentId',
    'identity',
    'notificationSetting',
    'environmentVariables',
    'distribution',
    'resources',
    'limits',
    'queueSettings',
    'settings',
    'jobs',
    'samplingAlgorithm',
    'earlyTermination',
    'parentJobName',
    'parameters',
  ],
  model: [...COMMON_ASSET, 'modelType', 'modelUri', 'flavors', 'jobName', 'intellectualProperty'],
  data: [...COMMON_ASSET, 'dataType', 'dataUri', 'referencedUris', 'intellectualProperty'],
  environment: [
    ...COMMON_ASSET,
    'image',
    'environmentType',
    'osType',
    'build',
    'condaFile',
    'inferenceConfig',
    'intellectualProperty',
    'autoRebuild',
  ],
  code: [...COMMON_ASSET, 'codeUri'],
  // `componentSpec` is open-ended (the component's YAML as JSON): its inside is not checked.
  component: [...COMMON_ASSET, 'componentSpec'],
  endpoint: [
    'description',
    'properties',
    'scoringUri',
    'swaggerUri',
    'authMode',
    'provisioningState',
    'traffic',
    'mirrorTraffic',
    'publicNetworkAccess',
    'compute',
    // Batch endpoints
    'defaults',
  ],
  deployment: [
    'description',
    'properties',
    'endpointComputeType',
    'instanceType',
    'provisioningState',
    'model',
    'environmentId',
    'codeConfiguration',
    'environmentVariables',
    'appInsightsEnabled',
    'egressPublicNetworkAccess',
    'scaleSettings',
    'requestSettings',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'modelMountPath',
    'dataCollector',
    'instanceCount',
    'containerResourceRequirements',
    // Batch deployments
    'compute',
    'errorThreshold',
    'loggingLevel',
    'maxConcurrencyPerInstance',
    'miniBatchSize',
    'outputAction',
    'outputFileName',
    'resources',
    'retrySettings',
    'deploymentConfiguration',
  ],
  compute: [
    'computeType',
    'properties',
    'computeLocation',
    'provisioningState',
    'description',
    'createdOn',
    'modifiedOn',
    'resourceId',
    'provisioningErrors',
    'isAttachedCompute',
    'disableLocalAuth',
  ],
};

function extraKeys(obj: Record<string, unknown>, expected: Set<string>, prefix: string, key = (k: string) => k.toLowerCase()): string[] {
  return Object.keys(obj)
    .filter((k) => !expected.has(key(k)))
    .map((k) => `${prefix}${k}`);
}

const lower = (names: Iterable<string>) => new Set([...names].map((n) => n.toLowerCase()));
const REST_PROPERTIES_LOWER = Object.fromEntries(Object.entries(REST_PROPERTIES).map(([k, v]) => [k, lower(v ?? [])]));
const REST_ENVELOPE_LOWER = lower(REST_ENVELOPE);

/**
 * The unexpected fields of one logged event, by the channel that delivered it; undefined when the
 * event names no source we know the fields of (unknown event types, bodies that are not objects).
 */
export function unexpectedFields(channel: string, raw: unknown): FieldCheck | undefined {
  if (!isRecord(raw)) return undefined;
  if (channel === 'eventgrid') {
    const schema = detectSchema(raw);
    const type = schema === 'eventgrid' ? raw.eventType : raw.type;
    const entry = typeof type === 'string' ? azureMlEventType(type) : undefined;
    if (!schema || !entry) return undefined;
    const unexpected = extraKeys(raw, schema === 'eventgrid' ? EVENTGRID_ENVELOPE : CLOUDEVENTS_ENVELOPE, '');
    if (isRecord(raw.data)) unexpected.push(...extraKeys(raw.data, lower(entry.fields), 'data.'));
    return { source: entry.type, sourceKind: 'event-type', unexpected: unexpected.sort() };
  }
  if (channel === 'eventhubs') {
    const read = readRecord(raw);
    if (!read.ok || !read.record.category) return undefined;
    return { source: read.record.category, sourceKind: 'category', unexpected: extraKeys(raw, MONITOR_TOP, '', normalizeKey).sort() };
  }
  if (channel === 'rest') {
    const parsed = restObservationSchema.safeParse(raw);
    const expected = parsed.success ? REST_PROPERTIES_LOWER[parsed.data.kind] : undefined;
    if (!parsed.success || !expected) return undefined;
    const source = `azureml-rest:${parsed.data.kind}`;
    const resource = parsed.data.resource;
    if (!isRecord(resource)) return { source, sourceKind: 'resource-kind', unexpected: [] };
    const unexpected = extraKeys(resource, REST_ENVELOPE_LOWER, 'resource.');
    if (isRecord(resource.properties)) unexpected.push(...extraKeys(resource.properties, expected, 'resource.properties.'));
    return { source, sourceKind: 'resource-kind', unexpected: unexpected.sort() };
  }
  return undefined;
}
