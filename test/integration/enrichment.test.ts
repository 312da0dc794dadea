import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import type { Services } from '../../shared/composition.js';
import { ArmClient } from '../../shared/enrichment/armClient.js';
import { enrichmentMessageSchema, type EnrichmentMessage } from '../../shared/ingest/enrichmentMessage.js';
import { TransientStoreError } from '../../shared/errors.js';
import { nodeId, parseArmId } from '../../shared/graph/keys.js';
import { modelAt, lineageAsOf } from '../../shared/usecases/asOf.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { backfill, type BackfillState } from '../../shared/usecases/backfill.js';
import { graphSnapshot } from '../helpers/graph.js';
import { freshServices } from '../helpers/stores.js';

/** Enrichment and backfill against the REST stand-in, with its faults: real HTTP, real stores. */
const WS =
  '/subscriptions/6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
let standIn: AzureMlStandIn;
let services: Services;

beforeAll(async () => {
  standIn = await startAzureMlStandIn({ port: 0 });
});
afterAll(async () => {
  await standIn.stop();
});
beforeEach(async () => {
  standIn.reset();
  services = await freshServices({ AZUREML_MANAGEMENT_ENDPOINT: standIn.url });
});

const client = (extra: Partial<ConstructorParameters<typeof ArmClient>[0]> = {}) =>
  new ArmClient({ endpoint: standIn.url, apiVersion: '2025-12-01', baseDelayMs: 10, timeoutMs: 500, ...extra });
const idOf = (arm: string) => {
  const r = parseArmId(arm)!;
  return nodeId(r.kind, r.key);
};
const hits = (pattern: RegExp) => standIn.requests.filter((r) => pattern.test(r.path)).length;

describe('ArmClient against the stand-in', () => {
  it('waits for Retry-After on 429, then succeeds', async () => {
    standIn.faults.add({ path: /jobs\/credit-train-20240501$/, status: 429, retryAfterSeconds: 1, times: 1 });
    const started = Date.now();
    const res = await client().get(`${WS}/jobs/credit-train-20240501`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450); // jittered half of Retry-After at least
    expect(hits(/jobs\/credit-train-20240501$/)).toBe(2);
  });

  it('retries 500s and timeouts, and gives up with a transient error when they persist', async () => {
    standIn.faults.add({ path: /jobs\/credit-prep-20240501$/, status: 500, times: 2 });
    expect((await client().get(`${WS}/jobs/credit-prep-20240501`)).status).toBe(200);
    standIn.faults.add({ path: /jobs\/credit-prep-20240501$/, delayMs: 1500, times: 1 });
    expect((await client().get(`${WS}/jobs/credit-prep-20240501`)).status).toBe(200);
    standIn.faults.add({ path: /jobs\/credit-prep-20240501$/, status: 503, times: 'forever' });
    await expect(client({ maxAttempts: 3 }).get(`${WS}/jobs/credit-prep-20240501`)).rejects.toBeInstanceOf(TransientStoreError);
  });

  it('refuses to wait longer than allowed for Retry-After (the queue retries later instead)', async () => {
    standIn.faults.add({ path: /jobs\/credit-prep-20240501$/, status: 429, retryAfterSeconds: 600, times: 1 });
    await expect(client({ maxRetryAfterMs: 1000 }).get(`${WS}/jobs/credit-prep-20240501`)).rejects.toThrow(/Retry-After 600/);
  });

  it('follows nextLink to the end and fetches an asset version once per process', async () => {
    const arm = client();
    const versions = [];
    for await (const v of arm.list(`${WS}/models/credit-default/versions`)) versions.push((v as { name: string }).name);
    expect(versions.sort()).toEqual(['1', '2', '3']);
    expect(hits(/models\/credit-default\/versions$/)).toBeGreaterThanOrEqual(2); // paged (page size 2)
    await arm.get(`${WS}/models/credit-default/versions/3`);
    await arm.get(`${WS}/models/credit-default/versions/3`);
    expect(hits(/models\/credit-default\/versions\/3$/)).toBe(1);
  });
});

