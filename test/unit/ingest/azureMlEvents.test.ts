import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AZUREML_EVENTS, normalizeAzureMlEvent } from '../../../shared/ingest/eventGrid/azureMlEvents.js';
import { gitFromProperties, normalizeRunStatus, parentRunId } from '../../../shared/ingest/payload.js';
import { parseEnvelope, type EventEnvelope } from '../../../shared/ingest/eventGrid/envelope.js';
import { nodeId, parseWorkspaceId } from '../../../shared/graph/keys.js';
import type { GraphDelta } from '../../../shared/graph/model.js';
import { contentHash } from '../../../shared/util/canonicalJson.js';
import { readBicep, resourceBody } from '../../helpers/bicep.js';
import { firstEvent, fixture, fixtureFiles, WS } from '../../helpers/fixtures.js';

function envelopeOf(raw: unknown): EventEnvelope {
  const parsed = parseEnvelope(raw);
  if (!parsed.ok) throw new Error(`envelope refused: ${JSON.stringify(parsed.issues)}`);
  return parsed.envelope;
}

function deltaOf(raw: unknown): GraphDelta {
  const result = normalizeAzureMlEvent(envelopeOf(raw));
  if (!result.ok) throw new Error(`normalization refused: ${JSON.stringify(result.issues)}`);
  return result.delta;
}

function issuesOf(raw: unknown) {
  const result = normalizeAzureMlEvent(envelopeOf(raw));
  if (result.ok) throw new Error('expected the event to be refused');
  return result.issues;
}

/** The five examples of the Azure ML event schema page (test/fixtures/README.md), which share one event id. */
const SCHEMA_PAGE_TYPES = ['ModelRegistered', 'ModelDeployed', 'RunCompleted', 'RunStatusChanged', 'DatasetDriftDetected'];
/** Every declared event type, each with its documented example in both schemas. */
const AML_TYPES = [...SCHEMA_PAGE_TYPES];

describe('the declared event types', () => {
  it('are exactly the types with documented examples (a new entry needs its fixture test)', () => {
    expect(AZUREML_EVENTS.map((e) => e.type)).toEqual(AML_TYPES.map((t) => `Microsoft.MachineLearningServices.${t}`));
  });

  it('need no change to the Event Grid subscription: it filters no event type, so a type Azure adds is logged raw until declared', () => {
    const template = readBicep(fileURLToPath(new URL('../../../infra/modules/eventSubscription.bicep', import.meta.url)));
    const body = resourceBody(template, 'subscription');
    expect(body).toContain("name: 'captureEventGrid'");
    expect(body).not.toMatch(/includedEventTypes/);
  });
});

describe('every Azure ML Event Grid fixture, in both schemas', () => {
  for (const schema of ['eventgrid', 'cloudevents']) {
    for (const type of AML_TYPES) {
      it(`${schema}-${type} normalizes into the workspace named by its topic/source`, () => {
        const raw = firstEvent(`azureml-eventgrid/${schema}-${type}.json`);
        const delta = deltaOf(raw);
        const ws = parseWorkspaceId(String(raw.topic ?? raw.source));
        expect(ws).toBeDefined();
        expect(delta.nodes.length).toBeGreaterThan(0);
        for (const n of [...delta.nodes.map((x) => x.ref), ...delta.references]) {
          if (n.kind !== 'commit') expect(n.workspace).toBe(ws?.key);
        }
      });
    }
  }

  it('the two schemas of the same event produce the same delta', () => {
    for (const type of AML_TYPES) {
      expect(deltaOf(firstEvent(`azureml-eventgrid/cloudevents-${type}.json`))).toEqual(
        deltaOf(firstEvent(`azureml-eventgrid/eventgrid-${type}.json`)),
      );
    }
  });

  it('every event-shaped fixture parses as an envelope, whatever its type', () => {
    const files = fixtureFiles('azureml-eventgrid', /^(eventgrid|cloudevents)-.*\.json$/).filter((f) => !f.endsWith('-response.json'));
    expect(files.length).toBeGreaterThanOrEqual(18);
    for (const file of files) {
      const value = fixture(file);
      for (const event of Array.isArray(value) ? value : [value]) expect(parseEnvelope(event).ok, file).toBe(true);
    }
  });
});

