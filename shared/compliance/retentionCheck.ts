import { z } from 'zod';
import type { ComplianceBlobs } from '../store/complianceBlobs.js';
import type { EventLog } from '../store/eventLog.js';
import { stripSystem, type StoredDoc } from '../store/reads.js';
import type { RecordTimeField, RetainedRecords } from '../store/retainedRecords.js';
import { tombstoneSchema, type Tombstone } from '../store/tombstone.js';
import { hashLeaf } from '../tlog/merkle.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { covers, holdScope, isActive, type Hold } from './holds.js';
import { RECORD_KINDS, ratio, retentionViolationSchema, type RecordKind, type RetentionViolation } from './report.js';

/**
 * Retention: each kind of record has a policy (days kept, measured from the record's own time).
 * A record past its policy is archived to Blob Storage, then replaced in place by a tombstone that
 * says what was purged, when and under which policy — so provenance hashes and request ids still
 * resolve. A raw event's tombstone keeps its evidence-log leaf hash, so its inclusion proof and the
 * log's consistency still verify. Records under an active legal hold are marked (`legalHold`, `ttl: -1`) and kept; when
 * the hold ends the mark is lifted and the next run purges them.
 *
 * In Azure, container TTL on request traces is the backstop (policy + grace, see infra/azure):
 * this timer normally purges first, and reports as "kept too long" anything still there past
 * policy + grace. Raw events have no TTL: they are the audit evidence and only this timer,
 * archiving first, removes them.
 *
 * "Missing within the audit window": a raw event the graph's provenance names, younger than the
 * audit window, that is neither in the event log nor tombstoned — evidence deleted outside policy.
 */
export interface Policy {
  recordKind: RecordKind;
  name: string;
  days: number;
  /** Field holding the record's time, compared as a string (ISO 8601 UTC in both containers). */
  timeField: RecordTimeField;
}

export const retentionStateSchema = z.object({
  purged: z.record(z.enum(RECORD_KINDS), z.number().int()),
  /** `holdId|recordKind` -> records the hold keeps. */
  held: z.record(z.string(), z.number().int()),
  activeHolds: z.array(z.string()),
  /** hold id -> its scope when it last marked records (a narrowed hold must let go of what it no longer covers). */
  holdScopes: z.record(z.string(), z.string()).default({}),
  violations: z.record(z.string(), retentionViolationSchema),
});
export type RetentionState = z.infer<typeof retentionStateSchema>;

export function emptyRetentionState(): RetentionState {
  return { purged: { 'raw-event': 0, 'request-trace': 0 }, held: {}, activeHolds: [], holdScopes: {}, violations: {} };
}

export interface RetentionDeps {
  blobs: ComplianceBlobs;
  /** Where each kind of record is kept. */
  records: Record<RecordKind, RetainedRecords>;
  /** The raw events the graph's provenance cites. */
  eventLog: EventLog;
  policies: Policy[];
  holds: Hold[];
  graceDays: number;
  auditWindowDays: number;
  now: Date;
}

const DAY = 86_400_000;

/** Where a record's workspace can be read: the event source, the request's workspace, else the body. */
function whereOf(doc: StoredDoc): string {
  if (typeof doc.eventSource === 'string') return doc.eventSource;
  if (typeof doc.workspace === 'string') return `/workspaces/${doc.workspace}`;
  return JSON.stringify(doc.body ?? '');
}

function archivePath(kind: RecordKind, recordTime: string | null, id: string): string {
  const day = recordTime && /^\d{4}-\d{2}-\d{2}/.test(recordTime) ? recordTime.slice(0, 10).replace(/-/g, '/') : 'undated';
  return `archive/${kind}/${day}/${id}.json`;
}

