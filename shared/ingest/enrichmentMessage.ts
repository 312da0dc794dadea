import { z } from 'zod';

/**
 * A request to fetch one Azure ML resource from the management REST API and add the links it
 * holds (job inputs and outputs, code, environment, compute; model version -> job; deployment ->
 * model; endpoint -> traffic). Capture emits these; the enrichment queue carries them.
 */
export const ENRICH_KINDS = ['job', 'model', 'modelContainer', 'data', 'environment', 'code', 'endpoint', 'deployment', 'compute'] as const;
export type EnrichKind = (typeof ENRICH_KINDS)[number];

/**
 * How far enrichment follows links from the event that started it: endpoint -> deployment ->
 * model -> job -> data/code/environment/compute is 5. A bound, so that resources linking to each
 * other (an endpoint and its deployments) can never keep the queue busy.
 */
export const MAX_ENRICH_HOPS = 8;

export const enrichRequestSchema = z.object({
  kind: z.enum(ENRICH_KINDS),
  /** ARM id of the resource (any casing); for `modelContainer`, `.../models/{name}`. */
  armId: z.string().min(1),
  /** Event that caused the request, for provenance and debugging. */
  cause: z.object({ eventId: z.string().optional(), hash: z.string().optional(), eventType: z.string().optional() }).optional(),
  /** REST fetches that led here (0: asked for by an event). Links are followed at most MAX_ENRICH_HOPS deep. */
  hops: z.number().int().min(0).max(1000).optional(),
});
export type EnrichRequest = z.infer<typeof enrichRequestSchema>;

/** A prediction request seen in the online-endpoint traffic log (Q3). No caller identity or IP is kept. */
export const trafficRecordSchema = z.object({
  requestId: z.string().min(1),
  clientRequestId: z.string().optional(),
  /** When Azure ML received the request (TimeGenerated / time), as written by the source. */
  time: z.string(),
  workspace: z.string(),
  endpointArmId: z.string(),
  deploymentArmId: z.string(),
  method: z.string().optional(),
  path: z.string().optional(),
  responseCode: z.union([z.string(), z.number()]).optional(),
  modelStatusCode: z.union([z.string(), z.number()]).optional(),
  totalDurationMs: z.number().optional(),
  authType: z.string().optional(),
});
export type TrafficRecord = z.infer<typeof trafficRecordSchema>;
