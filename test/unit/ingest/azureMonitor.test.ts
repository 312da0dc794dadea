import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { predictionRequestSchema } from '../../../shared/ingest/predictionRequest.js';
import { normalizeAzureMlEvent } from '../../../shared/ingest/eventGrid/azureMlEvents.js';
import { METRICS_CATEGORY, normalizeMonitorRecord, type MonitorResult } from '../../../shared/ingest/monitor/categories.js';
import { splitMonitorMessage } from '../../../shared/ingest/monitor/message.js';
import { parseEnvelope } from '../../../shared/ingest/eventGrid/envelope.js';
import { namedResource, parseArmId, registryAsset, versionedAsset } from '../../../shared/graph/keys.js';
import { driftDetected, modelDeployed } from '../../helpers/events.js';
import { fixture, fixtureFiles, fixtureText, WS } from '../../helpers/fixtures.js';

type Raw = Record<string, unknown>;
type Projected = Extract<MonitorResult, { status: 'projected' }>;

/** Logs upper-case resource ids; the graph keys them in lower case. */
const WS_UPPER = WS.toUpperCase();
const WS_KEY = WS.toLowerCase();
const TIME = '2024-05-01T10:00:00.1234567Z';

/** A resource-log record in the common Event Hubs envelope, Azure ML values inside `properties`. */
function record(category: string, properties: Raw, extra: Raw = {}): Raw {
  return {
    time: TIME,
    resourceId: WS_UPPER,
    category,
    operationName: 'Microsoft.MachineLearningServices/workspaces/write',
    level: 'Informational',
    durationMs: '16',
    properties,
    ...extra,
  };
}

/** The same keys with a lower-case first letter (`RunId` -> `runId`): the SDK/swagger spelling. */
function camel(obj: Raw): Raw {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), v]));
}

function projectedOf(raw: unknown): Projected {
  const result = normalizeMonitorRecord(raw);
  if (result.status !== 'projected') throw new Error(`expected projected, got ${JSON.stringify(result)}`);
  return result;
}

function refOf(envelope: Raw) {
  const parsed = parseEnvelope(envelope);
  if (!parsed.ok) throw new Error('bad envelope');
  const normalized = normalizeAzureMlEvent(parsed.envelope);
  if (!normalized.ok) throw new Error('bad event');
  return normalized.delta;
}

const PERSONAL = {
  CallerIpAddress: '203.0.113.7',
  Identity: { UserName: 'jane@contoso.com', ObjectId: 'oid-jane' },
  TriggeringUserName: 'Jane Doe',
  UserName: 'jane@contoso.com',
  UserObjectId: 'oid-jane',
  IdentityData: 'oid-jane',
  UserAgent: 'python-requests/2.31',
};
const PERSONAL_VALUES = ['203.0.113.7', 'jane', 'Jane', 'oid-jane', 'python-requests'];

function expectNoPersonalData(result: MonitorResult) {
  const text = JSON.stringify(result);
  for (const v of PERSONAL_VALUES) expect(text).not.toContain(v);
}

describe('every Azure Monitor fixture, split and normalized', () => {
  const ignoredAs = (category: string, reason: string) => ({ status: 'ignored', category, reason });
  const EXPECTED: Record<string, { records: number; results: unknown[] } | { refused: string }> = {
    'azure-monitor/activitylog-eventhubs-Write-supporttickets.json': {
      records: 1,
      results: [ignoredAs('Write', 'Activity Log operation microsoft.support/supporttickets/write is not on an Azure ML resource')],
    },
    // The REST/portal form is one bare record, not an Event Hubs message.
    'azure-monitor/activitylog-rest-Administrative-NSGwrite.json': { refused: '(root)' },
    'azure-monitor/metrics-eventhubs-envelope-WebSite.json': {
      records: 3,
      results: Array.from({ length: 3 }, () => ignoredAs(METRICS_CATEGORY, 'metric records are not lineage')),
    },
    'azure-monitor/resourcelog-eventhubs-AuditEvent-KeyVault.json': {
      records: 1,
      results: [ignoredAs('AuditEvent', 'unknown category AuditEvent')],
    },
    'azure-monitor/resourcelog-eventhubs-envelope-WorkflowRuntime.json': {
      records: 2,
      results: [
        ignoredAs('WorkflowRuntime', 'unknown category WorkflowRuntime'),
        ignoredAs('WorkflowRuntime', 'unknown category WorkflowRuntime'),
      ],
    },
  };

  it('has an expectation for every JSON file in the folder', () => {
    expect(fixtureFiles('azure-monitor', /\.json$/)).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`${file.replace('azure-monitor/', '')}: same records from bytes, text and parsed JSON`, () => {
      const text = fixtureText(file);
      const splits = [
        splitMonitorMessage(Buffer.from(text, 'utf8')),
        splitMonitorMessage(new TextEncoder().encode(text)),
        splitMonitorMessage(text),
        splitMonitorMessage(fixture(file)),
      ];
      for (const split of splits) {
        if ('refused' in expected) {
          expect(split).toEqual({ ok: false, issues: [{ path: expected.refused, message: expect.stringContaining('"records"') }] });
          continue;
        }
        if (!split.ok) throw new Error(JSON.stringify(split.issues));
        expect(split.records).toHaveLength(expected.records);
        expect(split.records.map(normalizeMonitorRecord)).toEqual(expected.results);
      }
    });
  }

  it('the REST-form Activity Log record (category/operationName/status as {value}) normalizes on its own: non-ML, ignored', () => {
    expect(normalizeMonitorRecord(fixture('azure-monitor/activitylog-rest-Administrative-NSGwrite.json'))).toEqual({
      status: 'ignored',
      category: 'Administrative',
      reason: 'Activity Log operation Microsoft.Network/networkSecurityGroups/write is not on an Azure ML resource',
    });
  });
});

