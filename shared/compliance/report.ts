import { z } from 'zod';
import { SECTIONS, type SectionName } from './sections.js';

/**
 * The compliance report: what auditors and platform owners read (Q9, Q6). Every section has the
 * same spine — `numerator` of `denominator` things are fine, `ratio` between them (null when there
 * is nothing to measure) — and `items` lists what needs attention. Higher ratios are better in
 * every section, so one gauge per section reads the same way on a dashboard.
 *
 * Reports never carry personal data: items name documents, field paths and node labels, and node
 * labels come from documents that were redacted at ingest.
 */
export const CHECKS = ['lineage', 'drift', 'retention', 'pii', 'integrity', 'serving', 'schemaDrift'] as const;
export type CheckName = (typeof CHECKS)[number];

export { SECTIONS, type SectionName };

export const LINEAGE_REQUIREMENTS = ['data', 'code', 'environment', 'job'] as const;
export type LineageRequirement = (typeof LINEAGE_REQUIREMENTS)[number];

const count = z.number().int().min(0);
const tally = z.object({ numerator: count, denominator: count });

function section<T extends z.ZodType>(item: T) {
  return z.object({
    numerator: count,
    denominator: count,
    /** numerator / denominator; null when the denominator is 0 (nothing to measure, not "all good"). */
    ratio: z.number().min(0).max(1).nullable(),
    /** When the check that computes this section last ran (sections of other checks are carried over). */
    computedAt: z.string().nullable(),
    items: z.array(item),
  });
}

export const lineageGapSchema = z.object({
  node: z.string(),
  label: z.string(),
  workspace: z.string().nullable(),
  owner: z.string(),
  missing: z.array(z.string()),
});
export type LineageGap = z.infer<typeof lineageGapSchema>;

export const deploymentGapSchema = lineageGapSchema.extend({
  /** The model version the deployment serves, as last observed. */
  model: z.string().nullable(),
});
export type DeploymentGap = z.infer<typeof deploymentGapSchema>;

export const changeSchema = z.object({
  aspect: z.enum(['data', 'code', 'environment', 'parameters']),
  from: z.unknown(),
  to: z.unknown(),
});
export type UpstreamChange = z.infer<typeof changeSchema>;

export const DRIFT_REASONS = {
  'no-deployment': 'no deployment served a model trained on or monitored with this data when the signal fired',
  'no-comparison': 'no previously serving model version and no baseline to compare with',
  'no-upstream-change': 'compared with the previous version or baseline, data, code, environment and parameters are all the same',
  'upstream-incomplete': 'the lineage of the model or of what it is compared with is incomplete, so changes cannot be named',
} as const;
export type DriftReason = keyof typeof DRIFT_REASONS;

export const driftItemSchema = z.object({
  signal: z.string(),
  label: z.string(),
  source: z.enum(['dataset-drift', 'model-monitor']),
  workspace: z.string().nullable(),
  detectedAt: z.string().nullable(),
  deployment: z.string().nullable(),
  model: z.string().nullable(),
  trainingData: z.array(z.string()),
  attributed: z.boolean(),
  /** What it was compared with: the version served before, or the drift monitor's baseline data. */
  comparedWith: z.object({ kind: z.enum(['previous-serving-version', 'baseline']), label: z.string() }).nullable(),
  changes: z.array(changeSchema),
  reason: z.enum(Object.keys(DRIFT_REASONS) as [DriftReason, ...DriftReason[]]).nullable(),
  explanation: z.string().nullable(),
});
export type DriftItem = z.infer<typeof driftItemSchema>;

