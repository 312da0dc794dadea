import { mlflowRequest } from '../enrichment/mlflowClient.js';
import { DomainError } from '../errors.js';
import type { NodeDoc } from '../graph/model.js';
import { FINISHED_RUN_STATUSES } from '../ingest/rest/mlflowRun.js';
import type { RestObservation } from '../ingest/rest/observation.js';
import { workspaceOf } from '../ingest/payload.js';
import { isRecord } from '../util/isRecord.js';
import { captureEvent } from './captureEvent.js';
import { MLFLOW_API_VERSION, workspaceTrackingUri, type EnrichDeps } from './enrich.js';
import { resolveRoot, toLineageNode, type LineageNode } from './traversal.js';

export interface MetricPoint {
  value: number;
  step?: number;
  timestamp?: number;
}

export interface MetricHistoryAnswer {
  /** The job whose MLflow run logged the metric (the producing job when a model version was asked about). */
  job: LineageNode;
  metric: string;
  values: MetricPoint[];
  /** The raw metrics/get-history answer in the event log: the values' evidence. */
  hash: string;
  /** False when a finished run's history was already recorded: answered from the graph, nothing asked of MLflow. */
  fetched: boolean;
}

/**
 * Every logged value of one metric (MLflow's metrics/get-history), on demand: the enrichment
 * keeps only the latest value per key. The answer is logged raw and projected onto the job like
 * any REST observation; a finished run's history cannot change, so it is fetched once.
 */
export async function metricHistory(
  deps: EnrichDeps,
  input: { ref: string; metric: string; workspace?: string; scope?: Set<string> | null },
): Promise<MetricHistoryAnswer> {
  const root = await resolveRoot(deps.graph, input.ref, input.workspace, input.scope ?? null);
  const job = root.kind === 'job' ? root : await producingJob(deps, root);
  const fact = `metricHistory:${input.metric}`;
  const run = job.facts.mlflowRun?.value;
  const finished = isRecord(run) && typeof run.status === 'string' && FINISHED_RUN_STATUSES.has(run.status);
  const recorded = job.facts[fact];
  if (finished && recorded) return answer(job, input.metric, recorded.value, recorded.hash, false);
  const latest = job.facts.metrics?.value;
  if (finished && isRecord(latest) && !(input.metric in latest))
    throw new DomainError('not-found', `The MLflow run of ${job.label} logged no metric ${input.metric}.`);

  const mlflow = deps.mlflow;
  if (!mlflow) throw new DomainError('not-configured', 'No MLflow tracking server is configured.');
  const ws = workspaceOf(job.key)?.ws;
  if (!ws) throw new DomainError('invalid-ref', `${job.label} is not a job of an Azure ML workspace.`);
  const trackingUri = await workspaceTrackingUri(deps, ws.key);
  const pages = await mlflow.getMetricHistory(trackingUri, job.label, input.metric);
  const last = pages[pages.length - 1];
  const failed = pages.find((p) => p.status !== 200);
  const observation: RestObservation = {
    kind: 'mlflowMetricHistory',
    armId: job.key,
    apiVersion: MLFLOW_API_VERSION,
    ...(last ? { request: mlflowRequest(last.url) } : {}),
    status: failed?.status ?? 200,
    resource: { pages: pages.map((p) => p.body) },
    fetchedAt: deps.now().toISOString(),
  };
  const outcome = await captureEvent(deps, observation, { channel: 'rest', followUp: false });
  if (outcome.status === 'dead-lettered')
    throw new DomainError('not-found', `MLflow answered no history of ${input.metric} for ${job.label}: ${outcome.reason}`);
  if (failed) throw new DomainError('not-found', `MLflow has no run ${job.label} (HTTP ${failed.status}).`);
  const stored = await deps.graph.readNode(job.id);
  return answer(stored ?? job, input.metric, stored?.facts[fact]?.value ?? [], outcome.hash, true);
}

async function producingJob(deps: EnrichDeps, root: NodeDoc): Promise<NodeDoc> {
  if (root.kind !== 'model')
    throw new DomainError('invalid-ref', `${root.label} is a ${root.kind}; metric histories are of jobs and model versions.`);
  const produced = (await deps.graph.edgesOf([root.id], 'in')).find((e) => e.kind === 'produced' && e.fromKind === 'job');
  const job = produced ? await deps.graph.readNode(produced.from) : undefined;
  if (!job) throw new DomainError('not-found', `No job is recorded as producing ${root.label}.`);
  return job;
}

function answer(job: NodeDoc, metric: string, value: unknown, hash: string, fetched: boolean): MetricHistoryAnswer {
  const values = Array.isArray(value) ? (value as MetricPoint[]) : [];
  return { job: toLineageNode(job), metric, values, hash, fetched };
}
