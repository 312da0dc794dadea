import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../errors.js';
import { redactPii } from '../privacy/pii.js';
import { START, markSchema, type ChangeStream, type ChangeWindow, type Mark } from '../store/changeStream.js';
import type { ComplianceBlobs } from '../store/complianceBlobs.js';
import type { EventLog } from '../store/eventLog.js';
import type { GraphStore } from '../store/graphStore.js';
import { runClosureStage } from '../usecases/closureStage.js';
import type { RetainedRecords } from '../store/retainedRecords.js';
import type { TlogStore } from '../store/tlogStore.js';
import { StoreMeter } from '../store/storeMeter.js';
import { driftSection, driftStateSchema, emptyDriftState, updateDriftState, type DriftState } from './driftCheck.js';
import type { HoldStore } from './holds.js';
import {
  checkChangedEvents,
  checkLog,
  emptyIntegrityState,
  integritySection,
  integrityStateSchema,
  type IntegrityState,
} from './integrityCheck.js';
import { emptyLineageState, lineageSections, lineageStateSchema, updateLineageState, type LineageState } from './lineageCheck.js';
import { emptyPiiState, piiSection, piiStateSchema, updatePiiState, type PiiState } from './piiCheck.js';
import {
  emptySchemaDriftState,
  schemaDriftSection,
  schemaDriftStateSchema,
  updateSchemaDriftState,
  type SchemaDriftState,
} from './schemaDriftCheck.js';
import {
  emptyServingState,
  freshnessSection,
  servingMatchesTrainingSection,
  servingStateSchema,
  updateServingState,
  type ServingState,
} from './servingCheck.js';
import {
  CHECKS,
  SECTIONS,
  reportSchema,
  type DriftItem,
  trendPoint,
  type CheckName,
  type ComplianceReport,
  type RecordKind,
  type TrendPoint,
} from './report.js';
import {
  emptyRetentionState,
  enforceRetention,
  retentionSection,
  retentionStateSchema,
  verifyAuditTrail,
  type Policy,
  type RetentionState,
} from './retentionCheck.js';

/**
 * One compliance run: each requested check reads what changed since its own last run (or a
 * window, or everything), updates its durable state, and the report is folded from the states of
 * all checks — sections of checks that did not run are carried over with their `computedAt`.
 */
export interface ComplianceDeps {
  /** The stores, metered by `meter`: each run counts the store requests it alone made. */
  stores: (meter: StoreMeter) => ComplianceStores;
  blobs: ComplianceBlobs;
  holds: HoldStore;
  retention: { rawEventsDays: number; requestsDays: number; graceDays: number; auditWindowDays: number };
  /** A serving deployment whose latest observation is older than this is listed as stale (FRESHNESS_STALE_HOURS). */
  freshness: { staleAfterHours: number };
  redactionKey: string;
  now: () => Date;
  /** The app's public origin, for links from report items to the lineage explorer; none when unknown. */
  explorerOrigin?: string | null;
  /** The reveal log of the identity vault; without it the report has no identityReveals section. */
  identityReveals?: { reveals(since?: Date): Promise<Array<{ at: string; by: string }>> };
  /** The evidence log's verifier key, which every checkpoint must be signed with (integrity check). */
  verifierKey: () => Promise<string>;
}

export interface RunOptions {
  checks?: CheckName[];
  /** incremental (default): since each check's mark; full: from scratch; window: re-check a range. */
  mode?: 'incremental' | 'full' | 'window';
  window?: { since: string; until: string };
  trigger: string;
}

/** The containers whose changes the checks read, by the names their marks are kept under. */
export type ChangeSource = 'graph' | 'events' | 'requests';

/** The store adapters one run reads and writes through, all counting into the run's meter. */
export interface ComplianceStores {
  graph: GraphStore;
  /** Each container's change stream. */
  changes: Record<ChangeSource, ChangeStream>;
  /** Where each kind of record retention applies to is kept. */
  records: Record<RecordKind, RetainedRecords>;
  eventLog: EventLog;
  /** The evidence log (integrity check). */
  tlog: TlogStore;
}