describe('ModelRegistered', () => {
  it('takes name, version, tags and properties', () => {
    const delta = deltaOf(firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json'));
    const [node] = delta.nodes;
    expect(node?.ref.kind).toBe('model');
    expect(node?.ref.label).toBe('sklearn_regression_model:20');
    expect(node?.facts).toMatchObject({
      name: 'sklearn_regression_model',
      version: '20',
      tags: { area: 'diabetes', type: 'regression' },
      properties: { type: 'test' },
    });
  });

  it('takes tags and properties as maps: null or absent is empty, anything else not an object is refused by path', () => {
    const withTags = (tags: unknown, properties?: unknown) => {
      const event = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
      const data = event.data as Record<string, unknown>;
      data.ModelTags = tags;
      if (properties === undefined) delete data.ModelProperties;
      else data.ModelProperties = properties;
      return event;
    };
    expect(deltaOf(withTags(null)).nodes[0]?.facts).toMatchObject({ tags: {}, properties: {} });
    const tags = deltaOf(withTags(JSON.parse('{"b":2,"__proto__":{"a":1},"a":1}'), { p: 'q' })).nodes[0]?.facts.tags as object;
    // A copy, in the sender's order; `__proto__` is not carried into graph facts (the raw log keeps it).
    expect(Object.keys(tags)).toEqual(['b', 'a']);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    for (const [bad, received] of [
      ['x', 'string'],
      [[1], 'array'],
      [5, 'number'],
    ] as const) {
      expect(issuesOf(withTags(bad, bad))).toEqual([
        { path: 'data.ModelTags', message: `Invalid input: expected record, received ${received}` },
        { path: 'data.ModelProperties', message: `Invalid input: expected record, received ${received}` },
      ]);
    }
  });

  it('accepts the version as a number (docs example) or a string (table, SDKs) and maps both to one node', () => {
    const asNumber = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    const asString = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    (asString.data as Record<string, unknown>).ModelVersion = '20';
    const a = deltaOf(asNumber).nodes[0]?.ref;
    const b = deltaOf(asString).nodes[0]?.ref;
    expect(a && nodeId(a.kind, a.key)).toBe(b && nodeId(b.kind, b.key));
    expect(deltaOf(asNumber).nodes[0]?.facts.version).toBe('20');
  });

  it('matches camelCase keys (swagger, SDK fixtures) like the PascalCase of the docs', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    raw.data = { modelName: 'sklearn_regression_model', modelVersion: '3', modelTags: { a: '1' }, modelProperties: {} };
    const node = deltaOf(raw).nodes[0];
    expect(node?.facts).toMatchObject({ name: 'sklearn_regression_model', version: '3', tags: { a: '1' } });
  });

  it('falls back to the subject models/{name}:{version} when data lacks them', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    raw.data = {};
    expect(deltaOf(raw).nodes[0]?.ref.label).toBe('sklearn_regression_model:20');
  });

  it('refuses an event that names no model, saying which field is missing', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    raw.data = { ModelVersion: 2 };
    raw.subject = 'models';
    const issues = issuesOf(raw);
    expect(issues.map((i) => i.path)).toContain('data.ModelName');
  });
});

describe('ModelDeployed', () => {
  it('splits the comma-separated ModelIds into deployed model versions', () => {
    const delta = deltaOf(firstEvent('azureml-eventgrid/eventgrid-ModelDeployed.json'));
    expect(delta.nodes[0]?.ref.kind).toBe('service');
    expect(delta.references.map((r) => r.label)).toEqual(['sklearn_regression_model:1', 'sklearn_regression_model:2']);
    expect(delta.edges.map((e) => [e.kind, e.from.label, e.to.label])).toEqual([
      ['deployedTo', 'sklearn_regression_model:1', 'my-sklearn-service'],
      ['deployedTo', 'sklearn_regression_model:2', 'my-sklearn-service'],
    ]);
  });

  it('tolerates spaces and an array form, and keeps colons inside versions', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelDeployed.json');
    (raw.data as Record<string, unknown>).ModelIds = ' m:1 , n:2024:01 ';
    expect(deltaOf(raw).references.map((r) => r.label)).toEqual(['m:1', 'n:2024:01']);
    (raw.data as Record<string, unknown>).ModelIds = ['m:1'];
    expect(deltaOf(raw).references.map((r) => r.label)).toEqual(['m:1']);
  });

  it('refuses a model id without a version, pointing at the entry', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelDeployed.json');
    (raw.data as Record<string, unknown>).ModelIds = 'good:1,bad';
    expect(issuesOf(raw)).toEqual([expect.objectContaining({ path: 'data.ModelIds.1', message: expect.stringContaining('NAME:VERSION') })]);
  });
});

