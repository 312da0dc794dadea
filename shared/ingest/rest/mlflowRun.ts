import { z } from 'zod';
import { gitCommit, type NodeRef, type WorkspaceId } from '../../graph/keys.js';
import type { GraphDelta } from '../../graph/model.js';
import { isRecord } from '../../util/isRecord.js';
import { gitFromProperties, nonBlank } from '../payload.js';
import { resolveAssetRef } from './assetRefs.js';

/**
 * What the MLflow REST API 2.0 answers (mlflow.org/docs/latest/rest-api.html): `runs/get` gives a
 * Run (RunInfo, RunData with the latest value of each metric, params and tags, RunInputs with
 * dataset inputs) and `metrics/get-history` the logged values of one metric. int64 fields
 * (timestamps, steps) come as JSON numbers or, from proto3 JSON printers, as strings.
 */
const int64 = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform((v) => Number(v));
const keyValue = z.looseObject({ key: z.string(), value: z.string().nullish() });

export const mlflowMetricSchema = z.looseObject({
  key: z.string(),
  value: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]),
  timestamp: int64.optional(),
  step: int64.optional(),
});

export const mlflowDatasetSchema = z.looseObject({
  name: z.string(),
  digest: z.string(),
  source_type: z.string(),
  source: z.string(),
  schema: z.string().nullish(),
  profile: z.string().nullish(),
});

export const mlflowRunSchema = z.looseObject({
  info: z.looseObject({
    run_id: z.string(),
    run_uuid: z.string().nullish(),
    run_name: z.string().nullish(),
    experiment_id: z.string(),
    user_id: z.string().nullish(),
    status: z.enum(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']),
    start_time: int64.nullish(),
    end_time: int64.nullish(),
    artifact_uri: z.string().nullish(),
    lifecycle_stage: z.string().nullish(),
  }),
  data: z
    .looseObject({
      metrics: z.array(mlflowMetricSchema).nullish(),
      params: z.array(keyValue).nullish(),
      tags: z.array(keyValue).nullish(),
    })
    .nullish(),
  inputs: z
    .looseObject({
      dataset_inputs: z.array(z.looseObject({ tags: z.array(keyValue).nullish(), dataset: mlflowDatasetSchema })).nullish(),
    })
    .nullish(),
});

export const getRunResponseSchema = z.looseObject({ run: mlflowRunSchema });
export const getMetricHistoryResponseSchema = z.looseObject({
  metrics: z.array(mlflowMetricSchema).nullish(),
  next_page_token: z.string().nullish(),
});

/** Statuses after which a run's metrics, params and inputs no longer change. */
export const FINISHED_RUN_STATUSES = new Set(['FINISHED', 'FAILED', 'KILLED']);

/** When the run last changed: its end, else its start (both epoch milliseconds). */
export function mlflowRunTime(body: unknown): string | undefined {
  const parsed = getRunResponseSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const ms = parsed.data.run.info.end_time ?? parsed.data.run.info.start_time;
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : undefined;
}

export function isFinishedRun(body: unknown): boolean {
  const parsed = getRunResponseSchema.safeParse(body);
  return parsed.success && FINISHED_RUN_STATUSES.has(parsed.data.run.info.status);
}

const record = (pairs: ReadonlyArray<{ key: string; value?: string | null }> | null | undefined): Record<string, string> =>
  Object.fromEntries((pairs ?? []).map((p) => [p.key, p.value ?? '']));

const metricValue = (v: number | string): number => (typeof v === 'number' ? v : Number(v));

/** Where a dataset's source (JSON text such as `{"url": …}` or `{"uri": …}`) points, if anywhere. */
function datasetLocation(source: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(source);
    if (!isRecord(parsed)) return undefined;
    return nonBlank(parsed.uri) ?? nonBlank(parsed.url) ?? nonBlank(parsed.path);
  } catch {
    return nonBlank(source);
  }
}