/** What one run works with: its own meter, so the cost it reports is its alone. */
interface RunDeps extends ComplianceDeps, ComplianceStores {
  meter: StoreMeter;
}

const CONTAINERS_OF: Record<CheckName, ChangeSource[]> = {
  lineage: ['graph'],
  drift: ['graph'],
  pii: ['graph', 'events', 'requests'],
  retention: ['graph'],
  integrity: ['events'],
  serving: ['graph'],
  schemaDrift: ['events'],
};

const DATA_SCHEMAS = {
  lineage: lineageStateSchema,
  drift: driftStateSchema,
  pii: piiStateSchema,
  retention: retentionStateSchema,
  integrity: integrityStateSchema,
  serving: servingStateSchema,
  schemaDrift: schemaDriftStateSchema,
};
type DataOf = {
  lineage: LineageState;
  drift: DriftState;
  pii: PiiState;
  retention: RetentionState;
  integrity: IntegrityState;
  serving: ServingState;
  schemaDrift: SchemaDriftState;
};
const EMPTY: { [C in CheckName]: () => DataOf[C] } = {
  lineage: emptyLineageState,
  drift: emptyDriftState,
  pii: emptyPiiState,
  retention: emptyRetentionState,
  integrity: emptyIntegrityState,
  serving: emptyServingState,
  schemaDrift: emptySchemaDriftState,
};

const stateEnvelope = z.object({
  check: z.enum(CHECKS),
  updatedAt: z.string().nullable(),
  marks: z.record(z.string(), markSchema),
  data: z.unknown(),
});

interface CheckState<C extends CheckName> {
  updatedAt: string | null;
  marks: Record<string, Mark>;
  data: DataOf[C];
  etag: string | null;
}

const HISTORY = 'reports/history.json';
const LATEST = 'reports/latest.json';
const HISTORY_CAP = 400;
/** Change pages (of 500 documents) between saves of a check's progress. */
const CHECKPOINT_PAGES = 20;
/** Provenance learned this long before the previous run may have been written after it. */
const AUDIT_OVERLAP_MS = 3_600_000;

export function statePath(check: CheckName): string {
  return `state/${check}.json`;
}

async function loadState<C extends CheckName>(blobs: ComplianceBlobs, check: C): Promise<CheckState<C>> {
  const found = await blobs.readJson(statePath(check), stateEnvelope);
  if (!found) return { updatedAt: null, marks: {}, data: EMPTY[check](), etag: null };
  return {
    updatedAt: found.value.updatedAt,
    marks: found.value.marks,
    data: DATA_SCHEMAS[check].parse(found.value.data) as DataOf[C],
    etag: found.etag,
  };
}

function toSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

interface CheckFigures {
  cosmosRequests: number;
  documentsRead: number;
  changedDocuments: number;
}

export function policiesOf(deps: Pick<ComplianceDeps, 'retention'>): Policy[] {
  return [
    {
      recordKind: 'raw-event',
      name: `raw-events-${deps.retention.rawEventsDays}d`,
      days: deps.retention.rawEventsDays,
      timeField: 'receivedAt',
    },
    {
      recordKind: 'request-trace',
      name: `request-traces-${deps.retention.requestsDays}d`,
      days: deps.retention.requestsDays,
      timeField: 'instant',
    },
  ];
}