describe('enrichment', () => {
  it('a model version brings its producing job; a 404 records when it went missing', async () => {
    const outcome = await enrich(services.enrich, { kind: 'model', armId: `${WS}/models/credit-default/versions/3` });
    expect(outcome).toMatchObject({ status: 'projected', enqueued: 1 });
    const edges = await services.graph.edgesOf([idOf(`${WS}/models/credit-default/versions/3`)], 'in');
    expect(edges.map((e) => [e.kind, e.fromKey.split('/').pop()])).toEqual([['produced', 'credit-train-20240501']]);

    standIn.deleteResource(`${WS}/models/credit-default/versions/1`);
    await enrich(services.enrich, { kind: 'model', armId: `${WS}/models/credit-default/versions/1` });
    expect((await services.graph.readNode(idOf(`${WS}/models/credit-default/versions/1`)))?.facts.notFoundAt).toBeDefined();
  });

  it('an answer that did not change costs one Cosmos request, none in the process that captured it; a queue redelivery projects it again', async () => {
    const request: EnrichmentMessage = { kind: 'model', armId: `${WS}/models/credit-default/versions/3` };
    await enrich(services.enrich, request);
    const graph = await graphSnapshot(services);
    const unchanged = { status: 'projected', duplicate: true, enqueued: 0, writes: { created: 0, updated: 0, unchanged: 0 } };
    let before = services.meter.storeRequests;
    expect(await enrich(services.enrich, request)).toMatchObject(unchanged);
    expect(services.meter.storeRequests - before).toBe(0); // this process logged and projected it
    // Another process (no memory of it): the event log's conflict, nothing read or written in the graph.
    before = services.meter.storeRequests;
    expect(await enrich({ ...services.enrich, captured: undefined }, request)).toMatchObject(unchanged);
    expect(services.meter.storeRequests - before).toBe(1);
    const redelivered = await enrich(services.enrich, request, { redelivered: true });
    expect(redelivered).toMatchObject({ status: 'projected', duplicate: true, enqueued: 1 });
    expect(redelivered.status === 'projected' && redelivered.writes.unchanged).toBeGreaterThan(0);
    expect(await graphSnapshot(services)).toEqual(graph);
  });

  it('an endpoint records traffic shares and asks for its deployments', async () => {
    await enrich(services.enrich, { kind: 'endpoint', armId: `${WS}/onlineEndpoints/credit-scoring` });
    const serves = await services.graph.edgesOf([idOf(`${WS}/onlineEndpoints/credit-scoring`)], 'in');
    expect(Object.fromEntries(serves.map((e) => [e.fromKey.split('/').pop(), e.series.traffic?.map((t) => t.value)]))).toEqual({
      blue: [100],
      green: [0],
    });
  });

  it('following every link from an endpoint comes to rest: endpoints and deployments name each other', async () => {
    // Worked from the real queue (Azurite), as enrichResource does: the endpoint asks for its
    // deployments, each deployment for its endpoint and model, and so on. Unchanged answers are
    // the same evidence, so their links are not followed again; a hop bound backs that up.
    const queue = services.enrichmentQueue.client;
    await queue.clearMessages();
    await enrich(services.enrich, { kind: 'endpoint', armId: `${WS}/onlineEndpoints/credit-scoring` });
    let processed = 0;
    for (let round = 0; round < 100; round++) {
      const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 32 });
      if (batch.length === 0) break;
      for (const m of batch) {
        const request = JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as EnrichmentMessage;
        expect(request.hops).toBeGreaterThanOrEqual(1);
        await enrich(services.enrich, request, { redelivered: m.dequeueCount > 1 });
        await queue.deleteMessage(m.messageId, m.popReceipt);
        processed++;
      }
    }
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    expect(processed).toBeGreaterThan(2); // deployments, models, their jobs...
    expect(processed).toBeLessThan(60);
  });

  it('a model container (resource logs carry no version) fans out to every version', async () => {
    const outcome = await enrich(services.enrich, { kind: 'modelContainer', armId: `${WS}/models/credit-default` });
    expect(outcome).toEqual({ status: 'listed', followUps: 3 });
  });
});