describe('splitMonitorMessage', () => {
  const good = record('AmlRunStatusChangedEvent', { RunId: 'r1', Status: 'Running' });

  it('joins the records of every object in the outer-array variant, in order, ignoring the sibling keys', () => {
    const body = [
      { records: [good, { n: 2 }], EventProcessedUtcTime: '2023-04-18T09:42:07.0944007Z', PartitionId: 1 },
      { records: [{ n: 3 }], EventEnqueuedUtcTime: '2023-04-18T09:41:14.9410000Z' },
    ];
    expect(splitMonitorMessage(body)).toEqual({ ok: true, records: [good, { n: 2 }, { n: 3 }] });
    expect(splitMonitorMessage(JSON.stringify(body))).toEqual(splitMonitorMessage(body));
  });

  it('accepts a byte-order mark before the JSON text', () => {
    expect(splitMonitorMessage(`\uFEFF${JSON.stringify({ records: [good] })}`)).toEqual({ ok: true, records: [good] });
  });

  it('returns good and bad records alike; each is judged on its own', () => {
    const split = splitMonitorMessage({ records: [good, 42, { time: 'yesterday', category: 'AmlRunStatusChangedEvent' }, good] });
    if (!split.ok) throw new Error('refused');
    expect(split.records.map((r) => normalizeMonitorRecord(r).status)).toEqual(['projected', 'invalid', 'invalid', 'projected']);
  });

  it('refuses anything else with a readable issue, never throwing', () => {
    const cases: Array<[unknown, string, string]> = [
      ['{"records": [', '(root)', 'not JSON'],
      [new Uint8Array([0xff, 0xfe, 0x00]), '(root)', 'UTF-8'],
      [{ records: 'x' }, 'records', 'array'],
      [[{ records: [] }, { other: 1 }], '1', '"records"'],
      [{ time: TIME, category: 'X' }, '(root)', '"records"'],
      [null, '(root)', '"records"'],
      [42, '(root)', '"records"'],
      [undefined, '(root)', '"records"'],
    ];
    for (const [body, path, message] of cases) {
      expect(splitMonitorMessage(body)).toEqual({ ok: false, issues: [{ path, message: expect.stringContaining(message) }] });
    }
  });

  it('never throws, whatever the body', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.uint8Array(), fc.json()), (body) => {
        const split = splitMonitorMessage(body);
        expect(typeof split.ok).toBe('boolean');
      }),
    );
  });
});