async function runCheck<C extends CheckName>(
  deps: RunDeps,
  check: C,
  state: CheckState<C>,
  options: Required<Pick<RunOptions, 'mode'>> & { window?: ChangeWindow },
  now: Date,
): Promise<CheckFigures & { purgedThisRun?: Record<RecordKind, number> }> {
  // Checks read closures: the closure stage's pending links go in first (its work, not the run's),
  // and the closures it writes are changes this run reads.
  await runClosureStage(deps.graph, deps.blobs, { wait: true });
  const before = deps.meter.snapshot().storeRequests;
  let documentsRead = 0;
  let changedDocuments = 0;
  let purgedThisRun: Record<RecordKind, number> | undefined;
  const previousRun = state.updatedAt;
  const save = async () => {
    state.etag = await deps.blobs.writeJson(
      statePath(check),
      { check, updatedAt: state.updatedAt, marks: state.marks, data: state.data },
      state.etag,
    );
  };
  // A long first run saves its progress (marks and results so far, `updatedAt` untouched), so a
  // run cut short by the function timeout is resumed by the next one instead of starting over.
  const checkpoint = (container: string) => ({
    everyPages: CHECKPOINT_PAGES,
    save: async (mark: Mark) => {
      state.marks[container] = mark;
      await save();
    },
  });

  if (check === 'retention') {
    const data = state.data as RetentionState;
    const retentionDeps = {
      blobs: deps.blobs,
      records: deps.records,
      eventLog: deps.eventLog,
      policies: policiesOf(deps),
      holds: await deps.holds.list(),
      graceDays: deps.retention.graceDays,
      auditWindowDays: deps.retention.auditWindowDays,
      now,
    };
    const figures = await enforceRetention(data, retentionDeps);
    documentsRead += figures.documentsRead;
    purgedThisRun = figures.purgedThisRun;
    const since = options.mode === 'incremental' && previousRun ? new Date(Date.parse(previousRun) - AUDIT_OVERLAP_MS).toISOString() : null;
    const checked = new Set<string>();
    const { mark, read } = await deps.changes.graph.read(
      options.window ? { window: options.window } : { mark: state.marks.graph ?? START },
      async (docs) => {
        changedDocuments += docs.length;
        documentsRead += await verifyAuditTrail(data, retentionDeps, docs, since, checked);
      },
      { checkpoint: checkpoint('graph') },
    );
    documentsRead += read;
    if (mark) state.marks.graph = mark;
  } else {
    for (const container of CONTAINERS_OF[check]) {
      const { mark, read } = await deps.changes[container].read(
        options.window ? { window: options.window } : { mark: state.marks[container] ?? START },
        async (docs) => {
          changedDocuments += docs.length;
          if (check === 'pii') {
            updatePiiState(state.data as PiiState, container, docs, options.mode !== 'window');
            return;
          }
          if (check === 'integrity') {
            checkChangedEvents(state.data as IntegrityState, { now }, docs);
            return;
          }
          if (check === 'schemaDrift') {
            // A window re-reads events already counted: counting them again would inflate the figures.
            if (options.mode !== 'window') updateSchemaDriftState(state.data as SchemaDriftState, docs);
            return;
          }
          // Lineage and drift: re-evaluate what the changed documents belong to (their partition
          // is their node), reading further documents by point reads, each at most once per page.
          const reader = deps.graph.reader();
          reader.seed(docs);
          const affected = new Set(docs.map((d) => d.pk));
          if (check === 'lineage') await updateLineageState(state.data as LineageState, reader, affected, now);
          else if (check === 'serving') await updateServingState(state.data as ServingState, reader, affected, now);
          else {
            // The changed nodes themselves, as seeded: no read.
            const changedNodes = await reader.nodes(docs.filter((d) => d.docType === 'node').map((d) => d.id));
            await updateDriftState(state.data as DriftState, reader, affected, changedNodes);
          }
          documentsRead += reader.documentsRead;
        },
        { checkpoint: checkpoint(container) },
      );
      documentsRead += read;
      if (mark) state.marks[container] = mark;
    }
    // A window re-checks the documents written in it; the log itself is checked by the other modes.
    if (check === 'integrity' && !options.window) {
      const integrityDeps = { tlog: deps.tlog, eventLog: deps.eventLog, verifierKey: deps.verifierKey, now };
      documentsRead += await checkLog(state.data as IntegrityState, integrityDeps, options.mode === 'full');
    }
  }
  state.updatedAt = now.toISOString();
  await save();
  return { cosmosRequests: deps.meter.snapshot().storeRequests - before, documentsRead, changedDocuments, purgedThisRun };
}

