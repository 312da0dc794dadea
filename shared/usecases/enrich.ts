import type { ArmClient } from '../enrichment/armClient.js';
import { mlflowRequest, type MlflowClient } from '../enrichment/mlflowClient.js';
import { nodeId, parseArmId } from '../graph/keys.js';
import { FINISHED_RUN_STATUSES, isFinishedRun } from '../ingest/rest/mlflowRun.js';
import { resourceTime, type RestObservation } from '../ingest/rest/observation.js';
import type { EnrichmentMessage } from '../ingest/enrichmentMessage.js';
import { resolveAssetRef } from '../ingest/rest/assetRefs.js';
import { workspaceOf } from '../ingest/payload.js';
import { isRecord } from '../util/isRecord.js';
import {
  captureEvent,
  followsLinks,
  logEvent,
  projectLogged,
  type CaptureDeps,
  type CaptureOptions,
  type CaptureOutcome,
} from './captureEvent.js';

export interface EnrichDeps extends CaptureDeps {
  arm: ArmClient;
  apiVersion: string;
  /** The workspaces' MLflow tracking servers; without it, jobs get no metrics. */
  mlflow?: MlflowClient;
}

export type EnrichOutcome = CaptureOutcome | { status: 'listed'; followUps: number } | { status: 'skipped'; reason: string };

/** The MLflow REST API version every run observation names. */
export const MLFLOW_API_VERSION = '2.0';

/**
 * Fetches the resource an enrichment message names and captures what came back like any other
 * event: the response is logged raw (it is evidence too), projected, and its links become
 * follow-up messages. A 404 records the deletion; throttling and outages throw so the queue retries.
 */
export async function enrich(
  deps: EnrichDeps,
  message: EnrichmentMessage,
  options: { redelivered?: boolean } = {},
): Promise<EnrichOutcome> {
  const fetchedAt = deps.now().toISOString();
  if (message.kind === 'mlflowRun') return enrichMlflowRun(deps, message, options);
  if (message.kind === 'modelContainer') {
    // Resource logs name a model but not its version: fetch every version.
    const followUps: EnrichmentMessage[] = [];
    for await (const item of deps.arm.list(`${message.armId}/versions`)) {
      const id = (item as { id?: unknown }).id;
      const version = (item as { name?: unknown }).name;
      const armId = typeof id === 'string' && /\/versions\/[^/]+$/i.test(id) ? id : `${message.armId}/versions/${String(version)}`;
      followUps.push({ kind: 'model', armId, cause: message.cause, hops: (message.hops ?? 0) + 1 });
    }
    if (followUps.length > 0) await deps.enrichments?.enqueue(followUps);
    return { status: 'listed', followUps: followUps.length };
  }

  const response = await deps.arm.get(message.armId);
  const resource = response.status === 200 ? response.body : undefined;
  const observation: RestObservation = {
    kind: message.kind,
    armId: message.armId,
    apiVersion: deps.apiVersion,
    status: response.status,
    resource,
    // Only when the resource has no time of its own: an unchanged resource is the same evidence.
    ...(resourceTime(resource) ? {} : { fetchedAt }),
  };
  if (message.kind === 'endpoint' && response.status === 200) {
    const deployments: unknown[] = [];
    for await (const d of deps.arm.list(`${message.armId}/deployments`)) deployments.push(d);
    observation.deployments = deployments;
  }
  if (message.kind === 'data' && response.status === 200) {
    // The datastore behind the asset's path names its storage account and container: the asset's
    // files by the URL other tools use. A datastore that cannot be read leaves the path as it is.
    const datastore = datastoreOf(resource, message.armId);
    if (datastore) {
      const fetched = await deps.arm.get(datastore);
      if (fetched.status === 200) observation.datastores = [{ armId: datastore, resource: fetched.body }];
    }
  }
  const captureOptions = { channel: 'rest', hops: message.hops ?? 0, redoDuplicates: options.redelivered === true };
  if (message.kind === 'job') return captureJob(deps, observation, captureOptions, options);
  return captureEvent(deps, observation, captureOptions);
}

/**
 * A job's answer, and for a finished job its MLflow run, fetched in the same message: both logged
 * raw as answers of their own, projected in one graph write (the job's node and the run's inputs
 * are read and written once), instead of a second message that would read the job's node to see
 * whether its run was captured and write it again. When the run cannot be fetched now, its own
 * message is queued as before, so its retries do not hold up the job's lineage.
 */