describe('records every category shares', () => {
  const ok = () => record('AmlRunStatusChangedEvent', { RunId: 'r1', Status: 'Running' });

  it('refuses a record that is not an object', () => {
    for (const raw of [null, 'text', 42, [ok()]]) {
      expect(normalizeMonitorRecord(raw)).toEqual({ status: 'invalid', issues: [{ path: '(root)', message: expect.any(String) }] });
    }
  });

  it('refuses a record without a time, or with one that is not an ISO date-time', () => {
    for (const time of [undefined, '', 'yesterday', '2024-13-01T00:00:00Z', 1714557600000]) {
      const raw = { ...ok(), time };
      expect(normalizeMonitorRecord(raw), String(time)).toEqual({
        status: 'invalid',
        issues: [{ path: 'time', message: expect.any(String) }],
      });
    }
  });

  it('takes the Log Analytics spellings: TimeGenerated, _ResourceId, Category', () => {
    const { time, resourceId, category, ...rest } = ok();
    const result = projectedOf({ ...rest, TimeGenerated: time, _ResourceId: resourceId, Category: category });
    expect(result).toMatchObject({ category: 'AmlRunStatusChangedEvent', time: TIME, workspace: WS_KEY });
  });

  it('matches categories ignoring case and reports the documented spelling', () => {
    expect(projectedOf({ ...ok(), category: 'amlrunstatuschangedevent' }).category).toBe('AmlRunStatusChangedEvent');
  });

  it('does not care whether level is Information or Informational, or durationMs a string or a number', () => {
    const results = [
      { level: 'Information', durationMs: '16' },
      { level: 'Informational', durationMs: 16 },
      { level: 'Warning', durationMs: 'n/a' },
    ].map((v) => projectedOf({ ...ok(), ...v }));
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('reads properties serialised as a JSON string', () => {
    expect(projectedOf({ ...ok(), properties: JSON.stringify({ RunId: 'r1', Status: 'Running' }) })).toEqual(projectedOf(ok()));
  });

  it('refuses a category it projects when the record names no workspace', () => {
    const noId = ok();
    delete noId.resourceId;
    expect(normalizeMonitorRecord(noId)).toEqual({
      status: 'invalid',
      issues: [{ path: 'resourceId', message: expect.stringContaining('required') }],
    });
    expect(
      normalizeMonitorRecord({ ...ok(), resourceId: '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/SA' }),
    ).toEqual({
      status: 'invalid',
      issues: [{ path: 'resourceId', message: expect.stringContaining('workspace') }],
    });
  });

  it('refuses a record with neither category nor metricName', () => {
    const raw = ok();
    delete raw.category;
    expect(normalizeMonitorRecord(raw)).toEqual({ status: 'invalid', issues: [{ path: 'category', message: expect.any(String) }] });
  });

  it('ignores reads and non-lineage Azure ML categories even without a workspace, and names unknown ones', () => {
    for (const category of [
      'ModelsReadEvent',
      'DataSetReadEvent',
      'EnvironmentReadEvent',
      'DeploymentReadEvent',
      'RunReadEvent',
      'RegistryAssetReadEvent',
    ]) {
      expect(normalizeMonitorRecord({ time: TIME, category })).toEqual({
        status: 'ignored',
        category,
        reason: 'read events are not lineage',
      });
    }
    for (const category of [
      'AmlOnlineEndpointEventLog',
      'AmlOnlineEndpointConsoleLog',
      'AmlComputeClusterEvent',
      'RunEvent',
      'PipelineChangeEvent',
    ]) {
      expect(normalizeMonitorRecord({ time: TIME, category })).toEqual({ status: 'ignored', category, reason: expect.any(String) });
    }
    expect(normalizeMonitorRecord({ time: TIME, category: 'AmlBrandNewEvent', resourceId: WS })).toEqual({
      status: 'ignored',
      category: 'AmlBrandNewEvent',
      reason: 'unknown category AmlBrandNewEvent',
    });
  });

  it('never throws, whatever the record', () => {
    const statuses = new Set(['projected', 'ignored', 'invalid']);
    const category = fc.constantFrom(
      'AmlRunStatusChangedEvent',
      'AmlComputeJobEvent',
      'ModelsChangeEvent',
      'DataSetChangeEvent',
      'EnvironmentChangeEvent',
      'DeploymentEventAKS',
      'AmlOnlineEndpointTrafficLog',
      'RegistryAssetWriteEvent',
      'Administrative',
      'Write',
    );
    const shaped = fc.record(
      {
        time: fc.oneof(fc.constant(TIME), fc.anything()),
        category,
        resourceId: fc.oneof(fc.constant(WS_UPPER), fc.string()),
        operationName: fc.oneof(fc.string(), fc.anything()),
        properties: fc.oneof(fc.dictionary(fc.string(), fc.anything()), fc.anything()),
      },
      { requiredKeys: ['time', 'category'] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), shaped), (raw) => {
        expect(statuses.has(normalizeMonitorRecord(raw).status)).toBe(true);
      }),
    );
    const hostile = {
      time: TIME,
      category: 'AmlRunStatusChangedEvent',
      get properties(): never {
        throw new Error('boom');
      },
    };
    expect(normalizeMonitorRecord(hostile)).toMatchObject({ status: 'invalid', issues: [{ path: '(root)' }] });
  });
});