describe('RunCompleted and RunStatusChanged', () => {
  it('keeps run status on the job: Completed for RunCompleted', () => {
    const node = deltaOf(firstEvent('azureml-eventgrid/eventgrid-RunCompleted.json')).nodes[0];
    expect(node?.ref.kind).toBe('job');
    expect(node?.facts.status).toBe('Completed');
    expect(node?.series).toEqual({ status: 'Completed' });
    expect(node?.facts.runType).toBeUndefined(); // runType: null in the fixture
  });

  it('compares statuses case-insensitively ("failed" in the docs, "Running" in the SDK fixture)', () => {
    expect(deltaOf(firstEvent('azureml-eventgrid/eventgrid-RunStatusChanged.json')).nodes[0]?.facts.status).toBe('Failed');
    expect(normalizeRunStatus('Running')).toBe('Running');
    expect(normalizeRunStatus('cancelled')).toBe('Canceled');
    expect(normalizeRunStatus('Scheduled')).toBe('Scheduled'); // open enum: unknown values are kept
  });

  it('reads RunTags with a capital R like runTags', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-RunCompleted.json');
    const data = raw.data as Record<string, unknown>;
    delete data.runTags;
    data.RunTags = { team: 'risk' };
    expect(deltaOf(raw).nodes[0]?.facts.tags).toEqual({ team: 'risk' });
  });

  it('parses JSON held inside string properties (pipeline_spec) beside the original string', () => {
    const node = deltaOf(firstEvent('azureml-eventgrid/eventgrid-RunCompleted.json')).nodes[0];
    const props = node?.facts.properties as Record<string, string>;
    expect(typeof props.pipeline_spec).toBe('string');
    const parsed = (node?.facts.propertiesJson as Record<string, { objects: Array<{ class_name: string }> }>).pipeline_spec;
    expect(parsed?.objects.map((o) => o.class_name)).toEqual(['StandardScaler', 'LassoLars']);
  });

  it('links an AutoML child run to its parent run', () => {
    const delta = deltaOf(firstEvent('azureml-eventgrid/eventgrid-RunCompleted.json'));
    expect(parentRunId('AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5')).toBe('AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc');
    expect(delta.edges).toEqual([expect.objectContaining({ kind: 'parentOf' })]);
    expect(delta.edges[0]?.from.label).toBe('AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc');
  });

  it('records git provenance from run properties as a commit node (azureml.git.* and mlflow.source.git.*)', () => {
    const git = fixture<{ properties: Record<string, string> }>('azureml-eventgrid/runproperties-git.json').properties;
    const raw = firstEvent('azureml-eventgrid/eventgrid-RunCompleted.json');
    (raw.data as Record<string, unknown>).runProperties = git;
    const delta = deltaOf(raw);
    expect(delta.nodes[0]?.facts.git).toEqual({
      repository: 'git@github.com:azure/machinelearningnotebooks',
      branch: 'master',
      commit: '4d2b93784676893f8e346d5f0b9fb894a9cf0742',
      dirty: true,
    });
    const commit = delta.nodes.find((n) => n.ref.kind === 'commit');
    expect(commit?.ref.key).toBe('git:github.com/azure/machinelearningnotebooks@4d2b93784676893f8e346d5f0b9fb894a9cf0742');
    expect(delta.edges.find((e) => e.kind === 'commitOf')?.to.kind).toBe('job');

    // MLflow keys alone are enough.
    const mlflowOnly = Object.fromEntries(Object.entries(git).filter(([k]) => !k.startsWith('azureml.git')));
    expect(gitFromProperties(mlflowOnly)).toEqual({
      repository: 'git@github.com:azure/machinelearningnotebooks',
      branch: 'master',
      commit: '4d2b93784676893f8e346d5f0b9fb894a9cf0742',
    });
  });

  it('reads git properties in any case, the exact spelling first, blank values skipped', () => {
    expect(
      gitFromProperties({
        'AZUREML.GIT.REPOSITORY_URI': 'https://a/first',
        'azureml.git.repository_uri': '  ',
        'mlflow.source.git.repourl': 'https://a/second',
        'Mlflow.Source.Git.RepoUrl': 'https://a/third',
        'AzureML.Git.Branch': 'main',
        'azureml.git.DIRTY': 'False',
        other: 'x',
      }),
    ).toEqual({ repository: 'https://a/second', branch: 'main', dirty: false });
    expect(gitFromProperties({ 'azureml.git.commit': 'abc', 'AZUREML.GIT.COMMIT': 'def' })).toEqual({ commit: 'abc' });
    expect(gitFromProperties({ 'AZUREML.GIT.COMMIT': 'def', 'azureml.git.Commit': 'ghi' })).toEqual({ commit: 'def' });
    expect(gitFromProperties({ other: 'x' })).toBeUndefined();
  });

  it('refuses RunStatusChanged without a status', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-RunStatusChanged.json');
    delete (raw.data as Record<string, unknown>).runStatus;
    expect(issuesOf(raw)).toEqual([{ path: 'data.runStatus', message: expect.stringContaining('required') }]);
  });
});

