import { z } from 'zod';
import { isRecord } from '../../util/isRecord.js';
import { toInstant } from '../../util/time.js';
import { ENRICHMENT_KINDS } from '../enrichmentMessage.js';

/**
 * What is logged and projected for a REST fetch: the resource as fetched plus what was asked for
 * and when, so a replay projects it exactly as the first time.
 */
export const restObservationSchema = z.object({
  /** `mlflowMetricHistory` is fetched on demand (GET /api/metrics/history), never queued. */
  kind: z.enum([...ENRICHMENT_KINDS, 'mlflowMetricHistory']),
  /** ARM id that was requested; spec examples and some responses carry placeholder `id`s. */
  armId: z.string().min(1),
  /** The management API's api-version, or `2.0` for the MLflow REST API. */
  apiVersion: z.string(),
  /** For MLflow calls: the request's path and query (host left out), e.g. `/mlflow/v1.0/…/api/2.0/mlflow/runs/get?run_id=…`. */
  request: z.string().optional(),
  /**
   * When it was fetched; only present when the resource carries no time of its own (a 404, or no
   * systemData), so fetching an unchanged resource again yields the same evidence, not a new one.
   */
  fetchedAt: z.string().optional(),
  status: z.number().int(),
  resource: z.unknown().optional(),
  /** For endpoints: the deployments listed under it at the same time. */
  deployments: z.array(z.unknown()).optional(),
  /**
   * For data assets: the datastore resources their `dataUri` names, fetched at the same time, so the
   * projection knows the storage account and container behind an `azureml://…/datastores/…` path.
   */
  datastores: z.array(z.object({ armId: z.string(), resource: z.unknown() })).optional(),
});
export type RestObservation = z.infer<typeof restObservationSchema>;

/** When the resource last changed, per its own systemData. */
export function resourceTime(resource: unknown): string | undefined {
  const systemData = isRecord(resource) && isRecord(resource.systemData) ? resource.systemData : {};
  for (const candidate of [systemData.lastModifiedAt, systemData.createdAt]) {
    if (typeof candidate === 'string' && toInstant(candidate)) return candidate;
  }
  return undefined;
}