describe('AmlRunStatusChangedEvent', () => {
  const props = {
    RunId: 'train_1',
    ParentRunId: 'pipeline_1',
    RootRunId: 'pipeline_1',
    Status: 'completed',
    Message: 'Run completed',
    WorkspaceName: 'ws-prod',
    ...PERSONAL,
  };
  const job = namedResource(WS_KEY, 'jobs', 'train_1');

  it('records the status on the job, links the parent, and asks for enrichment once the run is terminal', () => {
    const result = projectedOf(record('AmlRunStatusChangedEvent', props));
    const parent = namedResource(WS_KEY, 'jobs', 'pipeline_1');
    expect(job.key).toBe(`${WS_KEY}/jobs/train_1`);
    expect(result.workspace).toBe(WS_KEY);
    expect(result.delta).toEqual({
      nodes: [
        {
          ref: job,
          facts: { runId: 'train_1', status: 'Completed', statusMessage: 'Run completed', rootRunId: 'pipeline_1' },
          series: { status: 'Completed' },
        },
      ],
      references: [parent],
      edges: [{ kind: 'parentOf', from: parent, to: job }],
    });
    expect(result.enrich).toEqual([{ kind: 'job', armId: `${WS_KEY}/jobs/train_1` }]);
    expectNoPersonalData(result);
  });

  it('reads camelCase keys and values at the top level like PascalCase keys in properties', () => {
    const pascal = projectedOf(record('AmlRunStatusChangedEvent', props));
    expect(projectedOf(record('AmlRunStatusChangedEvent', camel(props), { durationMs: 16 }))).toEqual(pascal);
    const { properties: _ignored, ...envelope } = record('AmlRunStatusChangedEvent', {});
    expect(projectedOf({ ...envelope, ...props })).toEqual(pascal);
  });

  it('enriches only terminal statuses (Completed, Failed, Canceled in any spelling)', () => {
    const enriched = (Status: string) => projectedOf(record('AmlRunStatusChangedEvent', { RunId: 'train_1', Status })).enrich.length;
    expect(['Completed', 'failed', 'Canceled', 'cancelled'].map(enriched)).toEqual([1, 1, 1, 1]);
    expect(['Running', 'Queued', 'Starting', 'Finalizing'].map(enriched)).toEqual([0, 0, 0, 0]);
  });

  it('draws no parent edge for a root run, but recognises AutoML children by name', () => {
    const root = projectedOf(
      record('AmlRunStatusChangedEvent', { RunId: 'train_1', ParentRunId: 'TRAIN_1', RootRunId: 'train_1', Status: 'Running' }),
    );
    expect(root.delta.edges).toEqual([]);
    expect(root.delta.nodes[0]?.facts).toEqual({ runId: 'train_1', status: 'Running' });
    const child = projectedOf(
      record('AmlRunStatusChangedEvent', { RunId: 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5', Status: 'Running' }),
    );
    expect(child.delta.edges.map((e) => [e.kind, e.from.label])).toEqual([['parentOf', 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc']]);
  });

  it('refuses a record without RunId or Status', () => {
    expect(normalizeMonitorRecord(record('AmlRunStatusChangedEvent', { Status: 'Running' }))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.RunId', message: expect.any(String) }],
    });
    expect(normalizeMonitorRecord(record('AmlRunStatusChangedEvent', { RunId: 'r' }))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.Status', message: expect.any(String) }],
    });
  });
});

describe('AmlComputeJobEvent', () => {
  const props = {
    JobName: 'automl_a9940991-dedb-4262-9763-2fd08b79d8fb_setup',
    JobId: 'cj-42',
    EventType: 'JobSucceeded',
    ExecutionState: 'Succeeded',
    ClusterName: 'cpu-cluster',
    ExperimentName: 'credit',
    ToolType: 'Python',
    ErrorDetails: '',
    CustomerSubscriptionId: 'sub',
    ...PERSONAL,
  };

  it('records the event on the job and links the cluster it ran on', () => {
    const result = projectedOf(record('AmlComputeJobEvent', props, { resourceId: `${WS_UPPER}` }));
    const job = namedResource(WS_KEY, 'jobs', props.JobName);
    const compute = namedResource(WS_KEY, 'computes', 'cpu-cluster');
    expect(result.delta).toEqual({
      nodes: [
        {
          ref: job,
          facts: {
            runId: props.JobName,
            computeJobEventType: 'JobSucceeded',
            executionState: 'Succeeded',
            clusterName: 'cpu-cluster',
            experimentName: 'credit',
            computeJobId: 'cj-42',
            computeJobDetails: { ToolType: 'Python' },
          },
          series: { computeJobEventType: 'JobSucceeded' },
        },
      ],
      references: [compute],
      edges: [{ kind: 'computeOf', from: compute, to: job }],
    });
    expect(result.enrich).toEqual([]);
    expectNoPersonalData(result);
  });

  it('reads camelCase keys, and the event type from operationName as the docs queries do', () => {
    const { EventType: _dropped, ...rest } = props;
    const result = projectedOf(record('AmlComputeJobEvent', camel(rest), { operationName: 'JobSubmitted', durationMs: 3 }));
    expect(result.delta.nodes[0]?.facts).toMatchObject({
      computeJobEventType: 'JobSubmitted',
      clusterName: 'cpu-cluster',
      computeJobId: 'cj-42',
    });
  });

  it('draws no compute edge without a cluster name, and refuses a record without a job name', () => {
    const result = projectedOf(record('AmlComputeJobEvent', { JobName: 'j1', EventType: 'JobRunning' }));
    expect(result.delta.references).toEqual([]);
    expect(result.delta.edges).toEqual([]);
    expect(normalizeMonitorRecord(record('AmlComputeJobEvent', { EventType: 'JobRunning' }))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.JobName', message: expect.any(String) }],
    });
  });
});

describe('ModelsChangeEvent and ModelsActionEvent', () => {
  it('ask for enrichment of the model container (the log has no version)', () => {
    for (const [category, props] of [
      ['ModelsChangeEvent', { AmlModelName: 'credit-model', ResultSignature: '201', ...PERSONAL }],
      ['ModelsActionEvent', camel({ AmlModelName: 'credit-model', ResultType: 'Succeeded' })],
    ] as const) {
      const result = projectedOf(record(category, props, { operationName: 'Microsoft.MachineLearningServices/workspaces/models/write' }));
      expect(result).toEqual({
        status: 'projected',
        category,
        time: TIME,
        workspace: WS_KEY,
        delta: { nodes: [], references: [], edges: [] },
        enrich: [{ kind: 'modelContainer', armId: `${WS_KEY}/models/credit-model` }],
      });
    }
  });

  it('ignores failed, unfinished and read operations', () => {
    const base = { AmlModelName: 'm' };
    expect(normalizeMonitorRecord(record('ModelsChangeEvent', base, { resultType: 'Failed' })).status).toBe('ignored');
    expect(normalizeMonitorRecord(record('ModelsChangeEvent', base, { resultType: 'Started' })).status).toBe('ignored');
    expect(normalizeMonitorRecord(record('ModelsChangeEvent', base, { resultSignature: '404' })).status).toBe('ignored');
    expect(
      normalizeMonitorRecord(
        record('ModelsChangeEvent', base, { operationName: 'MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/MODELS/READ' }),
      ).status,
    ).toBe('ignored');
    expect(normalizeMonitorRecord(record('ModelsChangeEvent', base, { resultSignature: '200' })).status).toBe('projected');
  });

  it('refuses a change without a model name', () => {
    expect(normalizeMonitorRecord(record('ModelsChangeEvent', {}))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.AmlModelName', message: expect.any(String) }],
    });
  });
});

describe('DataSetChangeEvent', () => {
  const id = 'd7e74d2e-c972-4266-b5fb-6c9c182d2a74';

  it('records the change on the v1 dataset node that drift events reference, and enriches nothing without a version', () => {
    const result = projectedOf(
      record('DataSetChangeEvent', { AmlDatasetId: id, AmlDatasetName: 'credit-data', AmlWorkspaceId: 'guid', ...PERSONAL }),
    );
    const drift = refOf({
      ...driftDetected('mon-1', 'mon-1_1'),
      data: { ...(driftDetected('mon-1', 'mon-1_1').data as Raw), TargetDatasetId: id },
    });
    expect(result.delta.nodes).toEqual([
      { ref: namedResource(WS_KEY, 'datasets', id), facts: { datasetId: id, name: 'credit-data', lastChangedAt: TIME } },
    ]);
    expect(drift.references.map((r) => r.key)).toContain(result.delta.nodes[0]?.ref.key);
    expect(result.enrich).toEqual([]);
    expectNoPersonalData(result);
  });

  it('enriches the data asset version when a version is present, and keys by name when the id is missing', () => {
    const result = projectedOf(record('DataSetChangeEvent', camel({ AmlDatasetName: 'credit-data', AmlDatasetVersion: 3 })));
    expect(result.delta.nodes[0]?.ref).toEqual(namedResource(WS_KEY, 'datasets', 'credit-data'));
    expect(result.enrich).toEqual([{ kind: 'data', armId: `${WS_KEY}/data/credit-data/versions/3` }]);
  });

  it('marks a deletion and refuses a record naming no dataset', () => {
    const deleted = projectedOf(
      record('DataSetChangeEvent', { AmlDatasetId: id }, { operationName: 'Microsoft.MachineLearningServices/workspaces/datasets/DELETE' }),
    );
    expect(deleted.delta.nodes[0]?.facts.deletedAt).toBe(TIME);
    expect(normalizeMonitorRecord(record('DataSetChangeEvent', {}))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.AmlDatasetId', message: expect.any(String) }],
    });
  });
});