describe('DatasetDriftDetected', () => {
  it('links the drift signal to its target and baseline datasets and keeps the coefficient as a number', () => {
    const delta = deltaOf(firstEvent('azureml-eventgrid/eventgrid-DatasetDriftDetected.json'));
    const drift = delta.nodes[0];
    expect(drift?.ref.kind).toBe('drift');
    expect(drift?.facts.coefficient).toBe(0.8350349068479208);
    expect(drift?.facts).toMatchObject({ monitorName: 'myDriftMonitor', windowStart: '2019-07-04T00:00:00+00:00' });
    expect(delta.edges.map((e) => [e.kind, e.from.label])).toEqual([
      ['driftTargetOf', 'd7e74d2e-c972-4266-b5fb-6c9c182d2a74'],
      ['driftBaselineOf', '3c56d136-0f64-4657-a0e8-5162089a88a3'],
    ]);
  });

  it('reads ids from singular (how-to) and plural (schema page) subjects, ignoring {} placeholders', () => {
    for (const subject of ['datadrift/mon-1/run/mon-1_1571590300380', 'datadrifts/mon-1/runs/mon-1_1571590300380']) {
      const raw = firstEvent('azureml-eventgrid/eventgrid-DatasetDriftDetected.json');
      raw.subject = subject;
      raw.data = { DriftCoefficient: 0.5 };
      expect(deltaOf(raw).nodes[0]?.facts).toMatchObject({ monitorId: 'mon-1', runId: 'mon-1_1571590300380' });
    }
    const raw = firstEvent('azureml-eventgrid/eventgrid-DatasetDriftDetected.json');
    raw.data = {};
    expect(issuesOf(raw).map((i) => i.path)).toEqual(expect.arrayContaining(['data.DataDriftId', 'data.RunId']));
  });
});

describe('events that are not projected or not valid', () => {
  it('the five docs examples share one id but are distinct events by content', () => {
    const hashes = new Set(SCHEMA_PAGE_TYPES.map((t) => contentHash(firstEvent(`azureml-eventgrid/eventgrid-${t}.json`))));
    const ids = new Set(SCHEMA_PAGE_TYPES.map((t) => firstEvent(`azureml-eventgrid/eventgrid-${t}.json`).id));
    expect(ids.size).toBe(1);
    expect(hashes.size).toBe(5);
  });

  it('refuses an Azure ML event whose topic is not a workspace', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    raw.topic = '/subscriptions/x/resourceGroups/y';
    expect(issuesOf(raw)).toEqual([{ path: 'topic', message: expect.stringContaining('workspace') }]);
  });

  it('refuses a CloudEvent without time for an Azure ML type', () => {
    const raw = firstEvent('azureml-eventgrid/cloudevents-ModelRegistered.json');
    delete raw.time;
    expect(issuesOf(raw)).toEqual([{ path: 'time', message: expect.stringContaining('required') }]);
  });

  it('refuses data that is not an object', () => {
    const raw = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    raw.data = 'oops';
    expect(issuesOf(raw)).toEqual([{ path: 'data', message: 'expected an object' }]);
  });

  it('keys are matched whatever the workspace spelling, so upper-cased ids from logs meet the same nodes', () => {
    const a = firstEvent('azureml-eventgrid/eventgrid-ModelRegistered.json');
    a.topic = WS;
    const b = structuredClone(a);
    b.topic = WS.toUpperCase();
    expect(deltaOf(a).nodes[0]?.ref.key).toBe(deltaOf(b).nodes[0]?.ref.key);
  });
});
