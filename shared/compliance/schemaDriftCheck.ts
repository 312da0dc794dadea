import { z } from 'zod';
import { unexpectedFields, type SourceKind } from '../ingest/expectedFields.js';
import { normalize } from '../ingest/normalize.js';
import type { StoredDoc } from '../store/reads.js';
import { isTombstone } from '../store/tombstone.js';
import { ratio, schemaDriftSourceSchema, type SchemaDriftSource } from './report.js';

/**
 * Schema drift (metric M10): per event type, Monitor category and REST resource kind, how many
 * logged events carried fields we did not expect, and how many could not be normalized (they were
 * dead-lettered), with the field paths concerned — never the values.
 *
 * Counted from the raw event log's change stream when the check runs, by normalizing each new
 * event again: capture pays nothing (no counter write per event), and a full run recounts from the
 * log. Letters that never reached the log (too deeply nested, refused by the store) and enrichment
 * requests the REST API refused are not counted here: the dead-letter store lists them.
 */

/** Distinct field paths kept per source and kind of finding; further paths are counted, not named. */
export const MAX_PATHS = 20;
/** The path under which findings beyond MAX_PATHS distinct paths are counted. */
export const MORE_PATHS = '(other paths)';

const counts = z.record(z.string(), z.number().int().min(0));
const entrySchema = schemaDriftSourceSchema.omit({ unexpectedFields: true, deadLetterFields: true }).extend({
  unexpectedPaths: counts,
  deadLetterPaths: counts,
});
type Entry = z.infer<typeof entrySchema>;

export const schemaDriftStateSchema = z.object({ sources: z.record(z.string(), entrySchema) });
export type SchemaDriftState = z.infer<typeof schemaDriftStateSchema>;

export function emptySchemaDriftState(): SchemaDriftState {
  return { sources: {} };
}

const SOURCE_KIND_OF_CHANNEL: Record<string, SourceKind> = { eventhubs: 'category', rest: 'resource-kind' };

function entryFor(state: SchemaDriftState, channel: string, source: string, sourceKind: SourceKind): Entry {
  const key = `${channel}|${source}`;
  return (state.sources[key] ??= {
    channel,
    source,
    sourceKind,
    events: 0,
    clean: 0,
    withUnexpectedFields: 0,
    deadLettered: 0,
    unexpectedPaths: {},
    deadLetterPaths: {},
  });
}

function countPaths(into: Record<string, number>, paths: Iterable<string>): void {
  for (const path of new Set(paths)) {
    const key = into[path] !== undefined || Object.keys(into).length < MAX_PATHS ? path : MORE_PATHS;
    into[key] = (into[key] ?? 0) + 1;
  }
}

/**
 * Counts the raw events among `docs` (documents of the events container as the change stream
 * returns them). Tombstones and events re-written under a legal hold were counted when first logged.
 */
export function updateSchemaDriftState(state: SchemaDriftState, docs: StoredDoc[]): void {
  for (const doc of docs) {
    if (isTombstone(doc) || !('body' in doc) || doc.legalHold !== undefined) continue;
    const channel = typeof doc.channel === 'string' ? doc.channel : 'unknown';
    const hash = typeof doc.hash === 'string' ? doc.hash : `sha256:${doc.id}`;
    const normalized = normalize(channel, doc.body, hash);
    const fields = unexpectedFields(channel, doc.body);
    const source =
      fields?.source ?? normalized.eventType ?? (typeof doc.eventType === 'string' ? doc.eventType : undefined) ?? '(unreadable)';
    const entry = entryFor(state, channel, source, fields?.sourceKind ?? SOURCE_KIND_OF_CHANNEL[channel] ?? 'event-type');
    entry.events += 1;
    const unexpected = fields !== undefined && fields.unexpected.length > 0;
    if (!unexpected && normalized.status !== 'invalid') entry.clean += 1;
    if (unexpected) {
      entry.withUnexpectedFields += 1;
      countPaths(entry.unexpectedPaths, fields.unexpected);
    }
    if (normalized.status === 'invalid') {
      entry.deadLettered += 1;
      countPaths(
        entry.deadLetterPaths,
        normalized.issues.map((i) => i.path),
      );
    }
  }
}

const byCount = (paths: Record<string, number>) =>
  Object.entries(paths)
    .map(([path, events]) => ({ path, events }))
    .sort((a, b) => b.events - a.events || a.path.localeCompare(b.path));

/** Every source, with its examples by field path; items are the sources with something to look at. */
export function schemaDriftSection(state: SchemaDriftState) {
  const sources: SchemaDriftSource[] = Object.values(state.sources)
    .map(({ unexpectedPaths, deadLetterPaths, ...rest }) => ({
      ...rest,
      unexpectedFields: byCount(unexpectedPaths),
      deadLetterFields: byCount(deadLetterPaths),
    }))
    .sort((a, b) => a.channel.localeCompare(b.channel) || a.source.localeCompare(b.source));
  // An event is fine when it was normalized and carried only fields we expected.
  const events = sources.reduce((n, s) => n + s.events, 0);
  const clean = sources.reduce((n, s) => n + s.clean, 0);
  return {
    numerator: clean,
    denominator: events,
    ratio: ratio(clean, events),
    items: sources.filter((s) => s.withUnexpectedFields > 0 || s.deadLettered > 0),
    bySource: sources,
  };
}