/** Archive first, then tombstone: a record is never gone without its copy. */
async function purge(deps: RetentionDeps, policy: Policy, doc: StoredDoc, recordTime: string | null): Promise<boolean> {
  const path = archivePath(policy.recordKind, recordTime, doc.id);
  const body = stripSystem(doc);
  await deps.blobs.writeJson(path, body);
  // A raw event's leaf stays provable without its body: the tombstone keeps the leaf hash.
  const leafHash =
    policy.recordKind === 'raw-event' ? hashLeaf(Buffer.from(canonicalJson(doc.body), 'utf8')).toString('base64') : undefined;
  const tombstone: Tombstone = tombstoneSchema.parse({
    id: doc.id,
    pk: doc.pk,
    ttl: -1,
    tombstone: {
      recordKind: policy.recordKind,
      policy: policy.name,
      purgedAt: deps.now.toISOString(),
      recordTime,
      archivedTo: path,
      workspace: typeof doc.workspace === 'string' ? doc.workspace : null,
      ...(leafHash ? { leafHash } : {}),
    },
  });
  return deps.records[policy.recordKind].replaceWithTombstone(doc, tombstone);
}

export interface RetentionRunFigures {
  documentsRead: number;
  purgedThisRun: Record<RecordKind, number>;
}

/** Applies every policy and hold as of `deps.now`; updates `state` in place. */
export async function enforceRetention(state: RetentionState, deps: RetentionDeps): Promise<RetentionRunFigures> {
  const active = deps.holds.filter((h) => isActive(h, deps.now));
  const activeIds = new Set(active.map((h) => h.id));
  const figures: RetentionRunFigures = { documentsRead: 0, purgedThisRun: { 'raw-event': 0, 'request-trace': 0 } };

  // Holds that ended or changed scope: lift their marks so the policies apply again (records a
  // changed hold still covers are marked again below). `holdReleasedAt` starts the grace period
  // afresh: a record kept by a hold was not kept too long.
  const scopes = new Map(active.map((h) => [h.id, holdScope(h)]));
  const released = Object.keys(state.holdScopes).filter((id) => scopes.get(id) !== state.holdScopes[id]);
  for (const id of released) {
    for (const policy of deps.policies) {
      const records = deps.records[policy.recordKind];
      figures.documentsRead += await records.eachHeldBy(id, async (docs) => {
        for (const doc of docs) await records.releaseHold(doc, deps.now.toISOString());
      });
    }
    for (const key of Object.keys(state.held)) if (key.startsWith(`${id}|`)) delete state.held[key];
  }
  state.activeHolds = [...activeIds].sort();
  state.holdScopes = Object.fromEntries(scopes);

  for (const policy of deps.policies) {
    const cutoff = new Date(deps.now.getTime() - policy.days * DAY).toISOString();
    const overdue = new Date(deps.now.getTime() - (policy.days + deps.graceDays) * DAY).toISOString();
    const records = deps.records[policy.recordKind];
    figures.documentsRead += await records.eachExpired(policy.timeField, cutoff, async (docs) => {
      for (const doc of docs) {
        const recordTime = typeof doc[policy.timeField] === 'string' ? (doc[policy.timeField] as string) : null;
        const hold = active.find((h) => covers(h, policy.recordKind, recordTime, whereOf(doc)));
        if (hold) {
          if (await records.markHeld(doc, hold.id)) {
            const key = `${hold.id}|${policy.recordKind}`;
            state.held[key] = (state.held[key] ?? 0) + 1;
          }
          continue;
        }
        // Grace runs from the latest of: the policy's end, our receiving the record (a trace can
        // arrive already old), and the end of a hold that kept it.
        const releasedAt = typeof doc.holdReleasedAt === 'string' ? doc.holdReleasedAt : null;
        const receivedAt = (doc.provenance as { learnedAt?: unknown } | undefined)?.learnedAt;
        const graceSince = new Date(deps.now.getTime() - deps.graceDays * DAY).toISOString();
        const graceStartedLate =
          (releasedAt !== null && releasedAt >= graceSince) || (typeof receivedAt === 'string' && receivedAt >= graceSince);
        if (recordTime !== null && recordTime < overdue && !graceStartedLate) {
          const violation: RetentionViolation = {
            kind: 'kept-too-long',
            recordKind: policy.recordKind,
            record: doc.id,
            recordTime,
            policy: policy.name,
            detail: `kept past its ${policy.days}-day policy plus ${deps.graceDays} days of grace; found and purged on ${deps.now.toISOString().slice(0, 10)}`,
            detectedAt: deps.now.toISOString(),
          };
          const key = `kept-too-long|${policy.recordKind}|${doc.id}`;
          state.violations[key] = { ...violation, detectedAt: state.violations[key]?.detectedAt ?? violation.detectedAt };
        }
        if (await purge(deps, policy, doc, recordTime)) {
          state.purged[policy.recordKind] += 1;
          figures.purgedThisRun[policy.recordKind] += 1;
        }
      }
    });
  }
  return figures;
}