describe('EnvironmentChangeEvent', () => {
  it('asks for enrichment of the environment version, whether the version is a string or a number', () => {
    for (const props of [
      { AmlEnvironmentName: 'sklearn-env', AmlEnvironmentVersion: '4' },
      camel({ AmlEnvironmentName: 'sklearn-env', AmlEnvironmentVersion: 4 }),
    ]) {
      const result = projectedOf(record('EnvironmentChangeEvent', { ...props, ...PERSONAL }));
      expect(result.enrich).toEqual([{ kind: 'environment', armId: `${WS_KEY}/environments/sklearn-env/versions/4` }]);
      expect(result.delta.nodes).toEqual([]);
      expectNoPersonalData(result);
    }
  });

  it('ignores an environment without a version, marks a deleted version, refuses a nameless record', () => {
    expect(normalizeMonitorRecord(record('EnvironmentChangeEvent', { AmlEnvironmentName: 'e' }))).toMatchObject({
      status: 'ignored',
      category: 'EnvironmentChangeEvent',
    });
    const deleted = projectedOf(
      record(
        'EnvironmentChangeEvent',
        { AmlEnvironmentName: 'e', AmlEnvironmentVersion: '2' },
        { operationName: 'Microsoft.MachineLearningServices/workspaces/environments/delete' },
      ),
    );
    expect(deleted.delta.nodes).toEqual([{ ref: versionedAsset(WS_KEY, 'environments', 'e', '2'), facts: { deletedAt: TIME } }]);
    expect(deleted.enrich).toEqual([]);
    expect(normalizeMonitorRecord(record('EnvironmentChangeEvent', { AmlEnvironmentVersion: '2' }))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.AmlEnvironmentName', message: expect.any(String) }],
    });
  });
});

