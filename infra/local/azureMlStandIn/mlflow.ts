import type { ServerResponse } from 'node:http';
import { send } from './http.js';
import { SAMPLE_IDS } from './sampleWorkspace.js';

/**
 * The workspace's MLflow tracking server, as Azure ML exposes it on the regional host
 * (`/mlflow/v1.0/{workspace ARM id}/api/2.0/mlflow/...`): runs/get and metrics/get-history with
 * MLflow REST API 2.0 shapes (mlflow.org/docs/latest/rest-api.html): `{run: {info, data, inputs}}`
 * and `{metrics, next_page_token}`; errors as `{error_code, message}`. A run's id is its job's
 * name. Values are invented; the two training runs differ so that credit-default:2 and :3 do.
 */
export interface SampleRun {
  runId: string;
  experimentId: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  startTime: number;
  endTime?: number;
  user: string;
  /** Metric key -> every logged value in order (step = index); runs/get answers the last. */
  metrics: Record<string, number[]>;
  params: Record<string, string>;
  tags: Record<string, string>;
  datasets: Array<{ name: string; digest: string; sourceType: string; source: string; schema?: string; context: string }>;
}

const EXPERIMENT = '3b1f0c9e-7d24-4a8b-9e61-2c5d8f0a4b17';
const USER = 'Priya Raman';
const ms = (iso: string) => Date.parse(iso);
const SCHEMA = JSON.stringify({
  mlflow_colspec: [
    { type: 'double', name: 'income', required: true },
    { type: 'double', name: 'debt_ratio', required: true },
    { type: 'long', name: 'defaulted', required: true },
  ],
});
const GIT = (commit: string, repo: string, branch: string) => ({
  'mlflow.source.git.commit': commit,
  'mlflow.source.git.repoURL': repo,
  'mlflow.source.git.branch': branch,
});

function sampleRuns(): SampleRun[] {
  const { jobNames: j } = SAMPLE_IDS;
  const common = (name: string) => ({ 'mlflow.runName': name, 'mlflow.user': USER, 'mlflow.source.type': 'JOB' });
  return [
    {
      runId: j.trainApril,
      experimentId: EXPERIMENT,
      status: 'FINISHED',
      startTime: ms('2024-04-15T13:24:02.117Z'),
      endTime: ms('2024-04-15T14:01:55.480Z'),
      user: USER,
      metrics: {
        auc: [0.742, 0.766, 0.775, 0.781],
        accuracy: [0.821, 0.833, 0.839, 0.842],
        f1: [0.574, 0.596, 0.605, 0.611],
        log_loss: [0.468, 0.437, 0.421, 0.412],
        training_time_s: [2273.4],
      },
      params: { learning_rate: '0.1', n_estimators: '200', num_leaves: '31', feature_set: 'applications' },
      tags: {
        ...common('credit-train-april'),
        ...GIT('4b7d2e91c0a35f6e8d1b2c3a4f5e6d7c8b9a0f1e', 'https://github.com/contoso/credit-models', 'feature/bureau-features'),
      },
      datasets: [
        {
          name: 'credit-applications',
          digest: '5f0e2a91',
          sourceType: 'http',
          source: JSON.stringify({ url: 'azureml:credit-applications:2' }),
          schema: SCHEMA,
          context: 'training',
        },
      ],
    },
    {
      runId: j.train,
      experimentId: EXPERIMENT,
      status: 'FINISHED',
      startTime: ms('2024-05-01T08:00:41.902Z'),
      endTime: ms('2024-05-01T08:41:12.006Z'),
      user: USER,
      metrics: {
        auc: [0.761, 0.784, 0.797, 0.803],
        accuracy: [0.829, 0.841, 0.848, 0.851],
        f1: [0.569, 0.588, 0.594, 0.598],
        log_loss: [0.451, 0.419, 0.401, 0.395],
        training_time_s: [2411.9],
      },
      params: { learning_rate: '0.05', n_estimators: '400', num_leaves: '63', feature_set: 'applications+bureau' },
      tags: { ...common('train'), ...GIT('9c1e4f7a2b3d5e6f8091a2b3c4d5e6f708192a3b', 'git@github.com:contoso/credit-models.git', 'main') },
      datasets: [
        {
          name: 'prepared_data',
          digest: 'c41d7b06',
          sourceType: 'http',
          source: JSON.stringify({ url: 'azureml://datastores/workspaceblobstore/paths/azureml/credit-prep-20240501/prepared_data/' }),
          schema: SCHEMA,
          context: 'training',
        },
      ],
    },
    {
      runId: j.prep,
      experimentId: EXPERIMENT,
      status: 'FINISHED',
      startTime: ms('2024-05-01T07:56:10.331Z'),
      endTime: ms('2024-05-01T07:59:51.020Z'),
      user: USER,
      metrics: { rows_in: [184_220], rows_out: [181_907] },
      params: { drop_incomplete: 'true' },
      tags: { ...common('prep'), ...GIT('9c1e4f7a2b3d5e6f8091a2b3c4d5e6f708192a3b', 'git@github.com:contoso/credit-models.git', 'main') },
      datasets: [
        {
          name: 'credit-applications',
          digest: '8e3b11d4',
          sourceType: 'http',
          source: JSON.stringify({ url: 'azureml:credit-applications:3' }),
          context: 'input',
        },
      ],
    },
    {
      runId: j.pipeline,
      experimentId: EXPERIMENT,
      status: 'FINISHED',
      startTime: ms('2024-05-01T07:55:20.000Z'),
      endTime: ms('2024-05-01T08:41:18.500Z'),
      user: USER,
      metrics: {},
      params: {},
      tags: { ...common('credit-pipeline'), 'azureml.pipeline': 'true' },
      datasets: [],
    },
  ];
}