export async function runCompliance(shared: ComplianceDeps, options: RunOptions): Promise<ComplianceReport> {
  const checks = options.checks ?? [...CHECKS];
  // One run at a time per check: a lease each, in a fixed order, all or none.
  const releases: Array<() => Promise<void>> = [];
  const releaseAll = () => Promise.all(releases.map((release) => release()));
  for (const check of [...checks].sort()) {
    const release = await shared.blobs.lease(check);
    if (!release) {
      await releaseAll();
      throw new DomainError('run-in-progress', `A ${check} check is already running; try again when it has finished.`);
    }
    releases.push(release);
  }
  try {
    return await runLeased(shared, { ...options, checks });
  } finally {
    await releaseAll();
  }
}

async function runLeased(shared: ComplianceDeps, options: RunOptions): Promise<ComplianceReport> {
  // A meter of its own, so the run's cost is the run's alone, whatever else the process serves.
  const meter = new StoreMeter();
  const deps: RunDeps = { ...shared, ...shared.stores(meter), meter };
  const now = deps.now();
  const mode = options.mode ?? 'incremental';
  const checks = options.checks ?? [...CHECKS];
  const window =
    mode === 'window' && options.window ? { since: toSeconds(options.window.since), until: toSeconds(options.window.until) } : undefined;
  const before = deps.meter.snapshot().storeRequests;
  const states = {
    lineage: await loadState(deps.blobs, 'lineage'),
    drift: await loadState(deps.blobs, 'drift'),
    pii: await loadState(deps.blobs, 'pii'),
    retention: await loadState(deps.blobs, 'retention'),
    integrity: await loadState(deps.blobs, 'integrity'),
    serving: await loadState(deps.blobs, 'serving'),
    schemaDrift: await loadState(deps.blobs, 'schemaDrift'),
  };
  const byCheck: Record<string, CheckFigures> = {};
  let purgedThisRun: Record<RecordKind, number> | null = null;
  for (const check of checks) {
    const state = states[check] as CheckState<CheckName>;
    if (mode === 'full') {
      state.marks = {};
      if (check === 'retention') {
        // Purge counts and holds are history, not recomputable; the audit trail is re-verified in full.
        const data = state.data as RetentionState;
        for (const [key, v] of Object.entries(data.violations)) if (v.kind === 'missing-in-audit-window') delete data.violations[key];
      } else state.data = EMPTY[check]();
    }
    const figures = await runCheck(deps, check, state, { mode, window }, now);
    if (figures.purgedThisRun) purgedThisRun = figures.purgedThisRun;
    byCheck[check] = {
      cosmosRequests: figures.cosmosRequests,
      documentsRead: figures.documentsRead,
      changedDocuments: figures.changedDocuments,
    };
  }

  const lineage = lineageSections(states.lineage.data);
  const computedAt = (check: CheckName) => states[check].updatedAt;
  const draft: ComplianceReport = {
    schemaVersion: 1,
    runId: `${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z-${randomBytes(3).toString('hex')}`,
    generatedAt: now.toISOString(),
    trigger: options.trigger,
    mode,
    window: mode === 'window' && options.window ? options.window : null,
    checksRun: checks,
    lineageCompleteness: { ...lineage.lineageCompleteness, computedAt: computedAt('lineage') },
    deploymentTraceability: { ...lineage.deploymentTraceability, computedAt: computedAt('lineage') },
    driftAttribution: { ...driftSection(states.drift.data), computedAt: computedAt('drift') },
    retention: { ...retentionSection(states.retention.data, policiesOf(deps), purgedThisRun), computedAt: computedAt('retention') },
    pii: { ...piiSection(states.pii.data), computedAt: computedAt('pii') },
    ...(shared.identityReveals ? { identityReveals: await identityRevealsSection(shared.identityReveals, now) } : {}),
    integrity: { ...integritySection(states.integrity.data), computedAt: computedAt('integrity') },
    freshness: {
      ...freshnessSection(states.serving.data, computedAt('serving'), deps.freshness.staleAfterHours),
      computedAt: computedAt('serving'),
    },
    servingMatchesTraining: { ...servingMatchesTrainingSection(states.serving.data), computedAt: computedAt('serving') },
    schemaDrift: { ...schemaDriftSection(states.schemaDrift.data), computedAt: computedAt('schemaDrift') },
    cost: {
      cosmosRequests: deps.meter.snapshot().storeRequests - before,
      documentsRead: Object.values(byCheck).reduce((s, f) => s + f.documentsRead, 0),
      byCheck,
    },
  };
  // Belt and braces: whatever slipped into a label or owner before a rule existed is hashed here
  // with the same key as at ingest, so a report never carries it (the PII section names where it sits).
  const report = reportSchema.parse(redactPii(draft, deps.redactionKey));
  await publishReport(deps.blobs, report, deps.explorerOrigin ?? null);
  return report;
}

