import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeId } from '../../shared/graph/keys.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { captureOpenLineage } from '../../shared/usecases/captureOpenLineage.js';
import { createCosmosClient } from '../../shared/store/cosmosClient.js';
import { buildTlog } from '../../shared/tlogServices.js';
import { inclusionProofs } from '../../shared/usecases/proveEvents.js';
import { sequenceEvents } from '../../shared/usecases/sequenceEvents.js';
import { replay } from '../../shared/usecases/replay.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { fixture, WS } from '../helpers/fixtures.js';
import { graphSnapshot } from '../helpers/graph.js';
import { freshServices } from '../helpers/stores.js';

/**
 * OpenLineage events through capture with real stores: any order and any duplicates give the same
 * graph (the REST observation of the data asset among them, so the join with Azure ML is part of
 * it), refused events are dead-lettered with their reason and replayable.
 */
const FIXED_NOW = () => new Date('2024-06-01T00:00:00.000Z');
const RUN = '3b1f6a2c-5d4e-4f80-9a1b-2c3d4e5f6a7b';
const PARENT = '7c9d0e1f-2a3b-4c5d-8e6f-7a8b9c0d1e2f';
const producer = 'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/integration/spark';
const facet = (body: Record<string, unknown>) => ({
  _producer: producer,
  _schemaURL: 'https://openlineage.io/spec/facets/x.json',
  ...body,
});
const OUT = { namespace: 'abfss://landing@stcredit.dfs.core.windows.net', name: 'loans/2024' };

function runEvent(eventType: string, eventTime: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType,
    eventTime,
    producer,
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: RUN, facets: { parent: facet({ run: { runId: PARENT }, job: { namespace: 'airflow', name: 'loans.daily' } }) } },
    job: { namespace: 'spark', name: 'loans_snapshot' },
    inputs: [{ namespace: 'postgres://db:5432', name: 'lending.public.loans' }],
    outputs: [{ ...OUT, facets: { version: facet({ datasetVersion: eventTime }) } }],
    ...extra,
  };
}

/** The data asset's REST observation, with the datastore the enricher fetched beside it. */
const dataAsset = {
  kind: 'data',
  armId: `${WS}/data/loans/versions/7`,
  apiVersion: '2025-12-01',
  status: 200,
  resource: {
    id: `${WS}/data/loans/versions/7`,
    name: '7',
    properties: { dataType: 'uri_folder', dataUri: `azureml://datastores/landing/paths/loans/2024/` },
    systemData: { createdAt: '2024-05-02T00:00:00Z', lastModifiedAt: '2024-05-02T00:00:00Z' },
  },
  datastores: [
    {
      armId: `${WS}/datastores/landing`,
      resource: {
        properties: { datastoreType: 'AzureDataLakeGen2', accountName: 'stcredit', filesystem: 'landing', endpoint: 'core.windows.net' },
      },
    },
  ],
};

const STREAM: Array<{ channel: string; body: unknown }> = [
  { channel: 'openlineage', body: runEvent('START', '2024-05-01T10:00:00Z') },
  { channel: 'openlineage', body: runEvent('RUNNING', '2024-05-01T10:05:00.123456Z') },
  { channel: 'openlineage', body: runEvent('COMPLETE', '2024-05-01T10:20:00+00:00') },
  { channel: 'openlineage', body: fixture('openlineage/openlineage-RunEvent-complete.json') },
  { channel: 'openlineage', body: fixture('openlineage/openlineage-JobEvent.json') },
  { channel: 'openlineage', body: fixture('openlineage/openlineage-DatasetEvent.json') },
  { channel: 'openlineage', body: { ...runEvent('FAIL', 'not a time') } }, // dead-lettered, must not disturb the graph
  { channel: 'rest', body: dataAsset },
];

async function graphOf(stream: typeof STREAM, concurrent: boolean): Promise<string[]> {
  const services = await freshServices({}, FIXED_NOW);
  const capture = (e: (typeof STREAM)[number]) =>
    captureEvent(services.capture, structuredClone(e.body), { channel: e.channel, followUp: false });
  if (concurrent) await Promise.all(stream.map(capture));
  else for (const e of stream) await capture(e);
  return graphSnapshot(services);
}

