import { z } from 'zod';
import { armIdProblem, parseArmId } from '../graph/keys.js';

/**
 * What the enrichment queue carries: fetch one Azure ML resource from the management REST API
 * and add the links it holds (job inputs and outputs, code, environment, compute; model version
 * -> job; deployment -> model; endpoint -> traffic), and a job's MLflow run (metrics, params,
 * dataset inputs). Normalizers ask for these; the enricher answers them.
 */
export const ENRICHMENT_KINDS = [
  'job',
  'model',
  'modelContainer',
  'data',
  'environment',
  'code',
  // A component version (workspace or registry): what a pipeline step ran, with its code and environment.
  'component',
  'endpoint',
  'deployment',
  'compute',
  // The job's run on the workspace's MLflow tracking server (runs/get); armId names the job.
  'mlflowRun',
] as const;
export type EnrichmentKind = (typeof ENRICHMENT_KINDS)[number];

/**
 * How far enrichment follows links from the event that started it: endpoint -> deployment ->
 * model -> job -> data/code/environment/compute is 5. A bound, so that resources linking to each
 * other (an endpoint and its deployments) can never keep the queue busy.
 */
export const MAX_ENRICHMENT_HOPS = 8;

export const enrichmentMessageSchema = z
  .object({
    kind: z.enum(ENRICHMENT_KINDS),
    /** ARM id of the resource (any casing); for `modelContainer`, `.../models/{name}`. */
    armId: z.string().min(1),
    /** Event that caused the message, for provenance and debugging. */
    cause: z.object({ eventId: z.string().optional(), hash: z.string().optional(), eventType: z.string().optional() }).optional(),
    /** REST fetches that led here (0: asked for by an event). Links are followed at most MAX_ENRICHMENT_HOPS deep. */
    hops: z.number().int().min(0).max(1000).optional(),
    /** For `mlflowRun`: the tracking URI the job names (`services.Tracking.endpoint`); else the workspace's `mlFlowTrackingUri`. */
    trackingUri: z.string().min(1).max(2048).optional(),
  })
  // Checked before any request: a name from an event must not steer the URL (see armIdProblem).
  .superRefine(({ kind, armId }, ctx) => {
    const problem =
      armIdProblem(armId) ??
      (kind === 'modelContainer' ? (/\/models\/[^/]+$/i.test(armId) ? undefined : 'it does not end in /models/NAME') : undefined) ??
      (kind !== 'modelContainer' && !parseArmId(armId) ? `it is not the id of an Azure ML ${kind}` : undefined);
    if (problem) ctx.addIssue({ code: 'custom', path: ['armId'], message: `not a safe ARM id: ${problem}` });
  });
export type EnrichmentMessage = z.infer<typeof enrichmentMessageSchema>;
