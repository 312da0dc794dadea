import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_IDS } from '../../infra/local/azureMlStandIn/index.js';
import { spawnHost, ROOT, type SpawnedHost } from '../helpers/localHost.js';
import { until } from '../helpers/until.js';
import { endpointWrite } from './api/harness.js';

/**
 * OpenLineage through the local host as a client's HTTP transport sends it: a Spark job reads raw
 * applications and writes the folder the sample workspace's data asset credit-applications:3
 * points at (through its datastore, by `abfss://`); an Airflow DAG run started it. Q1 upstream of
 * the model trained on that asset reaches the Spark run and its input; Q5 impact of the Spark
 * input reaches the model, its deployment and endpoint.
 */
const KEY = 'ol-test-key-3f9c';
const ADMIN_KEY = 'ol-test-admin-7d21';
const events = JSON.parse(readFileSync(join(ROOT, 'infra', 'local', 'sample-events.json'), 'utf8')) as unknown[];
const ASSET_FOLDER = `abfss://${SAMPLE_IDS.blobContainer}@${SAMPLE_IDS.storageAccount}.dfs.core.windows.net`;
const RAW = 'abfss://raw@stcreditlanding01.dfs.core.windows.net';
const SPARK_RUN = '0190c2a1-7d3e-7b4f-9a61-2c5d8e0f1a23';
const DAG_RUN = '0190c29f-1b2c-7d4e-8f50-6a7b8c9d0e1f';

function sparkEvent(eventType: 'START' | 'COMPLETE', eventTime: string): Record<string, unknown> {
  const producer = 'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/integration/spark';
  const facet = (schema: string, body: Record<string, unknown>) => ({ _producer: producer, _schemaURL: schema, ...body });
  return {
    eventType,
    eventTime,
    producer,
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: {
      runId: SPARK_RUN,
      facets: {
        parent: facet('https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet', {
          run: { runId: DAG_RUN },
          job: { namespace: 'airflow-prod', name: 'credit_monthly.prepare_applications' },
        }),
        spark_version: facet('https://example.com/spark_version.json', { 'spark-version': '3.5.1' }),
      },
    },
    job: { namespace: 'spark-credit', name: 'credit_applications_snapshot.execute_insert_into_hadoop_fs_relation_command' },
    inputs: [{ namespace: RAW, name: 'applications/2024-04' }],
    outputs: [
      {
        namespace: ASSET_FOLDER,
        name: 'credit-applications/2024-04-30',
        facets: {
          schema: facet('https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet', {
            fields: [
              { name: 'application_id', type: 'string' },
              { name: 'defaulted_12m', type: 'boolean' },
            ],
          }),
          version: facet('https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet', {
            datasetVersion: '2024-04-30T17:40:00Z',
          }),
        },
        outputFacets: {
          outputStatistics: facet('https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json', { rowCount: 182344 }),
        },
      },
    ],
  };
}

let host: SpawnedHost;
beforeAll(async () => {
  host = await spawnHost({ LOCAL_FUNCTION_KEY: KEY, LOCAL_ADMIN_KEY: ADMIN_KEY });
});
afterAll(async () => {
  await host?.stop();
});