describe('DeploymentEventACI and DeploymentEventAKS', () => {
  const op = 'Microsoft.MachineLearningServices/workspaces/services/aci/write';

  it('keep the last deployment operation on the service node that ModelDeployed events also write', () => {
    const result = projectedOf(
      record(
        'DeploymentEventACI',
        { AmlServiceName: 'my-sklearn-service', ...PERSONAL },
        { operationName: op, resultType: 'Succeeded', durationMs: '2826' },
      ),
    );
    const fromEventGrid = refOf(modelDeployed('my-sklearn-service', 'm:1')).nodes[0]?.ref;
    expect(result.delta.nodes).toEqual([
      {
        ref: namedResource(WS_KEY, 'services', 'my-sklearn-service'),
        facts: {
          name: 'my-sklearn-service',
          computeType: 'ACI',
          lastDeploymentOperation: { operationName: op, resultType: 'Succeeded', durationMs: 2826 },
        },
      },
    ]);
    expect(result.delta.nodes[0]?.ref).toEqual(fromEventGrid);
    expectNoPersonalData(result);
  });

  it('read durationMs as a number either way, and AKS from camelCase keys', () => {
    const facts = (durationMs: unknown) =>
      projectedOf(record('DeploymentEventAKS', camel({ AmlServiceName: 's' }), { operationName: op, durationMs })).delta.nodes[0]?.facts;
    expect(facts('2826')).toEqual(facts(2826));
    expect(facts(2826)).toMatchObject({ computeType: 'AKS', lastDeploymentOperation: { durationMs: 2826 } });
  });

  it('refuses a record without a service name', () => {
    expect(normalizeMonitorRecord(record('DeploymentEventAKS', {}))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.AmlServiceName', message: expect.any(String) }],
    });
  });
});

describe('AmlOnlineEndpointTrafficLog', () => {
  const endpointId = `${WS_UPPER}/ONLINEENDPOINTS/CREDIT-EP`;
  const props = {
    XRequestId: 'req-1',
    XMSClientRequestId: 'client-1',
    EndpointName: 'credit-ep',
    DeploymentName: 'blue',
    Method: 'POST',
    Path: '/score?code=secret',
    ResponseCode: 200,
    ModelStatusCode: '200',
    TotalDurationMs: '35',
    AuthType: 'Key',
    Protocol: 'HTTP/1.1',
    RequestPayloadSize: 120,
    ...PERSONAL,
  };

  it('becomes a prediction request for the deployment that served the request, without caller identity or query string', () => {
    const result = projectedOf(record('AmlOnlineEndpointTrafficLog', props, { resourceId: endpointId }));
    const expected = {
      requestId: 'req-1',
      clientRequestId: 'client-1',
      time: TIME,
      workspace: WS_KEY,
      endpointArmId: `${WS_KEY}/onlineEndpoints/credit-ep`,
      deploymentArmId: `${WS_KEY}/onlineEndpoints/credit-ep/deployments/blue`,
      method: 'POST',
      path: '/score',
      responseCode: 200,
      modelStatusCode: 200,
      totalDurationMs: 35,
      authType: 'Key',
    };
    expect(result.predictionRequest).toEqual(expected);
    expect(predictionRequestSchema.parse(result.predictionRequest)).toEqual(expected);
    expect(result.delta).toEqual({ nodes: [], references: [], edges: [] });
    expect(result.enrich).toEqual([]);
    expect(parseArmId(expected.deploymentArmId)?.kind).toBe('deployment');
    expectNoPersonalData(result);
    expect(JSON.stringify(result)).not.toContain('secret');
  });

  it('takes the endpoint from a resourceId ending in /onlineEndpoints/{name} and reads camelCase keys', () => {
    const { EndpointName: _dropped, ...rest } = props;
    const result = projectedOf(record('AmlOnlineEndpointTrafficLog', camel(rest), { resourceId: endpointId }));
    expect(result.predictionRequest).toMatchObject({
      requestId: 'req-1',
      endpointArmId: `${WS_KEY}/onlineEndpoints/CREDIT-EP`,
      deploymentArmId: `${WS_KEY}/onlineEndpoints/CREDIT-EP/deployments/blue`,
      totalDurationMs: 35,
    });
  });

  it('refuses a record without XRequestId, endpoint or deployment, or whose endpoint contradicts its resourceId', () => {
    const issues = (p: Raw, resourceId = endpointId) => {
      const result = normalizeMonitorRecord(record('AmlOnlineEndpointTrafficLog', p, { resourceId }));
      return result.status === 'invalid' ? result.issues.map((i) => i.path) : result.status;
    };
    const { XRequestId: _x, ...noRequest } = props;
    const { DeploymentName: _d, ...noDeployment } = props;
    const { EndpointName: _e, ...noEndpoint } = props;
    expect(issues(noRequest)).toEqual(['properties.XRequestId']);
    expect(issues({ ...props, XRequestId: '' })).toEqual(['properties.XRequestId']);
    expect(issues(noDeployment)).toEqual(['properties.DeploymentName']);
    expect(issues(noEndpoint, WS_UPPER)).toEqual(['properties.EndpointName']);
    expect(issues({ ...props, EndpointName: 'other-ep' })).toEqual(['properties.EndpointName']);
  });
});