/** Counts every logged reveal: total, in the last 30 days, per auditor. */
async function identityRevealsSection(
  log: NonNullable<ComplianceDeps['identityReveals']>,
  now: Date,
): Promise<NonNullable<ComplianceReport['identityReveals']>> {
  const all = await log.reveals();
  const since = new Date(now.getTime() - 30 * 86_400_000).toISOString();
  const byAuditor: Record<string, number> = {};
  for (const r of all) byAuditor[r.by] = (byAuditor[r.by] ?? 0) + 1;
  return {
    total: all.length,
    last30Days: all.filter((r) => r.at >= since).length,
    byAuditor,
    lastAt: all[all.length - 1]?.at ?? null,
    computedAt: now.toISOString(),
  };
}

const historySchema = z.array(
  z.object({ runId: z.string(), generatedAt: z.string(), ratios: z.record(z.string(), z.number().nullable()) }),
);

export function reportPath(report: Pick<ComplianceReport, 'generatedAt' | 'runId'>, extension: 'json' | 'html'): string {
  return `reports/${report.generatedAt.slice(0, 10).replace(/-/g, '/')}/${report.runId}.${extension}`;
}

async function publishReport(blobs: ComplianceBlobs, report: ComplianceReport, explorerOrigin: string | null): Promise<void> {
  const history = await trendHistory(blobs);
  history.push(trendPoint(report));
  const kept = history.slice(-HISTORY_CAP);
  await blobs.writeJson(reportPath(report, 'json'), report);
  // Loaded here, not at startup: the chart's DOM and plotting libraries are most of the app's
  // module load time, and only a compliance run needs them (the package splits them into a chunk).
  const { renderHtml } = await import('./render.js');
  await blobs.writeText(reportPath(report, 'html'), renderHtml(report, kept, explorerOrigin), undefined, 'text/html; charset=utf-8');
  await blobs.writeJson(HISTORY, kept);
  // Written last: `latest` never points at a report whose files are not there yet.
  await blobs.writeJson(LATEST, report);
}

/** The ratios of past runs, oldest first (the last HISTORY_CAP runs), as the report's trend chart draws them. */
export async function trendHistory(blobs: ComplianceBlobs): Promise<TrendPoint[]> {
  const points = (await blobs.readJson(HISTORY, historySchema))?.value ?? [];
  // Runs before a section existed had nothing to measure there.
  return points.map((p) => ({ ...p, ratios: Object.fromEntries(SECTIONS.map((s) => [s, p.ratios[s] ?? null])) as TrendPoint['ratios'] }));
}

/** Every drift signal as the drift check last attributed it (none before its first run). */
export async function driftSignals(blobs: ComplianceBlobs): Promise<DriftItem[]> {
  const { data } = await loadState(blobs, 'drift');
  const section = driftSection(data);
  return [...section.attributed, ...section.items];
}

export async function latestReport(blobs: ComplianceBlobs): Promise<ComplianceReport | undefined> {
  return (await blobs.readJson(LATEST, reportSchema))?.value;
}