/** runs/get's body for a run. */
export function runBody(run: SampleRun, workspaceGuid = SAMPLE_IDS.workspaceGuid): unknown {
  const last = (values: number[]) => values[values.length - 1] as number;
  return {
    run: {
      info: {
        run_id: run.runId,
        run_uuid: run.runId,
        run_name: run.tags['mlflow.runName'] ?? run.runId,
        experiment_id: run.experimentId,
        user_id: run.user,
        status: run.status,
        start_time: run.startTime,
        ...(run.endTime !== undefined ? { end_time: run.endTime } : {}),
        artifact_uri: `azureml://experiments/credit-default/runs/${run.runId}/artifacts`,
        lifecycle_stage: 'active',
      },
      data: {
        metrics: Object.entries(run.metrics).map(([key, values]) => ({
          key,
          value: last(values),
          timestamp: (run.endTime ?? run.startTime) - 1000,
          step: values.length - 1,
        })),
        params: Object.entries(run.params).map(([key, value]) => ({ key, value })),
        tags: Object.entries({ ...run.tags, 'azureml.workspaceId': workspaceGuid }).map(([key, value]) => ({ key, value })),
      },
      inputs: {
        dataset_inputs: run.datasets.map((d) => ({
          tags: [{ key: 'mlflow.data.context', value: d.context }],
          dataset: {
            name: d.name,
            digest: d.digest,
            source_type: d.sourceType,
            source: d.source,
            ...(d.schema ? { schema: d.schema } : {}),
          },
        })),
      },
    },
  };
}

/** The stand-in's runs: the sample's, plus any a test adds. */
export class SampleRuns {
  private readonly runs = new Map<string, SampleRun>();

  constructor() {
    this.reset();
  }

  reset(): void {
    this.runs.clear();
    for (const r of sampleRuns()) this.runs.set(r.runId, r);
  }

  get(runId: string): SampleRun | undefined {
    const r = this.runs.get(runId);
    return r && structuredClone(r);
  }

  put(run: SampleRun): void {
    this.runs.set(run.runId, structuredClone(run));
  }
}

const MLFLOW_PATH =
  /^\/mlflow\/v1\.0(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.machinelearningservices\/workspaces\/[^/]+)\/api\/2\.0\/mlflow\/(.+)$/i;

export function isMlflowPath(path: string): boolean {
  return MLFLOW_PATH.test(path);
}

const mlflowError = (res: ServerResponse, status: number, code: string, message: string) =>
  send(res, status, { error_code: code, message }, {}, (v) => JSON.stringify(v));

/** GET runs/get and metrics/get-history for the sample workspace; anything else is MLflow's 404 ENDPOINT_NOT_FOUND. */
export function serveMlflow(runs: SampleRuns, workspaceId: string, method: string, url: URL, res: ServerResponse): void {
  const m = MLFLOW_PATH.exec(url.pathname);
  if (!m || method !== 'GET') return mlflowError(res, 404, 'ENDPOINT_NOT_FOUND', `No API endpoint ${method} ${url.pathname}`);
  if ((m[1] as string).toLowerCase() !== workspaceId.toLowerCase())
    return mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Workspace ${m[1] as string} not found`);
  const runId = url.searchParams.get('run_id') ?? url.searchParams.get('run_uuid');
  if (!runId) return mlflowError(res, 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'.");
  const run = runs.get(runId);
  if (!run) return mlflowError(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Run '${runId}' not found.`);
  switch (m[2]) {
    case 'runs/get':
      return send(res, 200, runBody(run), {}, (v) => JSON.stringify(v));
    case 'metrics/get-history': {
      const key = url.searchParams.get('metric_key');
      if (!key) return mlflowError(res, 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'metric_key'.");
      const pageSize = Math.min(25_000, Math.max(1, Number(url.searchParams.get('max_results') ?? 25_000) || 25_000));
      const offset = Number(Buffer.from(url.searchParams.get('page_token') ?? '', 'base64url').toString('utf8') || 0);
      const values = run.metrics[key] ?? [];
      const page = values.slice(offset, offset + pageSize);
      const step0 = run.startTime + 60_000;
      return send(
        res,
        200,
        {
          metrics: page.map((value, i) => ({ key, value, timestamp: step0 + (offset + i) * 60_000, step: offset + i })),
          ...(offset + pageSize < values.length ? { next_page_token: Buffer.from(String(offset + pageSize)).toString('base64url') } : {}),
        },
        {},
        (v) => JSON.stringify(v),
      );
    }
    default:
      return mlflowError(res, 404, 'ENDPOINT_NOT_FOUND', `No API endpoint GET ${url.pathname}`);
  }
}
