import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_IDS, startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import { ArmClient } from '../../shared/enrichment/armClient.js';
import { MlflowClient, mlflowRequest } from '../../shared/enrichment/mlflowClient.js';
import { normalize } from '../../shared/ingest/normalize.js';
import { getMetricHistoryResponseSchema, getRunResponseSchema, isFinishedRun, mlflowRunTime } from '../../shared/ingest/rest/mlflowRun.js';

/**
 * Every MLflow REST API 2.0 shape the stand-in serves (runs/get, metrics/get-history, errors),
 * read through the app's own client and validated with the schemas the normalizer uses; and what
 * the normalizer makes of them.
 */
let standIn: AzureMlStandIn;
let mlflow: MlflowClient;
const TRACKING = `azureml://westeurope.api.azureml.ms/mlflow/v1.0${SAMPLE_IDS.workspace}`;

beforeAll(async () => {
  standIn = await startAzureMlStandIn({ port: 0 });
  mlflow = new MlflowClient(new ArmClient({ endpoint: standIn.url, apiVersion: '2025-12-01', baseDelayMs: 5 }), { endpoint: standIn.url });
});
afterAll(async () => {
  await standIn.stop();
});

describe('tracking URIs', () => {
  it('become the REST base by swapping azureml for https; the endpoint setting replaces the host only', () => {
    const azure = new MlflowClient(new ArmClient({ endpoint: standIn.url, apiVersion: 'x' }));
    expect(azure.baseUrl(`${TRACKING}?`)).toBe(`https://westeurope.api.azureml.ms/mlflow/v1.0${SAMPLE_IDS.workspace}`);
    expect(mlflow.baseUrl(TRACKING)).toBe(`${standIn.url}/mlflow/v1.0${SAMPLE_IDS.workspace}`);
    expect(mlflowRequest(`${standIn.url}/mlflow/v1.0/x/api/2.0/mlflow/runs/get?run_id=a`)).toBe(
      '/mlflow/v1.0/x/api/2.0/mlflow/runs/get?run_id=a',
    );
  });
});