describe('batch endpoints', () => {
  const BATCH = `${WS}/batchEndpoints/credit-batch`;
  const JOB = `${WS}/jobs/credit-batch-score-20240601`;
  /** Works the enrichment queue (Azurite) until it is empty, as enrichResource does. */
  const drain = async () => {
    const queue = services.enrichmentQueue.client;
    for (let round = 0; round < 50; round++) {
      const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 32 });
      if (batch.length === 0) return;
      for (const m of batch) {
        await enrich(services.enrich, JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as EnrichmentMessage);
        await queue.deleteMessage(m.messageId, m.popReceipt);
      }
    }
  };

  it('an Activity Log batch endpoint write enriches the endpoint and its deployments; as-of answers follow the default deployment over time', async () => {
    const record = {
      time: '2024-05-20T09:12:32Z',
      resourceId: BATCH.toUpperCase(),
      operationName: 'MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/BATCHENDPOINTS/WRITE',
      category: 'Administrative',
      resultType: 'Success',
      properties: {},
    };
    const captured = await captureMonitorMessage(services.capture, { records: [record] }, {});
    expect(captured).toMatchObject({ records: 1, projected: 1 });
    await drain();
    const at = (moment: string) => lineageAsOf(services.graph, { endpoint: BATCH, at: moment, depth: 1, maxNodes: 100 });
    const june = await at('2024-06-01T02:00:03Z');
    expect(june.serving.map((s) => [s.deployment.label, s.trafficShare, s.model?.label])).toEqual([
      ['credit-batch/monthly', 100, 'credit-default:2'],
    ]);

    // A second deployment becomes the default in July; June keeps its answer.
    const monthly = standIn.workspace.get(`${BATCH}/deployments/monthly`)!;
    standIn.workspace.put({
      ...monthly,
      id: `${BATCH}/deployments/monthly-v3`,
      name: 'monthly-v3',
      properties: { ...monthly.properties, model: { referenceType: 'Id', assetId: `${WS}/models/credit-default/versions/3` } },
      systemData: { ...monthly.systemData, lastModifiedAt: '2024-07-01T00:00:00.0000000+00:00' },
    });
    standIn.workspace.setDefaultDeployment('credit-batch', 'monthly-v3', '2024-07-01T00:00:00.0000000+00:00');
    await enrich(services.enrich, { kind: 'endpoint', armId: BATCH });
    await drain();
    const july = await at('2024-07-02T00:00:00Z');
    expect(july.serving.map((s) => [s.deployment.label, s.trafficShare, s.model?.label])).toEqual([
      ['credit-batch/monthly-v3', 100, 'credit-default:3'],
    ]);
    expect(july.notServing.map((d) => [d.deployment.label, d.trafficShare])).toEqual([['credit-batch/monthly', 0]]);
    expect((await at('2024-06-01T02:00:03Z')).serving[0]?.deployment.label).toBe('credit-batch/monthly');
  });

  it('a batch scoring job is linked to the deployment that ran it, and through it to the model version it scored with', async () => {
    await enrich(services.enrich, { kind: 'job', armId: JOB });
    await drain();
    const up = await lineage(services.graph, { ref: JOB, direction: 'upstream', depth: 2, maxNodes: 100 });
    expect(up.edges.find((e) => e.kind === 'deploymentOf')).toMatchObject({ from: idOf(`${BATCH}/deployments/monthly`), to: idOf(JOB) });
    expect(up.nodes.map((n) => n.label)).toEqual(
      expect.arrayContaining(['credit-batch/monthly', 'credit-default:2', 'credit-applications:3']),
    );
    const deployment = (await services.graph.readNode(idOf(`${BATCH}/deployments/monthly`)))!;
    const job = (await services.graph.readNode(idOf(JOB)))!;
    expect((await modelAt(services.graph, deployment, job.provenance[0]!.instant)).model?.label).toBe('credit-default:2');
  });
});