/**
 * Checks that the raw events behind provenance in `graphDocs` exist (or were purged by policy);
 * `checked` holds the event ids already checked in this run.
 * With `since`, only provenance learned since then is checked: older references were checked by
 * earlier runs. A full run passes no `since` and checks everything it is given.
 */
export async function verifyAuditTrail(
  state: RetentionState,
  deps: RetentionDeps,
  graphDocs: StoredDoc[],
  since: string | null,
  checked: Set<string>,
): Promise<number> {
  const windowStart = new Date(deps.now.getTime() - deps.auditWindowDays * DAY).toISOString();
  const wanted = new Map<string, string>(); // event id -> event time
  for (const doc of graphDocs) {
    const provenance = Array.isArray(doc.provenance)
      ? (doc.provenance as Array<{ hash?: unknown; learnedAt?: unknown; eventTime?: unknown }>)
      : [];
    for (const p of provenance) {
      if (typeof p.hash !== 'string' || typeof p.learnedAt !== 'string') continue;
      if (since !== null && p.learnedAt < since) continue;
      if (p.learnedAt < windowStart) continue;
      const id = p.hash.replace(/^sha256:/, '');
      // A hash is cited by a node and by both copies of its edges, across pages: read it once per run.
      if (checked.has(id)) continue;
      checked.add(id);
      wanted.set(id, typeof p.eventTime === 'string' ? p.eventTime : p.learnedAt);
    }
  }
  const logged = await deps.eventLog.logged([...wanted.keys()]);
  for (const [id, eventTime] of wanted) {
    const key = `missing-in-audit-window|raw-event|${id}`;
    if (logged.has(id)) {
      delete state.violations[key];
      continue;
    }
    state.violations[key] = {
      kind: 'missing-in-audit-window',
      recordKind: 'raw-event',
      record: `sha256:${id}`,
      recordTime: eventTime,
      policy: 'audit-window',
      detail: `the graph cites this raw event as evidence, it is inside the ${deps.auditWindowDays}-day audit window, and it is neither in the event log nor tombstoned`,
      // First detection stays: a re-run that finds the same gap changes nothing.
      detectedAt: state.violations[key]?.detectedAt ?? deps.now.toISOString(),
    };
  }
  return logged.size;
}

export function retentionSection(
  state: RetentionState,
  policies: Array<Pick<Policy, 'recordKind' | 'name' | 'days'>>,
  purgedThisRun: Record<RecordKind, number> | null,
) {
  const violations = Object.values(state.violations).sort((a, b) => a.kind.localeCompare(b.kind) || a.record.localeCompare(b.record));
  const held = Object.values(state.held).reduce((a, b) => a + b, 0);
  const purged = Object.values(state.purged).reduce((a, b) => a + b, 0);
  const keptTooLong = violations.filter((v) => v.kind === 'kept-too-long').length;
  const missing = violations.length - keptTooLong;
  // Records a policy has had to decide on: purged or held as they should be, or found in breach.
  const denominator = purged + held + missing;
  const numerator = Math.max(0, purged + held - keptTooLong);
  return {
    numerator,
    denominator,
    ratio: ratio(numerator, denominator),
    items: violations,
    policies: policies.map((p) => ({
      recordKind: p.recordKind,
      policy: p.name,
      retentionDays: p.days,
      purged: state.purged[p.recordKind] ?? 0,
      purgedThisRun: purgedThisRun?.[p.recordKind] ?? 0,
      held: Object.entries(state.held)
        .filter(([key]) => key.endsWith(`|${p.recordKind}`))
        .reduce((sum, [, n]) => sum + n, 0),
    })),
    activeHolds: state.activeHolds,
  };
}
