import { z } from 'zod';

/**
 * The shapes of answers, as the OpenAPI document publishes them. Handlers return these; the
 * route tests validate answers against them.
 */
const provenanceEntry = z.object({
  source: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  eventTime: z.string(),
  instant: z.string(),
  hash: z.string().describe('sha256 of the canonical JSON of the raw event in the event log'),
  learnedAt: z.string(),
  delivery: z.record(z.string(), z.unknown()).optional(),
});

export const nodeSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    key: z.string().describe('natural key: lower-cased ARM id, registry URI or git commit'),
    label: z.string(),
    workspace: z.string().nullable(),
    placeholder: z.boolean().describe('referenced by an event, no event about it yet'),
    distance: z.number().int().optional(),
    properties: z.record(z.string(), z.unknown()),
    history: z.record(z.string(), z.array(z.object({ value: z.unknown(), eventTime: z.string() }))),
    provenance: z.object({
      facts: z.record(z.string(), z.object({ eventTime: z.string(), hash: z.string() })),
      events: z.array(provenanceEntry),
    }),
  })
  .meta({ id: 'Node' });

export const edgeSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    from: z.string(),
    to: z.string(),
    properties: z.record(z.string(), z.unknown()),
    history: z.record(z.string(), z.array(z.object({ value: z.unknown(), eventTime: z.string() }))),
    provenance: z.array(provenanceEntry),
  })
  .meta({ id: 'Edge' });

export const lineageAnswerSchema = z
  .object({
    root: z.string(),
    direction: z.enum(['upstream', 'downstream', 'both']),
    depth: z.number().int(),
    nodes: z.array(nodeSchema),
    edges: z.array(edgeSchema),
    partial: z.boolean(),
    partialReason: z.enum(['node-budget', 'time-budget']).optional(),
    cursor: z.string().optional(),
    hidden: z.number().int().optional(),
    answeredFrom: z
      .enum(['closures', 'walk'])
      .describe(
        '`closures`: read from precomputed closures that no pending link can change (2 round trips at any depth). `walk`: hop by hop over stored links, because a closure is behind the closure stage, truncated, or a filter needs what closures do not hold.',
      ),
  })
  .meta({ id: 'LineageAnswer' });

const subgraph = z.object({ nodes: z.array(nodeSchema), edges: z.array(edgeSchema), partial: z.boolean() });

export const asOfAnswerSchema = z
  .object({
    endpoint: nodeSchema,
    at: z.string(),
    serving: z.array(
      z.object({
        deployment: nodeSchema,
        trafficShare: z.number().nullable(),
        trafficSince: z.string().nullable(),
        model: nodeSchema.nullable(),
        modelSince: z.string().nullable(),
        upstream: subgraph.nullable(),
      }),
    ),
    notServing: z.array(z.object({ deployment: nodeSchema, trafficShare: z.number().nullable(), trafficSince: z.string().nullable() })),
  })
  .meta({ id: 'AsOfAnswer' });

export const predictionRequestAnswerSchema = z
  .object({
    requestId: z.string(),
    clientRequestId: z.string().optional(),
    time: z.string(),
    responseCode: z.union([z.string(), z.number()]).optional(),
    modelStatusCode: z.union([z.string(), z.number()]).optional(),
    totalDurationMs: z.number().optional(),
    endpointArmId: z.string(),
    deploymentArmId: z.string(),
    endpoint: nodeSchema.nullable(),
    deployment: nodeSchema.nullable(),
    model: nodeSchema.nullable(),
    modelSince: z.string().nullable(),
    upstream: subgraph.nullable(),
    provenance: z.unknown(),
  })
  .meta({ id: 'RequestAnswer' });

const impactItem = z.object({ node: nodeSchema, path: z.array(z.string()) });
export const impactAnswerSchema = z
  .object({
    root: nodeSchema,
    models: z.array(impactItem),
    deployments: z.array(impactItem.extend({ servingNow: z.boolean(), trafficShare: z.number().nullable(), model: z.string().nullable() })),
    endpoints: z.array(impactItem.extend({ servingDeployments: z.array(z.string()) })),
    jobs: z.array(impactItem),
    other: z.array(impactItem),
    partial: z.boolean(),
    hidden: z.number().int().optional(),
  })
  .meta({ id: 'ImpactAnswer' });