interface Builder {
  node(ref: NodeRef, facts: Record<string, unknown>): void;
  edge(kind: GraphDelta['edges'][number]['kind'], from: NodeRef, to: NodeRef, facts?: Record<string, unknown>): void;
}

/**
 * A job's MLflow run onto the job: metrics (latest value per key), params, tags, the run's own
 * record, and its dataset inputs (name, digest, source, schema). A dataset whose source names an
 * Azure ML asset or a storage location becomes an input edge carrying the digest; git tags name
 * the commit, as on the job.
 */
export function projectMlflowRun(b: Builder, ws: WorkspaceId, job: NodeRef, body: unknown): z.ZodError | undefined {
  const parsed = getRunResponseSchema.safeParse(body);
  if (!parsed.success) return parsed.error;
  const { info, data, inputs } = parsed.data.run;
  const tags = record(data?.tags);
  const metrics: Record<string, number> = {};
  const metricSteps: Record<string, { step?: number; timestamp?: number }> = {};
  for (const m of data?.metrics ?? []) {
    metrics[m.key] = metricValue(m.value);
    metricSteps[m.key] = { step: m.step, timestamp: m.timestamp };
  }
  const datasets = (inputs?.dataset_inputs ?? []).map(({ dataset, tags: inputTags }) => ({
    name: dataset.name,
    digest: dataset.digest,
    sourceType: dataset.source_type,
    source: dataset.source,
    schema: dataset.schema ?? undefined,
    context: record(inputTags)['mlflow.data.context'],
  }));
  b.node(job, {
    mlflowRun: {
      runId: info.run_id,
      runName: info.run_name ?? undefined,
      experimentId: info.experiment_id,
      status: info.status,
      startTime: info.start_time ?? undefined,
      endTime: info.end_time ?? undefined,
      artifactUri: info.artifact_uri ?? undefined,
      lifecycleStage: info.lifecycle_stage ?? undefined,
      userId: info.user_id ?? undefined,
    },
    metrics,
    metricSteps,
    mlflowParams: record(data?.params),
    mlflowTags: tags,
    datasets: datasets.length > 0 ? datasets : undefined,
  });
  for (const d of datasets) {
    const location = datasetLocation(d.source);
    const resolved = resolveAssetRef(location, ws, 'data');
    const from = resolved.ref ?? resolved.location;
    if (from) b.edge('inputOf', from, job, { dataset: d.name, digest: d.digest, ...(d.context ? { context: d.context } : {}) });
  }
  const git = gitFromProperties(tags);
  if (git?.commit && git.repository) {
    const commit = gitCommit(git.repository, git.commit);
    b.node(commit, { repository: git.repository, commit: git.commit.toLowerCase() });
    b.edge('commitOf', commit, job);
  }
  return undefined;
}

/** metrics/get-history pages onto the job as one series per metric: every logged value, step and time. */
export function projectMetricHistory(b: Builder, job: NodeRef, pages: unknown): z.ZodError | undefined {
  const parsed = z.array(getMetricHistoryResponseSchema).safeParse(pages);
  if (!parsed.success) return parsed.error;
  const values = parsed.data.flatMap((p) => p.metrics ?? []);
  const byKey = new Map<string, Array<{ value: number; step?: number; timestamp?: number }>>();
  for (const m of values)
    byKey.set(m.key, [...(byKey.get(m.key) ?? []), { value: metricValue(m.value), step: m.step, timestamp: m.timestamp }]);
  const history = Object.fromEntries(
    [...byKey].map(([key, entries]) => [
      key,
      entries.sort((x, y) => (x.step ?? 0) - (y.step ?? 0) || (x.timestamp ?? 0) - (y.timestamp ?? 0)),
    ]),
  );
  // One fact per metric: histories fetched on different days for different metrics never replace each other.
  b.node(job, Object.fromEntries(Object.entries(history).map(([key, entries]) => [`metricHistory:${key}`, entries])));
  return undefined;
}
