import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_IDS, startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import type { Services } from '../../shared/composition.js';
import { nodeId, parseArmId } from '../../shared/graph/keys.js';
import type { EnrichmentMessage } from '../../shared/ingest/enrichmentMessage.js';
import type { GraphStore } from '../../shared/store/graphStore.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { graphSnapshot } from '../helpers/graph.js';
import { freshServices, takeEnrichmentMessages } from '../helpers/stores.js';

/** A job's MLflow run through the enrichment queue, against the stand-in's MLflow tracking server: real HTTP, real stores. */
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
  await services.enrichmentQueue.client.clearMessages();
});

const idOf = (arm: string) => {
  const r = parseArmId(arm)!;
  return nodeId(r.kind, r.key);
};
const mlflowHits = () => standIn.requests.filter((r) => r.path.includes('/api/2.0/mlflow/')).length;

describe('MLflow enrichment', () => {
  it("a finished job's message fetches its run too: metrics, params, tags and dataset inputs with one request, logged as an answer of its own", async () => {
    const before = mlflowHits();
    // Both answers go to the graph in one write (the job's node and the run's inputs read and written once).
    const writes: number[] = [];
    const graph = Object.create(services.graph) as GraphStore;
    graph.write = (docs) => {
      writes.push(docs.length);
      return services.graph.write(docs);
    };
    const outcome = await enrich({ ...services.enrich, graph }, { kind: 'job', armId: SAMPLE_IDS.jobs.train });
    expect(outcome).toMatchObject({ status: 'projected', eventType: 'azureml-rest:job' });
    expect(mlflowHits() - before).toBe(1);
    expect(writes).toHaveLength(1);
    // Fetched in the job's message, so no message of its own is queued.
    expect((await takeEnrichmentMessages(services)).filter((m) => m.kind === 'mlflowRun')).toEqual([]);

    const job = await services.graph.readNode(idOf(SAMPLE_IDS.jobs.train));
    expect(job?.facts.metrics?.value).toEqual({ auc: 0.803, accuracy: 0.851, f1: 0.598, log_loss: 0.395, training_time_s: 2411.9 });
    expect(job?.facts.mlflowParams?.value).toMatchObject({ learning_rate: '0.05', n_estimators: '400' });
    expect(job?.facts.mlflowRun?.value).toMatchObject({ runId: 'credit-train-20240501', status: 'FINISHED' });
    expect(job?.facts.datasets?.value).toEqual([
      expect.objectContaining({ name: 'prepared_data', digest: 'c41d7b06', context: 'training' }),
    ]);
    // The run's time is its end, not when it was fetched: fetching it again is the same evidence.
    expect(job?.facts.metrics?.eventTime).toBe('2024-05-01T08:41:12.006Z');
    const inputs = await services.graph.edgesOf([idOf(SAMPLE_IDS.jobs.train)], 'in');
    expect(inputs.find((e) => e.kind === 'inputOf' && e.facts.digest)?.facts.digest?.value).toBe('c41d7b06');

    // Each answer is in the raw event log on its own, and the facts name the one they came from:
    // the run under the MLflow request it answered (the job's Tracking service), the job under its ARM id.
    const runAnswer = await services.eventLog.get(String(job?.facts.metrics?.hash).replace(/^sha256:/, ''));
    expect(runAnswer?.channel).toBe('rest');
    expect(JSON.stringify(runAnswer)).toContain('/mlflow/v1.0/');
    expect(JSON.stringify(runAnswer)).toContain('/api/2.0/mlflow/runs/get?run_id=credit-train-20240501');
    expect(job?.facts.jobType?.hash).toBe(outcome.status === 'projected' ? outcome.hash : '');
    expect(job?.facts.metrics?.hash).not.toBe(job?.facts.jobType?.hash);
  });

  it('the job and its run projected in one write leave the graph that two messages leave', async () => {
    const now = () => new Date('2024-06-01T00:00:00Z');
    const together = await freshServices({ AZUREML_MANAGEMENT_ENDPOINT: standIn.url }, now);
    await enrich(together.enrich, { kind: 'job', armId: SAMPLE_IDS.jobs.train });
    // Without an MLflow client the job's message queues the run's, as it did before runs came along.
    const apart = await freshServices({ AZUREML_MANAGEMENT_ENDPOINT: standIn.url }, now);
    await enrich({ ...apart.enrich, mlflow: undefined }, { kind: 'job', armId: SAMPLE_IDS.jobs.train });
    const runs = (await takeEnrichmentMessages(apart)).filter((m) => m.kind === 'mlflowRun');
    expect(runs).toHaveLength(1);
    await enrich(apart.enrich, runs[0] as EnrichmentMessage);
    const graph = await graphSnapshot(together);
    expect(graph.some((doc) => doc.includes('"mlflowRun"'))).toBe(true);
    expect(graph).toEqual(await graphSnapshot(apart));
  });

  it("when the run cannot be fetched with the job, the job is projected and the run's own message is queued", async () => {
    // Throttled for longer than the client waits: the run's request fails at once.
    standIn.faults.add({ path: /runs\/get$/, status: 429, retryAfterSeconds: 3600, times: 1 });
    const outcome = await enrich(services.enrich, { kind: 'job', armId: SAMPLE_IDS.jobs.train });
    expect(outcome).toMatchObject({ status: 'projected', eventType: 'azureml-rest:job' });
    expect((await services.graph.readNode(idOf(SAMPLE_IDS.jobs.train)))?.facts.jobType).toBeDefined();
    const runMessages = (await takeEnrichmentMessages(services)).filter((m) => m.kind === 'mlflowRun');
    expect(runMessages).toEqual([
      expect.objectContaining({
        kind: 'mlflowRun',
        armId: SAMPLE_IDS.jobs.train,
        trackingUri: expect.stringMatching(/^azureml:\/\/westeurope\.api\.azureml\.ms\/mlflow\/v1\.0\//),
      }),
    ]);
    await enrich(services.enrich, runMessages[0] as EnrichmentMessage);
    expect((await services.graph.readNode(idOf(SAMPLE_IDS.jobs.train)))?.facts.mlflowRun?.value).toMatchObject({ status: 'FINISHED' });
  });

  it('a redelivered message, or the job seen again, costs no MLflow request once the run is captured finished', async () => {
    const message: EnrichmentMessage = { kind: 'mlflowRun', armId: SAMPLE_IDS.jobs.trainApril };
    await enrich(services.enrich, message);
    const after = mlflowHits();
    expect(after).toBe(1);
    expect(await enrich(services.enrich, message, { redelivered: true })).toMatchObject({ status: 'skipped' });
    await enrich(services.enrich, { kind: 'job', armId: SAMPLE_IDS.jobs.trainApril }, { redelivered: true });
    for (const m of (await takeEnrichmentMessages(services)).filter((x) => x.kind === 'mlflowRun'))
      await enrich(services.enrich, m, { redelivered: true });
    expect(mlflowHits()).toBe(after);
  });

  it('without a Tracking service on the job, the workspace names the tracking URI', async () => {
    await enrich(services.enrich, { kind: 'mlflowRun', armId: SAMPLE_IDS.jobs.prep });
    const job = await services.graph.readNode(idOf(SAMPLE_IDS.jobs.prep));
    expect(job?.facts.metrics?.value).toEqual({ rows_in: 184_220, rows_out: 181_907 });
  });

  it('throttling is waited out; a job without a run records that, and keeps its other facts', async () => {
    standIn.faults.add({ path: /runs\/get$/, status: 429, retryAfterSeconds: 1, times: 1 });
    await enrich(services.enrich, { kind: 'mlflowRun', armId: SAMPLE_IDS.jobs.pipeline });
    expect(standIn.requests.filter((r) => r.path.endsWith('runs/get')).map((r) => r.status)).toEqual([429, 200]);

    standIn.addJob('adhoc-1', { jobType: 'Command', status: 'Completed' });
    await enrich(services.enrich, { kind: 'job', armId: `${SAMPLE_IDS.workspace}/jobs/adhoc-1` });
    await enrich(services.enrich, { kind: 'mlflowRun', armId: `${SAMPLE_IDS.workspace}/jobs/adhoc-1` });
    const job = await services.graph.readNode(idOf(`${SAMPLE_IDS.workspace}/jobs/adhoc-1`));
    expect(job?.facts.mlflowRunMissingAt).toBeDefined();
    expect(job?.facts.notFoundAt).toBeUndefined();
    expect(job?.facts.jobType?.value).toBe('Command');
  });
});