async function captureJob(
  deps: EnrichDeps,
  observation: RestObservation,
  captureOptions: CaptureOptions,
  options: { redelivered?: boolean },
): Promise<EnrichOutcome> {
  const logged = await logEvent(deps, observation, captureOptions);
  if ('status' in logged) return logged;
  // Fetched where its message would have been queued: links followed, within the hop bound.
  const run = followsLinks(deps, captureOptions) ? logged.normalized.enrich.find((m) => m.kind === 'mlflowRun') : undefined;
  if (!run || !deps.mlflow) return first(await projectLogged(deps, [logged]));
  const job = { ...logged, normalized: { ...logged.normalized, enrich: logged.normalized.enrich.filter((m) => m !== run) } };
  const fetched = await fetchRun(deps, run, options.redelivered === true).catch(() => undefined);
  if (fetched === undefined) return first(await projectLogged(deps, [logged]));
  if ('captured' in fetched) return first(await projectLogged(deps, [job]));
  const answer = await logEvent(deps, fetched, { ...captureOptions, hops: (captureOptions.hops ?? 0) + 1 });
  return first(await projectLogged(deps, 'status' in answer ? [job] : [job, answer]));
}

const first = (outcomes: readonly CaptureOutcome[]): CaptureOutcome => outcomes[0] as CaptureOutcome;

/**
 * A job's MLflow run: one runs/get, logged raw and projected like any REST answer. A run already
 * captured as finished is not fetched again (its metrics, params and inputs no longer change), so
 * a redelivered message or a job seen again costs no request.
 */
async function enrichMlflowRun(deps: EnrichDeps, message: EnrichmentMessage, options: { redelivered?: boolean }): Promise<EnrichOutcome> {
  const job = parseArmId(message.armId);
  if (!deps.mlflow) return { status: 'skipped', reason: 'no MLflow client configured' };
  if (job?.kind !== 'job' || !workspaceOf(message.armId))
    return { status: 'skipped', reason: `${message.armId} is not the ARM id of a job` };
  const observation = await fetchRun(deps, message, true);
  if ('captured' in observation)
    return { status: 'skipped', reason: `run ${job.label} was captured ${observation.captured.toLowerCase()}` };
  return captureEvent(deps, observation, { channel: 'rest', hops: message.hops ?? 0, redoDuplicates: options.redelivered === true });
}

/**
 * The answer to a job's runs/get; with `checkStored`, the run's status instead when the stored job
 * already holds its run as finished. The check reads the job's node, so it is done only where the
 * run may have been captured: for a run's own message, and when a job's message is redelivered.
 */
async function fetchRun(
  deps: EnrichDeps,
  message: EnrichmentMessage,
  checkStored: boolean,
): Promise<RestObservation | { captured: string }> {
  const job = parseArmId(message.armId);
  const ws = workspaceOf(message.armId)?.ws;
  const mlflow = deps.mlflow;
  if (job?.kind !== 'job' || !ws || !mlflow) throw new Error(`${message.armId}: no MLflow run to fetch`);
  if (checkStored) {
    const stored = (await deps.graph.readNode(nodeId(job.kind, job.key)))?.facts.mlflowRun?.value;
    if (isRecord(stored) && typeof stored.status === 'string' && FINISHED_RUN_STATUSES.has(stored.status))
      return { captured: stored.status };
  }
  const trackingUri = message.trackingUri ?? (await workspaceTrackingUri(deps, ws.key));
  const response = await mlflow.getRun(trackingUri, job.label);
  const resource = response.status === 200 ? response.body : undefined;
  return {
    kind: 'mlflowRun',
    armId: message.armId,
    apiVersion: MLFLOW_API_VERSION,
    request: mlflowRequest(response.url),
    status: response.status,
    resource,
    // A finished run is the same evidence however often it is fetched; anything else is dated.
    ...(isFinishedRun(resource) ? {} : { fetchedAt: deps.now().toISOString() }),
  };
}

/** The workspace's `mlFlowTrackingUri`, for jobs that do not name their Tracking service. */
export async function workspaceTrackingUri(deps: EnrichDeps, workspaceKey: string): Promise<string> {
  const response = await deps.arm.get(workspaceKey);
  const uri = (response.body as { properties?: { mlFlowTrackingUri?: unknown } } | undefined)?.properties?.mlFlowTrackingUri;
  if (response.status !== 200 || typeof uri !== 'string' || uri.length === 0)
    throw new Error(`workspace ${workspaceKey} has no mlFlowTrackingUri (HTTP ${response.status})`);
  return uri;
}

/** The ARM id of the datastore a data asset's `dataUri` points into, if it points into one. */
function datastoreOf(resource: unknown, armId: string): string | undefined {
  const ws = workspaceOf(armId)?.ws;
  const properties = isRecord(resource) && isRecord(resource.properties) ? resource.properties : {};
  const dataUri = typeof properties.dataUri === 'string' ? properties.dataUri : undefined;
  return ws && dataUri ? resolveAssetRef(dataUri, ws, 'data').datastore?.key : undefined;
}