export const RECORD_KINDS = ['raw-event', 'request-trace'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const retentionViolationSchema = z.object({
  kind: z.enum(['kept-too-long', 'missing-in-audit-window']),
  recordKind: z.enum(RECORD_KINDS),
  /** The record's id (raw events: the content hash). */
  record: z.string(),
  /** When the record was received or happened. */
  recordTime: z.string().nullable(),
  policy: z.string(),
  detail: z.string(),
  detectedAt: z.string(),
});
export type RetentionViolation = z.infer<typeof retentionViolationSchema>;

export const policyStatusSchema = z.object({
  recordKind: z.enum(RECORD_KINDS),
  policy: z.string(),
  retentionDays: z.number().int(),
  /** Archived to Blob Storage and replaced by a tombstone, since tracking began. */
  purged: count,
  purgedThisRun: count,
  /** Past retention but kept under a legal hold. */
  held: count,
});

export const piiFindingItemSchema = z.object({
  container: z.enum(['graph', 'events', 'requests']),
  document: z.string(),
  label: z.string().nullable(),
  kind: z.string(),
  /** Field path inside the document; the value itself is never reported. */
  path: z.string(),
});
export type PiiFindingItem = z.infer<typeof piiFindingItemSchema>;

/** Reveals of sealed identities by auditors (GET /api/identities/{hash}): every one is logged, and counted here. */
export const identityRevealsSchema = z.object({
  total: count,
  last30Days: count,
  /** Per auditor (their identity hash, or `function-key`). */
  byAuditor: z.record(z.string(), count),
  lastAt: z.string().nullable(),
  computedAt: z.string(),
});
export type IdentityReveals = z.infer<typeof identityRevealsSchema>;
export const INTEGRITY_KINDS = [
  'body-altered',
  'event-missing',
  'leaf-mismatch',
  'checkpoint-invalid',
  'checkpoint-inconsistent',
  'checkpoint-archive-mismatch',
  'log-rolled-back',
] as const;

/** An integrity failure of the evidence log (compliance/integrityCheck.ts). */
export const integrityFailureSchema = z.object({
  kind: z.enum(INTEGRITY_KINDS),
  /** The raw event concerned (`sha256:<hex>`), if any. */
  event: z.string().nullable(),
  leafIndex: z.number().int().nullable(),
  /** The tree size of the checkpoint concerned, if any. */
  checkpoint: z.number().int().nullable(),
  detail: z.string(),
  detectedAt: z.string(),
});
export type IntegrityFailure = z.infer<typeof integrityFailureSchema>;

/** A serving deployment we have learned nothing about for longer than the stale threshold. */
export const staleDeploymentSchema = z.object({
  node: z.string(),
  label: z.string(),
  workspace: z.string().nullable(),
  /** When we last learned anything about it or its endpoint (the newest `learnedAt`); null: never observed itself. */
  lastObservedAt: z.string().nullable(),
  /** Seconds from `lastObservedAt` to when the section was computed; null when never observed. */
  ageSeconds: z.number().int().min(0).nullable(),
});
export type StaleDeployment = z.infer<typeof staleDeploymentSchema>;

export const ASPECT_VERDICTS = ['match', 'mismatch', 'unknown'] as const;
/** One side of a serving-versus-training comparison: the asset, and for environments the image and its digest. */
export const comparedSideSchema = z.object({
  asset: z.string().nullable(),
  image: z.string().nullable().optional(),
  digest: z.string().nullable().optional(),
});
export const aspectComparisonSchema = z.object({
  aspect: z.enum(['environment', 'code']),
  verdict: z.enum(ASPECT_VERDICTS),
  serving: comparedSideSchema,
  training: comparedSideSchema,
});
export type AspectComparison = z.infer<typeof aspectComparisonSchema>;

export const servingMismatchSchema = z.object({
  node: z.string(),
  label: z.string(),
  workspace: z.string().nullable(),
  model: z.string().nullable(),
  /** The job that trained the model version; null when it is not known. */
  trainingJob: z.string().nullable(),
  comparisons: z.array(aspectComparisonSchema),
});
export type ServingMismatch = z.infer<typeof servingMismatchSchema>;

const pathCount = z.object({ path: z.string(), events: count });
/** Per event type, Monitor category or REST resource kind: events with unexpected fields, and dead-lettered ones. */
export const schemaDriftSourceSchema = z.object({
  channel: z.string(),
  source: z.string(),
  sourceKind: z.enum(['event-type', 'category', 'resource-kind']),
  events: count,
  /** Normalized, with only fields we expected. */
  clean: count,
  withUnexpectedFields: count,
  deadLettered: count,
  /** Field paths we did not expect, with the number of events carrying each (never values). */
  unexpectedFields: z.array(pathCount),
  /** Field paths the dead-lettered events were refused for. */
  deadLetterFields: z.array(pathCount),
});
export type SchemaDriftSource = z.infer<typeof schemaDriftSourceSchema>;

const emptyFreshnessSection = {
  numerator: 0,
  denominator: 0,
  ratio: null,
  computedAt: null,
  items: [],
  staleAfterHours: null,
  p50Seconds: null,
  p95Seconds: null,
  maxSeconds: null,
};
const emptySectionOf = { numerator: 0, denominator: 0, ratio: null, computedAt: null, items: [] };

const emptyIntegritySection = {
  numerator: 0,
  denominator: 0,
  ratio: null,
  computedAt: null,
  items: [],
  treeSize: 0,
  verifiedCheckpoint: null,
};

export const reportSchema = z.object({
  schemaVersion: z.literal(1),
  runId: z.string(),
  generatedAt: z.string(),
  trigger: z.string(),
  mode: z.enum(['incremental', 'full', 'window']),
  window: z.object({ since: z.string(), until: z.string() }).nullable(),
  checksRun: z.array(z.enum(CHECKS)),
  lineageCompleteness: section(lineageGapSchema).extend({
    byWorkspace: z.record(z.string(), tally),
    byOwner: z.record(z.string(), tally),
  }),
  deploymentTraceability: section(deploymentGapSchema).extend({
    byWorkspace: z.record(z.string(), tally),
    byOwner: z.record(z.string(), tally),
  }),
  driftAttribution: section(driftItemSchema).extend({ attributed: z.array(driftItemSchema) }),
  retention: section(retentionViolationSchema).extend({ policies: z.array(policyStatusSchema), activeHolds: z.array(z.string()) }),
  pii: section(piiFindingItemSchema).extend({ byKind: z.record(z.string(), count) }),
  /** Absent from reports made before reveals existed. */
  identityReveals: identityRevealsSchema.optional(),
  /** Reports written before the evidence log existed have no integrity section: read as an empty one. */
  integrity: section(integrityFailureSchema)
    .extend({ treeSize: count, verifiedCheckpoint: count.nullable() })
    .default(emptyIntegritySection),
  /** Reports written before these sections existed read them as empty. */
  freshness: section(staleDeploymentSchema)
    .extend({
      staleAfterHours: z.number().min(0).nullable(),
      p50Seconds: count.nullable(),
      p95Seconds: count.nullable(),
      maxSeconds: count.nullable(),
    })
    .default(emptyFreshnessSection),
  servingMatchesTraining: section(servingMismatchSchema).default(emptySectionOf),
  schemaDrift: section(schemaDriftSourceSchema)
    .extend({ bySource: z.array(schemaDriftSourceSchema) })
    .default({ ...emptySectionOf, bySource: [] }),
  /** What this run cost: hardware-independent figures. */
  cost: z.object({
    cosmosRequests: count,
    documentsRead: count,
    byCheck: z.record(z.string(), z.object({ cosmosRequests: count, documentsRead: count, changedDocuments: count })),
  }),
});
export type ComplianceReport = z.infer<typeof reportSchema>;

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** One point of the trend chart: the ratio of every section at one run. */
export interface TrendPoint {
  runId: string;
  generatedAt: string;
  ratios: Record<SectionName, number | null>;
}

export function trendPoint(report: ComplianceReport): TrendPoint {
  const ratios = Object.fromEntries(SECTIONS.map((s) => [s, report[s].ratio])) as Record<SectionName, number | null>;
  return { runId: report.runId, generatedAt: report.generatedAt, ratios };
}