describe('backfill', () => {
  it('imports the workspace, resumes after an interruption, and changes nothing when run again', async () => {
    let saved: BackfillState | undefined;
    let items = 0;
    const first = await backfill(services.enrich, WS, {
      save: async (s) => {
        saved = structuredClone(s);
      },
      shouldStop: () => ++items > 6, // interrupt part-way
    });
    expect(first.finished).toBe(false);
    expect(saved?.finished).toBe(false);

    const resumed = await backfill(services.enrich, WS, { state: saved, save: async (s) => void (saved = structuredClone(s)) });
    expect(resumed.finished).toBe(true);
    // Counts include the page re-read on resume; what was imported is checked in the graph.
    expect(resumed.counts).toMatchObject({
      job: expect.any(Number),
      model: expect.any(Number),
      endpoint: expect.any(Number),
      deployment: expect.any(Number),
    });
    const once = await graphSnapshot(services);
    const asserted = (await services.graph.all())
      .filter((d) => d.docType === 'node' && !d.placeholder)
      .map((d) => (d.docType === 'node' ? `${d.kind} ${d.label}` : ''));
    expect(asserted).toEqual(
      expect.arrayContaining([
        'model credit-default:1',
        'model credit-default:2',
        'model credit-default:3',
        'data credit-applications:2',
        'data credit-applications:3',
        'job credit-pipeline-20240501',
        'job credit-prep-20240501',
        'job credit-train-20240501',
        'job credit-train-20240415',
        'deployment credit-scoring/blue',
        'deployment credit-scoring/green',
        'endpoint credit-scoring',
        'endpoint credit-batch',
        'deployment credit-batch/monthly',
        'job credit-batch-score-20240601',
        'environment lightgbm-env:5',
        'compute cpu-cluster',
      ]),
    );
    const kinds = new Set(
      (await services.graph.all()).filter((d) => d.docType === 'node').map((d) => (d.docType === 'node' ? d.kind : '')),
    );
    expect([...kinds]).toEqual(
      expect.arrayContaining(['job', 'model', 'data', 'environment', 'code', 'compute', 'endpoint', 'deployment', 'commit', 'storage']),
    );

    await backfill(services.enrich, WS, { save: async () => undefined });
    expect(await graphSnapshot(services)).toEqual(once);
  });
});

describe('hostile resource names never reach the REST API (hole 6)', () => {
  const hostile = [
    `${WS}/models/a/../../../../providers/Microsoft.Authorization/roleAssignments/versions/1`,
    `${WS}/models/m?api-version=2015-01-01&x=/versions/1`,
    `${WS}/models/m#frag/versions/1`,
    `${WS}/models/m%2F..%2Fx/versions/1`,
    `${WS}/jobs/a\\..\\b`,
  ];

  it.each(hostile)('an enrichment request for %s is refused with a reason, before any request', (armId) => {
    const parsed = enrichmentMessageSchema.safeParse({ kind: armId.includes('/jobs/') ? 'job' : 'model', armId });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/not a safe ARM id/);
  });

  it('the REST client refuses them too, without a request, and encodes every path segment it sends', async () => {
    const arm = client();
    for (const armId of hostile) await expect(arm.get(armId)).rejects.toThrow(/not a safe ARM id/);
    expect(standIn.requests).toEqual([]);
    expect(arm.urlFor(`${WS}/models/credit model é/versions/1`)).toBe(
      `${standIn.url}${WS}/models/credit%20model%20%C3%A9/versions/1?api-version=2025-12-01`,
    );
  });
});
