import type { ArmClient } from '../enrichment/armClient.js';
import { resourceTime, type RestObservation } from '../ingest/rest/observation.js';
import type { EnrichmentMessage } from '../ingest/enrichmentMessage.js';
import { resolveAssetRef } from '../ingest/rest/assetRefs.js';
import { workspaceOf } from '../ingest/payload.js';
import { isRecord } from '../util/isRecord.js';
import { captureEvent, type CaptureDeps, type CaptureOutcome } from './captureEvent.js';

export interface EnrichDeps extends CaptureDeps {
  arm: ArmClient;
  apiVersion: string;
}

/**
 * Fetches the resource an enrichment message names and captures what came back like any other
 * event: the response is logged raw (it is evidence too), projected, and its links become
 * follow-up messages. A 404 records the deletion; throttling and outages throw so the queue retries.
 */
export async function enrich(
  deps: EnrichDeps,
  message: EnrichmentMessage,
  options: { redelivered?: boolean } = {},
): Promise<CaptureOutcome | { status: 'listed'; followUps: number }> {
  const fetchedAt = deps.now().toISOString();
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
  return captureEvent(deps, observation, { channel: 'rest', hops: message.hops ?? 0, followUpDuplicates: options.redelivered === true });
}

/** The ARM id of the datastore a data asset's `dataUri` points into, if it points into one. */
function datastoreOf(resource: unknown, armId: string): string | undefined {
  const ws = workspaceOf(armId)?.ws;
  const properties = isRecord(resource) && isRecord(resource.properties) ? resource.properties : {};
  const dataUri = typeof properties.dataUri === 'string' ? properties.dataUri : undefined;
  return ws && dataUri ? resolveAssetRef(dataUri, ws, 'data').datastore?.key : undefined;
}
