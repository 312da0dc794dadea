import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../shared/ingest/normalize.js';
import { datasetNode } from '../../../shared/ingest/openlineage/datasets.js';
import { normalizeOpenLineageEvent, openLineageJob, openLineageRun } from '../../../shared/ingest/openlineage/events.js';
import { checkEvent, checkFacet } from '../../../shared/ingest/openlineage/schema.js';
import { namedResource, parseWorkspaceId, storageLocation, versionedAsset } from '../../../shared/graph/keys.js';
import type { GraphDelta } from '../../../shared/graph/model.js';
import { resolveAssetRef } from '../../../shared/ingest/rest/assetRefs.js';
import { fixture, fixtureFiles, fixtureText, WS } from '../../helpers/fixtures.js';
import { ROOT } from '../../helpers/localHost.js';

const EVENTS = fixtureFiles('openlineage', /^openlineage-(RunEvent|DatasetEvent|JobEvent|spec-tests)-?.*\.json$/);
const FACET_SCHEMAS = fixtureFiles('openlineage', /^openlineage-facet-[A-Z].*\.json$/);
const FACET_EXAMPLES = fixtureFiles('openlineage', /^openlineage-facet-example-.*\.json$/);
const ev = (file: string) => fixture<Record<string, unknown>>(`openlineage/${file}`);
const ok = (raw: unknown) => {
  const r = normalizeOpenLineageEvent(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r;
};
const edges = (d: GraphDelta) => d.edges.map((e) => `${e.from.label} -${e.kind}-> ${e.to.label}`).sort();

describe('the spec the app validates against', () => {
  it('is a byte-for-byte copy of the fixtures from the OpenLineage repository (shared/ingest/openlineage/spec/README.md)', () => {
    const copies: Array<[string, string]> = [['OpenLineage.json', 'openlineage-spec-OpenLineage.json']];
    for (const f of [
      'ParentRunFacet',
      'SchemaDatasetFacet',
      'DatasetVersionDatasetFacet',
      'ColumnLineageDatasetFacet',
      'DataQualityMetricsInputDatasetFacet',
      'DataQualityAssertionsDatasetFacet',
    ])
      copies.push([`facets/${f}.json`, `openlineage-facet-${f}.json`]);
    for (const [copy, source] of copies)
      expect(readFileSync(join(ROOT, 'shared/ingest/openlineage/spec', copy), 'utf8'), copy).toBe(fixtureText(`openlineage/${source}`));
  });
});

describe('every OpenLineage event fixture', () => {
  it('finds the five client and proxy events and the spec test event', () => {
    expect(EVENTS).toHaveLength(6);
  });

  it.each(EVENTS)('%s is accepted and projected', (file) => {
    const r = ok(fixture(file));
    expect(r.delta.nodes.length).toBeGreaterThan(0);
    expect(r.time).toBe(fixture<{ eventTime: string }>(file).eventTime);
  });

  it('reads the three client examples without a UTC offset as UTC, says so, and keeps the time as sent', () => {
    const noOffset = EVENTS.filter((f) => !/[zZ]|[+-]\d\d:?\d\d$/.test(fixture<{ eventTime: string }>(f).eventTime));
    expect(noOffset.map((f) => f.replace('openlineage/', ''))).toEqual([
      'openlineage-DatasetEvent.json',
      'openlineage-JobEvent.json',
      'openlineage-RunEvent-start.json',
    ]);
    for (const f of noOffset) {
      const r = ok(fixture(f));
      expect(r.notes).toEqual(['eventTime 2021-11-03T10:53:52.427343 has no UTC offset; read as UTC']);
      expect(r.time).toBe('2021-11-03T10:53:52.427343');
      const normalized = normalize('openlineage', fixture(f), `sha256:${'0'.repeat(64)}`);
      expect(normalized.status).toBe('project');
    }
    // A time that is not a time at all is still refused.
    expect(checkEvent({ ...ev('openlineage-RunEvent-start.json'), eventTime: '2021-11-03 10:53' })).toMatchObject({
      ok: false,
      issues: [{ path: 'eventTime', message: expect.stringContaining('date-time') }],
    });
  });

  it('tells the three events apart as the spec does, including the spec test event that carries a dataset beside its run', () => {
    expect(EVENTS.map((f) => [f.replace('openlineage/', ''), ok(fixture(f)).kind])).toEqual([
      ['openlineage-DatasetEvent.json', 'DatasetEvent'],
      ['openlineage-JobEvent.json', 'JobEvent'],
      ['openlineage-RunEvent-complete-full-fluentd.json', 'RunEvent'],
      ['openlineage-RunEvent-complete.json', 'RunEvent'],
      ['openlineage-RunEvent-start.json', 'RunEvent'],
      ['openlineage-spec-tests-example_full_event.json', 'RunEvent'],
    ]);
  });
});

describe('every OpenLineage facet fixture', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(fixture('openlineage/openlineage-spec-OpenLineage.json'));
  const ids = FACET_SCHEMAS.map((f) => {
    const schema = fixture<{ $id: string }>(f);
    ajv.addSchema(schema);
    return [f.replace(/^openlineage\/openlineage-facet-|\.json$/g, ''), schema.$id] as const;
  });
  const idOf = new Map(ids);

  it('compiles every facet schema of the spec against the event schema it refers to', () => {
    expect(ids.length).toBe(30);
    for (const [name, id] of ids) expect(ajv.getSchema(id), name).toBeTypeOf('function');
  });

  it.each(FACET_EXAMPLES)('%s matches its facet schema', (file) => {
    const name = /facet-example-(\w+)-\d+\.json$/.exec(file)?.[1] as string;
    const validate = ajv.getSchema(idOf.get(name) as string)!;
    expect(validate(fixture(file)), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(FACET_EXAMPLES.filter((f) => /ParentRun|SchemaDataset|DatasetVersion|DataQuality/.test(f)))(
    '%s is read by the projection (checkFacet)',
    (file) => {
      const [name, facet] = Object.entries(fixture<Record<string, unknown>>(file))[0] as [string, unknown];
      expect(checkFacet(name as 'parent', facet)).toEqual([]);
    },
  );
});

describe('projection', () => {
  it('a run: job and run nodes, the run below its job and below the parent run the facet names, datasets in and out', () => {
    const r = ok(ev('openlineage-RunEvent-complete.json'));
    expect(r.eventType).toBe('OpenLineage RunEvent COMPLETE');
    const run = openLineageRun('my-scheduler-namespace', 'myjob.mytask', 'ea041791-68bc-4ae1-bd89-4c8106a157e4');
    const parent = openLineageRun('my-scheduler-namespace', 'myjob.mytask', '3f5e83fa-3480-44ff-99c5-ff943904e5e8');
    expect(edges(r.delta)).toEqual(
      [
        `instance.schema.table -inputOf-> ${run.label}`,
        `myjob.mytask -parentOf-> ${parent.label}`,
        `myjob.mytask -parentOf-> ${run.label}`,
        `${parent.label} -parentOf-> ${run.label}`,
        `${run.label} -produced-> instance.schema.table`,
      ].sort(),
    );
    const runNode = r.delta.nodes.find((n) => n.ref.key === run.key)!;
    expect(runNode.facts).toMatchObject({
      runId: 'ea041791-68bc-4ae1-bd89-4c8106a157e4',
      status: 'Completed',
      'facet.nominalTime': expect.any(Object),
    });
    expect(runNode.series).toEqual({ eventType: 'COMPLETE', status: 'Completed' });
    expect(r.delta.nodes.find((n) => n.ref.key === openLineageJob('my-scheduler-namespace', 'myjob.mytask').key)?.facts).toMatchObject({
      'facet.documentation': { description: 'string' },
    });
  });

  it('keeps every facet as sent, unknown and custom ones included, and reads schema, version, column lineage and data quality', () => {
    const r = ok(ev('openlineage-RunEvent-complete-full-fluentd.json'));
    const dataset = r.delta.nodes.find((n) => n.ref.kind === 'dataset')!;
    expect(
      Object.keys(dataset.facts)
        .filter((k) => k.startsWith('facet.'))
        .sort(),
    ).toEqual([
      'facet.additionalProp1',
      'facet.additionalProp2',
      'facet.additionalProp3',
      'facet.dataSource',
      'facet.documentation',
      'facet.schema',
    ]);
    expect(dataset.facts.schema).toEqual([expect.objectContaining({ name: expect.any(String), type: expect.any(String) })]);
    const input = r.delta.edges.find((e) => e.kind === 'inputOf')!;
    // The fluentd example's metrics lack the columnMetrics their schema requires: kept as sent, not read.
    expect(input.facts?.['facet.dataQualityMetrics']).toBeDefined();
    expect(input.facts?.facetIssues).toEqual({ dataQualityMetrics: [{ path: 'columnMetrics', message: 'required' }] });
    expect(input.facts?.dataQuality).toEqual({ assertions: expect.arrayContaining([expect.objectContaining({ success: true })]) });
    const output = r.delta.edges.find((e) => e.kind === 'produced')!;
    expect(output.facts?.['facet.outputStatistics']).toMatchObject({ rowCount: expect.any(Number) });

    const versioned = structuredClone(ev('openlineage-RunEvent-complete.json'));
    const out = (versioned.outputs as Array<{ facets: Record<string, unknown> }>)[0]!;
    Object.assign(out.facets, fixture<Record<string, unknown>>('openlineage/openlineage-facet-example-DatasetVersionDatasetFacet-1.json'));
    out.facets.columnLineage = {
      _producer: 'https://example.com/spark',
      _schemaURL: 'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json',
      fields: { total: { inputFields: [{ namespace: 'n', name: 'orders', field: 'amount' }] } },
    };
    out.facets.myCompany_custom = { _producer: 'https://example.com', _schemaURL: 'https://example.com/custom.json', anything: [1, 2] };
    const facts = ok(versioned)
      .delta.nodes.filter((n) => n.ref.label === 'instance.schema.table')
      .at(-1)!.facts;
    expect(facts).toMatchObject({
      version: '2',
      columnLineage: { total: { inputFields: [{ namespace: 'n', name: 'orders', field: 'amount' }] } },
      'facet.myCompany_custom': { anything: [1, 2] },
    });
  });

  it('a facet its producer deletes is recorded as null', () => {
    const e = structuredClone(ev('openlineage-DatasetEvent.json'));
    ((e.dataset as { facets: Record<string, Record<string, unknown>> }).facets.schema as Record<string, unknown>)._deleted = true;
    expect(ok(e).delta.nodes[0]?.facts['facet.schema']).toBeNull();
  });

  it('a job event links its datasets to the job; a dataset event only describes its dataset', () => {
    expect(edges(ok(ev('openlineage-JobEvent.json')).delta)).toEqual(['dataset_a -inputOf-> name', 'name -produced-> dataset_b']);
    const d = ok(ev('openlineage-DatasetEvent.json')).delta;
    expect(d.edges).toEqual([]);
    expect(d.nodes.map((n) => n.ref.key)).toEqual(['openlineage:openlineage/name']);
  });
});

describe('datasets are matched by URI', () => {
  const ws = parseWorkspaceId(WS)!;
  const dsPath = storageLocation(namedResource(ws, 'datastores', 'workspaceblobstore'), 'credit/2024');

  it('every spelling of an Azure Storage path is one storage node, the one a data asset location is', () => {
    const key = 'https://stcredit.blob.core.windows.net/raw/credit/2024';
    for (const [namespace, name] of [
      ['abfss://raw@stcredit.dfs.core.windows.net', 'credit/2024'],
      ['wasbs://raw@stcredit.blob.core.windows.net', '/credit/2024/'],
      ['https://stcredit.blob.core.windows.net', 'raw/credit/2024'],
      ['https://stcredit.dfs.core.windows.net', 'raw/credit/2024'],
      ['spark', 'abfss://raw@stcredit.dfs.core.windows.net/credit/2024'],
    ])
      expect(datasetNode(namespace!, name!).key, `${namespace} ${name}`).toBe(key);
  });

  it('azureml:// datastore paths that name their workspace are the datastore path node Azure ML jobs and assets use', () => {
    const uri = `azureml://subscriptions/${ws.subscription}/resourcegroups/${ws.resourceGroup}/workspaces/${ws.name}/datastores/workspaceblobstore/paths/credit/2024`;
    expect(resolveAssetRef(uri, ws, 'data').location?.key).toBe(dsPath.key);
    expect(datasetNode(uri.slice(0, uri.indexOf('/paths/')), uri.slice(uri.indexOf('/paths/') + 1)).key).toBe(dsPath.key);
    // The short form names no workspace: a URI of its own.
    expect(datasetNode('azureml://datastores/workspaceblobstore', 'paths/credit/2024')).toMatchObject({
      kind: 'storage',
      key: 'azureml://datastores/workspaceblobstore/paths/credit/2024',
    });
  });

  it('Azure ML asset ids are those assets; other storage is storage; the rest OpenLineage datasets', () => {
    expect(datasetNode('azureml', `azureml:${WS}/data/loans/versions/3`).key).toBe(versionedAsset(ws, 'data', 'loans', '3').key);
    expect(datasetNode('azureml', 'azureml://registries/shared/data/bureau/versions/2')).toMatchObject({ kind: 'data', workspace: null });
    expect(datasetNode('s3://bucket', 'raw/loans')).toMatchObject({ kind: 'storage', key: 's3://bucket/raw/loans' });
    expect(datasetNode('postgres://db.internal:5432', 'lending.public.loans')).toMatchObject({
      kind: 'dataset',
      key: 'openlineage:postgres://db.internal:5432/lending.public.loans',
      label: 'lending.public.loans',
    });
  });
});

describe('malformed events are refused naming the field', () => {
  const start = () => structuredClone(ev('openlineage-RunEvent-complete.json'));
  const refused = (raw: unknown) => {
    const r = normalizeOpenLineageEvent(raw);
    if (r.ok) throw new Error('accepted');
    return r.issues;
  };

  it.each([
    ['a run without runId', (e: Record<string, unknown>) => delete (e.run as Record<string, unknown>).runId, 'run.runId', 'required'],
    [
      'a runId that is not a UUID',
      (e: Record<string, unknown>) => ((e.run as Record<string, unknown>).runId = 'run-1'),
      'run.runId',
      'uuid',
    ],
    ['an unknown eventType', (e: Record<string, unknown>) => (e.eventType = 'DONE'), 'eventType', 'START'],
    ['no producer', (e: Record<string, unknown>) => delete e.producer, 'producer', 'required'],
    ['a job without a name', (e: Record<string, unknown>) => delete (e.job as Record<string, unknown>).name, 'job.name', 'required'],
    [
      'an input without a namespace',
      (e: Record<string, unknown>) => delete (e.inputs as Array<Record<string, unknown>>)[0]!.namespace,
      'inputs.0.namespace',
      'required',
    ],
    [
      'a facet without _producer',
      (e: Record<string, unknown>) => delete (e.job as { facets: Record<string, Record<string, unknown>> }).facets.documentation!._producer,
      'job.facets.documentation._producer',
      'required',
    ],
    ['a run without job', (e: Record<string, unknown>) => delete e.job, 'job', 'required'],
  ])('%s', (_name, change, path, message) => {
    const e = start();
    change(e);
    expect(refused(e)).toEqual(expect.arrayContaining([{ path, message: expect.stringContaining(message) }]));
  });

  it('refuses what is not an event object', () => {
    expect(refused([1])).toEqual([{ path: '(root)', message: expect.any(String) }]);
    expect(refused({})).toEqual(expect.arrayContaining([{ path: 'eventTime', message: 'required' }]));
    const refusedNormalized = normalize('openlineage', { eventTime: 'x' }, `sha256:${'ab'.repeat(32)}`);
    expect(refusedNormalized).toMatchObject({
      status: 'invalid',
      eventId: `openlineage:${'ab'.repeat(16)}`,
      reason: expect.stringContaining('eventTime'),
    });
  });
});