describe('OpenLineage: order and duplicates do not change the graph', () => {
  it('any permutation with duplicates, sequential or concurrent, gives the reference graph', async () => {
    const reference = await graphOf(STREAM, false);
    expect(reference.length).toBeGreaterThan(20);
    // The run ends Completed whatever order its START, RUNNING and COMPLETE arrive in.
    expect(
      reference.some((d) => d.includes('"status":{"eventTime":"2024-05-01T10:20:00+00:00"') && d.includes('"value":"Completed"')),
    ).toBe(true);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(
          STREAM.map((_, i) => i),
          { minLength: STREAM.length, maxLength: STREAM.length },
        ),
        fc.array(fc.integer({ min: 0, max: STREAM.length - 1 }), { maxLength: 5 }),
        fc.boolean(),
        async (order, duplicates, concurrent) => {
          const stream = [...order, ...duplicates].map((i) => STREAM[i] as (typeof STREAM)[number]);
          expect(await graphOf(stream, concurrent)).toEqual(reference);
        },
      ),
      { numRuns: 10 },
    );
  }, 180_000); // eleven fresh databases; the machine is shared, so room beyond the project's 60 s

  it('the Spark output and the data asset on the same files meet: the run is upstream of the asset', async () => {
    const services = await freshServices({}, FIXED_NOW);
    for (const e of STREAM) await captureEvent(services.capture, structuredClone(e.body), { channel: e.channel, followUp: false });
    const answer = await lineage(services.graph, { ref: `${WS}/data/loans/versions/7`, direction: 'upstream', depth: 5, maxNodes: 100 });
    const labels = answer.nodes.map((n) => `${n.kind} ${n.label}`);
    expect(labels).toEqual(
      expect.arrayContaining([
        'storage https://stcredit.blob.core.windows.net/landing/loans/2024',
        'storage landing/loans/2024',
        'job loans_snapshot (run 3b1f6a2c)',
        'job loans_snapshot',
        'job loans.daily (run 7c9d0e1f)',
        'job loans.daily',
        'dataset lending.public.loans',
      ]),
    );
  });
});

describe('OpenLineage: refused events', () => {
  it('are dead-lettered with the fields named, kept in the raw log, and replayable', async () => {
    const services = await freshServices({}, FIXED_NOW);
    const bad = runEvent('COMPLETE', '2024-05-01T10:20:00Z');
    delete (bad.job as Record<string, unknown>).namespace;
    const report = await captureOpenLineage(services.capture, [runEvent('START', '2024-05-01T10:00:00Z'), bad]);
    expect(report).toMatchObject({ received: 2, projected: 1, deadLettered: 1 });
    expect(report.events[1]).toMatchObject({ status: 'dead-lettered', issues: [{ path: 'job.namespace', message: 'required' }] });
    const letters = [];
    for await (const l of services.deadLetters.pending()) letters.push(l.letter);
    expect(letters).toEqual([
      expect.objectContaining({
        channel: 'openlineage',
        hash: report.events[1]?.hash,
        reason: expect.stringContaining('job.namespace: required'),
      }),
    ]);
    const logged = await services.eventLog.get((report.events[1]?.hash as string).replace('sha256:', ''));
    expect(logged?.channel).toBe('openlineage');

    // A letter whose content goes through now (as after a fix) is resolved by replay and lands.
    const good = runEvent('COMPLETE', '2024-05-01T10:20:00Z');
    await services.deadLetters.put({
      hash: 'sha256:replayed',
      channel: 'openlineage',
      receivedAt: '2024-05-01T10:21:00Z',
      reason: 'refused by an earlier version',
      issues: [],
      body: good,
    });
    const replayed = await replay(services.capture, { events: false });
    expect(replayed.deadLetters).toEqual({ retried: 2, resolved: 1, stillFailing: 1 });
    const run = await services.graph.nodes([nodeId('job', `openlineage:spark/loans_snapshot/runs/${RUN}`)]);
    expect([...run.values()][0]?.facts.status?.value).toBe('Completed');
  });
});

describe('OpenLineage: the evidence log', () => {
  const keys = mkdtempSync(join(tmpdir(), 'openlineage-tlog-'));
  afterAll(() => rmSync(keys, { recursive: true, force: true }));

  it('every OpenLineage event, a refused one too, becomes a leaf of the tamper-evident log with an inclusion proof', async () => {
    const suffix = randomUUID().slice(0, 8);
    const services = await freshServices({
      TLOG_LOCAL_KEY_FILE: join(keys, `${suffix}.pem`),
      TLOG_CHECKPOINT_CONTAINER: `checkpoints-${suffix}`,
    });
    const client = await createCosmosClient(services.settings);
    const blobs = BlobServiceClient.fromConnectionString(services.settings.STORAGE_CONNECTION_STRING as string);
    const tlog = buildTlog(services.settings, client, blobs, services.meter, () => Promise.reject(new Error('no Key Vault here')));
    await tlog.store.ensure();

    const bad = runEvent('COMPLETE', '2024-05-01T10:20:00Z');
    delete (bad.job as Record<string, unknown>).namespace;
    const report = await captureOpenLineage(services.capture, [runEvent('START', '2024-05-01T10:00:00Z'), bad]);
    expect(report).toMatchObject({ projected: 1, deadLettered: 1 });
    const hashes = report.events.map((e) => e.hash);

    expect(await sequenceEvents(tlog.sequencer)).toMatchObject({ status: 'sequenced', sequenced: 2, size: 2 });
    const { proofs, notSequenced } = await inclusionProofs(tlog.store, hashes);
    expect(notSequenced).toEqual([]);
    expect(hashes.map((h) => proofs.get(h.replace('sha256:', ''))?.leafIndex).sort()).toEqual([0, 1]);
    client.dispose();
  });
});