describe('RegistryAssetWriteEvent', () => {
  const registryId = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/shared-reg';
  const props = { AssetName: 'credit-model', AssetVersion: '3', RegistryResourceId: registryId, Labels: 'latest', ...PERSONAL };

  it('is ignored while the asset type is unknown (the documented columns do not say)', () => {
    expect(normalizeMonitorRecord(record('RegistryAssetWriteEvent', props, { resourceId: registryId.toUpperCase() }))).toEqual({
      status: 'ignored',
      category: 'RegistryAssetWriteEvent',
      reason: expect.stringContaining('asset type unknown'),
    });
  });

  it('records the registry asset when the operation names its type, keyed like every other registry reference', () => {
    const result = projectedOf(
      record('RegistryAssetWriteEvent', camel(props), {
        resourceId: registryId.toUpperCase(),
        operationName: 'Microsoft.MachineLearningServices/registries/models/versions/write',
      }),
    );
    expect(result.workspace).toBe(registryId.toLowerCase());
    expect(result.delta.nodes).toEqual([
      {
        ref: registryAsset('shared-reg', 'models', 'credit-model', '3'),
        facts: { name: 'credit-model', version: '3', registry: 'shared-reg', labels: 'latest' },
      },
    ]);
    expect(result.delta.nodes[0]?.ref).toEqual(parseArmId(`${registryId}/models/credit-model/versions/3`));
    expectNoPersonalData(result);
  });

  it('refuses a typed write without a registry id or asset version', () => {
    const typed = { operationName: 'Microsoft.MachineLearningServices/registries/environments/versions/write' };
    expect(normalizeMonitorRecord(record('RegistryAssetWriteEvent', { AssetName: 'e', AssetVersion: '1' }, typed))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.RegistryResourceId', message: expect.any(String) }],
    });
    expect(normalizeMonitorRecord(record('RegistryAssetWriteEvent', { AssetName: 'e', RegistryResourceId: registryId }, typed))).toEqual({
      status: 'invalid',
      issues: [{ path: 'properties.AssetVersion', message: expect.any(String) }],
    });
  });
});