describe('runs/get', () => {
  // The sample's batch scoring job has no MLflow run: the stand-in answers 404, which enrichment records as mlflowRunMissingAt.
  it('answers 404 for the batch scoring job, which the sample gives no run', async () => {
    expect((await mlflow.getRun(TRACKING, SAMPLE_IDS.jobNames.batchScore)).status).toBe(404);
  });
  for (const job of Object.values(SAMPLE_IDS.jobNames).filter((j) => j !== SAMPLE_IDS.jobNames.batchScore)) {
    it(`serves the documented Run shape for ${job}`, async () => {
      const res = await mlflow.getRun(TRACKING, job);
      expect(res.status).toBe(200);
      const run = getRunResponseSchema.parse(res.body).run;
      expect(run.info.run_id).toBe(job);
      expect(run.info.status).toBe('FINISHED');
      expect(isFinishedRun(res.body)).toBe(true);
      expect(mlflowRunTime(res.body)).toBe(new Date(run.info.end_time as number).toISOString());
      for (const m of run.data?.metrics ?? []) expect(typeof m.value).toBe('number');
    });
  }

  it('differs between the runs behind credit-default:2 and :3 in metrics and params', async () => {
    const [april, may] = await Promise.all([
      mlflow.getRun(TRACKING, SAMPLE_IDS.jobNames.trainApril),
      mlflow.getRun(TRACKING, SAMPLE_IDS.jobNames.train),
    ]);
    const metrics = (b: unknown) =>
      Object.fromEntries((getRunResponseSchema.parse(b).run.data?.metrics ?? []).map((m) => [m.key, m.value]));
    const params = (b: unknown) => Object.fromEntries((getRunResponseSchema.parse(b).run.data?.params ?? []).map((p) => [p.key, p.value]));
    expect(metrics(april.body).auc).not.toBe(metrics(may.body).auc);
    expect(params(april.body).learning_rate).not.toBe(params(may.body).learning_rate);
    expect(getRunResponseSchema.parse(may.body).run.inputs?.dataset_inputs?.[0]?.dataset).toMatchObject({ digest: 'c41d7b06' });
  });

  it('answers MLflow errors: 404 RESOURCE_DOES_NOT_EXIST for an unknown run, 400 without run_id', async () => {
    const missing = await mlflow.getRun(TRACKING, 'no-such-run');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    const bad = await fetch(`${standIn.url}/mlflow/v1.0${SAMPLE_IDS.workspace}/api/2.0/mlflow/runs/get`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });
});

describe('metrics/get-history', () => {
  it('pages every logged value of one metric, in step order', async () => {
    const pages = await mlflow.getMetricHistory(TRACKING, SAMPLE_IDS.jobNames.train, 'auc');
    const values = pages.flatMap((p) => getMetricHistoryResponseSchema.parse(p.body).metrics ?? []);
    expect(values.map((v) => [v.step, v.value])).toEqual([
      [0, 0.761],
      [1, 0.784],
      [2, 0.797],
      [3, 0.803],
    ]);
    const small = await fetch(
      `${standIn.url}/mlflow/v1.0${SAMPLE_IDS.workspace}/api/2.0/mlflow/metrics/get-history?run_id=${SAMPLE_IDS.jobNames.train}&metric_key=auc&max_results=3`,
    );
    const first = getMetricHistoryResponseSchema.parse(await small.json());
    expect(first.metrics).toHaveLength(3);
    expect(first.next_page_token).toEqual(expect.any(String));
  });
});

describe('normalizing MLflow answers', () => {
  it('projects a run onto its job and a history as one series per metric; a body that is not a Run is refused', async () => {
    const res = await mlflow.getRun(TRACKING, SAMPLE_IDS.jobNames.trainApril);
    const observation = {
      kind: 'mlflowRun',
      armId: SAMPLE_IDS.jobs.trainApril,
      apiVersion: '2.0',
      request: mlflowRequest(res.url),
      status: 200,
      resource: res.body,
    };
    const projected = normalize('rest', observation, 'sha256:00');
    expect(projected).toMatchObject({ status: 'project', eventId: expect.stringContaining('/api/2.0/mlflow/runs/get?run_id=') });
    if (projected.status !== 'project') return;
    const job = projected.delta.nodes.find((n) => n.ref.kind === 'job');
    expect(job?.facts.metrics).toMatchObject({ auc: 0.781, f1: 0.611 });
    expect(projected.delta.edges.map((e) => `${e.from.label} -${e.kind}-> ${e.to.label}`)).toEqual(
      expect.arrayContaining(['credit-applications:2 -inputOf-> credit-train-20240415']),
    );

    const history = await mlflow.getMetricHistory(TRACKING, SAMPLE_IDS.jobNames.trainApril, 'log_loss');
    const h = normalize(
      'rest',
      {
        kind: 'mlflowMetricHistory',
        armId: SAMPLE_IDS.jobs.trainApril,
        apiVersion: '2.0',
        status: 200,
        fetchedAt: '2024-06-01T00:00:00Z',
        resource: { pages: history.map((p) => p.body) },
      },
      'sha256:01',
    );
    expect(h.status === 'project' && h.delta.nodes[0]?.facts['metricHistory:log_loss']).toEqual([
      expect.objectContaining({ step: 0, value: 0.468 }),
      expect.objectContaining({ step: 1 }),
      expect.objectContaining({ step: 2 }),
      expect.objectContaining({ step: 3, value: 0.412 }),
    ]);

    const refused = normalize(
      'rest',
      { ...observation, fetchedAt: '2024-06-01T00:00:00Z', resource: { run: { info: { run_id: 'x' } } } },
      'sha256:02',
    );
    expect(refused).toMatchObject({ status: 'invalid', reason: expect.stringContaining('resource.run.info') });
  });
});