const sided = z.object({
  value: z.unknown(),
  provenance: z.array(z.object({ node: z.string().optional(), fact: z.string().optional(), eventTime: z.string(), hash: z.string() })),
});
const change = z.object({
  name: z.string(),
  from: z.unknown(),
  to: z.unknown(),
  delta: z.number().nullable().optional().describe('metrics: to - from'),
  direction: z.enum(['higher', 'lower']).nullable().optional().describe('metrics: which way is better'),
  verdict: z.enum(['better', 'worse', 'same', 'changed', 'added', 'removed']).optional(),
});
export const diffAnswerSchema = z
  .object({
    from: nodeSchema,
    to: nodeSchema,
    differences: z.array(z.object({ aspect: z.string(), from: sided, to: sided, changes: z.array(change).optional() })),
    same: z.array(z.string()),
    partial: z.boolean(),
  })
  .meta({ id: 'DiffAnswer' });

const requirement = z.string().describe('data, code, environment, job, metrics, approval, or metric:NAME>=VALUE');
export const gateAnswerSchema = z
  .object({
    model: nodeSchema,
    passed: z.boolean(),
    required: z.array(requirement),
    checks: z.record(
      z.string(),
      z.object({ present: z.boolean(), evidence: z.array(z.string()), observed: z.number().nullable().optional() }),
    ),
    missing: z.array(requirement),
  })
  .meta({ id: 'GateAnswer' });

export const searchAnswerSchema = z.object({ nodes: z.array(nodeSchema) }).meta({ id: 'SearchAnswer' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
  })
  .loose()
  .meta({ id: 'Problem' });

const servicePeriod = z.object({ from: z.string(), until: z.string().nullable(), share: z.number(), deployments: z.array(z.string()) });
const rollbackStep = z.object({ action: z.string(), command: z.string() });
export const timelineAnswerSchema = z
  .object({
    endpoint: z.object({
      id: z.string(),
      key: z.string(),
      label: z.string(),
      workspace: z.string().nullable(),
      type: z.enum(['online', 'batch']),
    }),
    since: z.string().nullable(),
    until: z.string().nullable(),
    changes: z.array(
      z.object({
        at: z.string(),
        kind: z.enum(['traffic', 'model']),
        deployment: z.string(),
        from: z.union([z.number(), z.string()]).nullable(),
        to: z.union([z.number(), z.string()]).nullable(),
        evidence: z.string().describe('content hash of the raw event that asserted the change'),
      }),
    ),
    versions: z.array(
      z.object({
        model: z.object({ id: z.string(), label: z.string(), key: z.string() }),
        periods: z.array(servicePeriod),
        maxShare: z.number(),
        minutesAtShare: z.number(),
        gate: z.object({ passed: z.boolean(), missing: z.array(requirement) }).nullable(),
        driftSignals: z.array(
          z.object({
            signal: z.string(),
            label: z.string(),
            source: z.enum(['dataset-drift', 'model-monitor']),
            detectedAt: z.string().nullable(),
            deployment: z.string().nullable(),
            attributed: z.boolean(),
          }),
        ),
        good: z.boolean(),
        notGoodBecause: z.array(z.string()),
      }),
    ),
    current: z.array(z.object({ deployment: z.string(), share: z.number(), model: z.string().nullable() })),
    rule: z.object({
      minTrafficPercent: z.number(),
      minServiceMinutes: z.number(),
      gateRequires: z.array(requirement),
      description: z.string(),
    }),
    lastGood: z.object({ model: z.string(), deployment: z.string().nullable(), servedUntil: z.string().nullable() }).nullable(),
    rollback: z
      .object({ alreadyServing: z.boolean(), steps: z.array(rollbackStep), note: z.string() })
      .nullable()
      .describe('printed, never run'),
  })
  .meta({ id: 'EndpointTimeline' });

export const reproduceAnswerSchema = z
  .object({
    job: z.object({
      id: z.string(),
      key: z.string(),
      label: z.string(),
      workspace: z.string().nullable(),
      jobType: z.string().nullable(),
    }),
    model: z.object({ id: z.string(), label: z.string() }).nullable().describe('the model version the reference named, if it named one'),
    spec: z.record(z.string(), z.unknown()).describe('the Azure ML CLI (v2) command job spec'),
    yaml: z.string().describe('the same spec as YAML, for az ml job create --file'),
    fileName: z.string(),
    command: z.string().describe('printed, never run'),
    pinned: z.array(z.object({ what: z.string(), to: z.string() })),
    gaps: z.array(
      z.object({
        kind: z.enum(['mutable-image', 'image-rebuilt', 'unversioned-input', 'no-seed', 'dirty-code', 'unrecorded']),
        what: z.string(),
        detail: z.string(),
      }),
    ),
  })
  .meta({ id: 'Reproduce' });