const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }, query = '') =>
  fetch(`${host.url}/api/v1/lineage${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const get = async (path: string) => {
  const res = await fetch(`${host.url}${path}`, { headers: { 'x-functions-key': KEY } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
type Node = { id: string; kind: string; label: string; key: string; properties: Record<string, unknown> };
type Edge = { kind: string; from: string; to: string };

describe('OpenLineage HTTP transport -> POST /api/v1/lineage', () => {
  it('accepts the key the transport sends (Bearer), and the function key headers; refuses none or a wrong one', async () => {
    const event = sparkEvent('START', '2024-04-30T17:30:00.000Z');
    expect((await post(event, {})).status).toBe(401);
    expect((await post(event, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(event, { authorization: `Basic ${KEY}` })).status).toBe(401);
    const first = await post(event);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      received: 1,
      projected: 1,
      deadLettered: 0,
      events: [{ status: 'projected', duplicate: false }],
    });
    const again = await post(event, { 'x-functions-key': KEY });
    expect(await again.json()).toMatchObject({ received: 1, duplicates: 1 });
    expect((await post(event, {}, `?code=${KEY}`)).status).toBe(201);
  });

  it('a Spark job that wrote the files of an Azure ML data asset shows upstream of the model trained on it (Q1)', async () => {
    // With keys on, the webhook takes the Event Grid system key or the admin key, as in Azure.
    const grid = await fetch(`${host.url}/runtime/webhooks/eventgrid?functionName=captureEventGrid&code=${ADMIN_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify(events),
    });
    expect(grid.status).toBe(202);
    // The Activity Log's endpoint write brings the endpoint, its deployments and what they serve.
    const hub = await fetch(`${host.url}/admin/functions/captureEventHub`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': ADMIN_KEY },
      body: JSON.stringify({ input: { records: [endpointWrite('2024-05-02T07:15:01Z')] } }),
    });
    expect(hub.status).toBe(202);
    // An array, as a client batching events sends it; COMPLETE carries the outputs.
    const res = await post([sparkEvent('COMPLETE', '2024-04-30T17:44:10.000Z')]);
    expect(res.status).toBe(201);

    const path = `/api/lineage?${new URLSearchParams({ ref: SAMPLE_IDS.models.v3, direction: 'upstream', depth: '12', limit: '500' }).toString()}`;
    const answer = await until(
      "the model's upstream to reach the Spark job's input",
      () => get(path),
      (r) =>
        ((r.body.nodes ?? []) as Node[]).some((n) => n.key === 'https://stcreditlanding01.blob.core.windows.net/raw/applications/2024-04'),
    );
    const nodes = answer.body.nodes as Node[];
    const label = Object.fromEntries(nodes.map((n) => [n.id, `${n.kind} ${n.label}`]));
    const edges = (answer.body.edges as Edge[]).map((e) => `${label[e.from]} -${e.kind}-> ${label[e.to]}`);
    const assetFiles = `https://${SAMPLE_IDS.storageAccount}.blob.core.windows.net/${SAMPLE_IDS.blobContainer}/credit-applications/2024-04-30`;
    const sparkRun = 'job credit_applications_snapshot.execute_insert_into_hadoop_fs_relation_command (run 0190c2a1)';
    expect(edges).toEqual(
      expect.arrayContaining([
        'data credit-applications:3 -inputOf-> job credit-prep-20240501',
        `storage ${assetFiles} -locationOf-> data credit-applications:3`,
        `${sparkRun} -produced-> storage ${assetFiles}`,
        `storage https://stcreditlanding01.blob.core.windows.net/raw/applications/2024-04 -inputOf-> ${sparkRun}`,
        `job credit_monthly.prepare_applications (run 0190c29f) -parentOf-> ${sparkRun}`,
      ]),
    );
    const files = nodes.find((n) => n.key === assetFiles);
    expect(files?.properties).toMatchObject({
      version: '2024-04-30T17:40:00Z',
      schema: [expect.objectContaining({ name: 'application_id' }), expect.objectContaining({ name: 'defaulted_12m' })],
    });
    const run = nodes.find((n) => n.label.endsWith('(run 0190c2a1)'));
    expect(run?.properties).toMatchObject({ status: 'Completed', 'facet.spark_version': { 'spark-version': '3.5.1' } });
  });

  it("Q5: the impact of the Spark job's input reaches the model, its deployment and endpoint", async () => {
    const answer = await until(
      'the impact to reach the endpoint',
      () => get(`/api/impact?${new URLSearchParams({ ref: `${RAW}/applications/2024-04` }).toString()}`),
      (r) =>
        JSON.stringify(r.body.deployments ?? []).includes('credit-scoring/green') && ((r.body.endpoints ?? []) as unknown[]).length > 0,
    );
    // Labels as first spelled: the Activity Log upper-cases the endpoint's name.
    const labels = (key: string) => ((answer.body[key] ?? []) as Array<{ node: Node }>).map((i) => i.node.label.toLowerCase());
    expect(labels('models')).toContain('credit-default:3');
    expect(labels('deployments')).toContain('credit-scoring/green');
    expect(labels('endpoints')).toContain('credit-scoring');
    expect(labels('jobs')).toEqual(expect.arrayContaining(['credit-prep-20240501', 'credit-train-20240501']));
  });

  it('refuses a malformed event with 400 naming the field, dead-letters it, and still lands the valid events beside it', async () => {
    const bad = sparkEvent('COMPLETE', '2024-05-01T00:00:00Z');
    (bad.run as Record<string, unknown>).runId = 'not-a-uuid';
    delete bad.producer;
    const good = { ...sparkEvent('COMPLETE', '2024-05-01T00:00:00Z'), eventType: 'OTHER' };
    const res = await post([good, bad]);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as {
      code: string;
      detail: string;
      errors: Array<{ parameter: string }>;
      projected: number;
      deadLettered: number;
    };
    expect(problem.code).toBe('invalid-request');
    expect(problem.errors.map((e) => e.parameter).sort()).toEqual(['[1].producer', '[1].run.runId']);
    expect(problem).toMatchObject({ projected: 1, deadLettered: 1 });
    expect(problem.detail).toContain('run.runId');

    const single = await post({ eventTime: 'yesterday' });
    expect(single.status).toBe(400);
    expect(((await single.json()) as { errors: Array<{ parameter: string }> }).errors.map((e) => e.parameter)).toEqual(
      expect.arrayContaining(['eventTime', 'producer', 'schemaURL']),
    );
    const notJson = await fetch(`${host.url}/api/v1/lineage`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: '{' });
    expect(notJson.status).toBe(400);

    // Dead-lettered like any other source: replay retries the letters (still failing: their content is wrong).
    const replay = await fetch(`${host.url}/api/replay?wait=120`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': ADMIN_KEY },
      body: JSON.stringify({ events: false, deadLetters: true }),
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ deadLetters: { retried: 2, resolved: 0, stillFailing: 2 } });
  });
});