describe('Activity Log', () => {
  /** The Event Hubs form, as in the docs' example (category "Write", resultType "Success"). */
  function activity(operationName: string, resourceId: string, extra: Raw = {}): Raw {
    return {
      time: TIME,
      resourceId,
      operationName,
      category: 'Administrative',
      resultType: 'Success',
      resultSignature: 'Succeeded.Created',
      durationMs: 0,
      callerIpAddress: '203.0.113.7',
      correlationId: 'c-1',
      identity: { claims: { name: 'Jane Doe', upn: 'jane@contoso.com' } },
      level: 'Information',
      location: 'global',
      properties: { statusCode: 'Created' },
      ...extra,
    };
  }

  const writes: Array<[string, string, string]> = [
    ['jobs/write', `${WS}/jobs/train_1`, 'job'],
    ['models/write', `${WS}/models/credit-model`, 'modelContainer'],
    ['models/versions/write', `${WS}/models/credit-model/versions/3`, 'model'],
    ['data/versions/write', `${WS}/data/credit-data/versions/1`, 'data'],
    ['environments/versions/write', `${WS}/environments/sklearn-env/versions/4`, 'environment'],
    ['codes/versions/write', `${WS}/codes/c0de/versions/1`, 'code'],
    ['onlineEndpoints/write', `${WS}/onlineEndpoints/credit-ep`, 'endpoint'],
    ['onlineendpoints/deployments/write', `${WS}/onlineEndpoints/credit-ep/deployments/blue`, 'deployment'],
    ['batchEndpoints/write', `${WS}/batchEndpoints/credit-batch`, 'endpoint'],
    ['batchEndpoints/deployments/write', `${WS}/batchEndpoints/credit-batch/deployments/monthly`, 'deployment'],
    ['computes/write', `${WS}/computes/cpu-cluster`, 'compute'],
  ];

  for (const [op, resourceId, kind] of writes) {
    it(`a succeeded ${op} asks for ${kind} enrichment of the resource, whatever the casing`, () => {
      for (const [opCase, idCase] of [
        [`Microsoft.MachineLearningServices/workspaces/${op}`, resourceId],
        [`MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/${op.toUpperCase()}`, resourceId.toUpperCase()],
      ] as const) {
        for (const category of ['Administrative', 'Write']) {
          const result = projectedOf(activity(opCase, idCase, { category }));
          expect(result).toEqual({
            status: 'projected',
            category,
            time: TIME,
            workspace: WS_KEY,
            delta: { nodes: [], references: [], edges: [] },
            enrich: [{ kind, armId: idCase }],
          });
          expectNoPersonalData(result);
        }
      }
      if (kind !== 'modelContainer') expect(parseArmId(resourceId)).toBeDefined();
    });
  }

  it('reads the REST form ({value} wrappers, status, eventTimestamp)', () => {
    const op = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write';
    const resourceId = `${WS}/onlineEndpoints/credit-ep/deployments/blue`;
    const rest = {
      eventTimestamp: TIME,
      resourceId,
      operationName: { value: op, localizedValue: op },
      category: { value: 'Administrative', localizedValue: 'Administrative' },
      status: { value: 'Succeeded', localizedValue: 'Succeeded' },
      caller: 'jane@contoso.com',
      claims: { name: 'Jane Doe' },
    };
    expect(projectedOf(rest)).toMatchObject({
      category: 'Administrative',
      time: TIME,
      enrich: [{ kind: 'deployment', armId: resourceId }],
    });
    expect(normalizeMonitorRecord({ ...rest, status: { value: 'Started' } }).status).toBe('ignored');
  });

  it('marks the node of a deleted resource deletedAt, and deletes nothing', () => {
    const resourceId = `${WS_UPPER}/ONLINEENDPOINTS/CREDIT-EP/DEPLOYMENTS/BLUE`;
    const result = projectedOf(activity('MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/ONLINEENDPOINTS/DEPLOYMENTS/DELETE', resourceId));
    expect(result.delta).toEqual({ nodes: [{ ref: parseArmId(resourceId), facts: { deletedAt: TIME } }], references: [], edges: [] });
    expect(result.delta.nodes[0]?.ref.key).toBe(`${WS_KEY}/onlineendpoints/credit-ep/deployments/blue`);
    expect(result.enrich).toEqual([]);
    // A model container has no node of its own.
    expect(normalizeMonitorRecord(activity('Microsoft.MachineLearningServices/workspaces/models/delete', `${WS}/models/m`)).status).toBe(
      'ignored',
    );
  });

  it('ignores started, accepted and failed records, actions, and ML operations outside lineage', () => {
    const job = `${WS}/jobs/train_1`;
    for (const resultType of ['Start', 'Started', 'Accept', 'Accepted', 'Failure', 'Failed', undefined]) {
      expect(
        normalizeMonitorRecord(activity('Microsoft.MachineLearningServices/workspaces/jobs/write', job, { resultType })).status,
        String(resultType),
      ).toBe('ignored');
    }
    expect(normalizeMonitorRecord(activity('Microsoft.MachineLearningServices/workspaces/jobs/cancel/action', job)).status).toBe('ignored');
    expect(normalizeMonitorRecord(activity('Microsoft.MachineLearningServices/workspaces/write', WS)).status).toBe('ignored');
    expect(
      normalizeMonitorRecord(
        activity('Microsoft.MachineLearningServices/workspaces/components/versions/write', `${WS}/components/c/versions/1`),
      ),
    ).toMatchObject({ status: 'ignored', reason: expect.stringContaining('no enrichment') });
  });

  it('ignores non-ML resources with the reason', () => {
    expect(
      normalizeMonitorRecord(
        activity(
          'Microsoft.Storage/storageAccounts/write',
          '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa',
        ),
      ),
    ).toEqual({
      status: 'ignored',
      category: 'Administrative',
      reason: 'Activity Log operation Microsoft.Storage/storageAccounts/write is not on an Azure ML resource',
    });
  });

  it('refuses an ML write whose resourceId is not the resource the operation names, or has no operation', () => {
    const invalidPath = (raw: Raw) => {
      const result = normalizeMonitorRecord(raw);
      return result.status === 'invalid' ? result.issues.map((i) => i.path) : result.status;
    };
    expect(invalidPath(activity('Microsoft.MachineLearningServices/workspaces/jobs/write', `${WS}/models/m/versions/1`))).toEqual([
      'resourceId',
    ]);
    expect(invalidPath(activity('Microsoft.MachineLearningServices/workspaces/jobs/write', '/subscriptions/s/resourceGroups/rg'))).toEqual([
      'resourceId',
    ]);
    const noOp = activity('x', WS);
    delete noOp.operationName;
    expect(invalidPath(noOp)).toEqual(['operationName']);
  });
});
