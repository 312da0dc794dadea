import { isRecord } from '../../util/isRecord.js';
import { fromZodIssues, type ValidationIssue } from '../issues.js';
import { anything, dateTime, filled, looseRecord, optional, text } from '../fields.js';

/**
 * One event as delivered by Event Grid, in either output schema, reduced to the fields the rest
 * of the pipeline needs. The original object stays in the raw event log untouched.
 */
export interface EventEnvelope {
  schema: 'eventgrid' | 'cloudevents';
  id: string;
  /** `topic` (Event Grid schema) or `source` (CloudEvents): the workspace ARM id for Azure ML. */
  source: string;
  type: string;
  subject: string | undefined;
  /** Event time as written by the publisher; undefined when a CloudEvent omits `time`. */
  time: string | undefined;
  data: unknown;
}

/** The Event Grid schema's envelope. */
export const eventGridEnvelope = looseRecord({
  id: filled,
  topic: filled,
  subject: optional(text),
  eventType: filled,
  eventTime: dateTime,
  data: optional(anything),
  dataVersion: optional(text),
  metadataVersion: optional(text),
});
export const eventGridSchema = eventGridEnvelope.schema;

/** The CloudEvents schema's envelope. */
export const cloudEventEnvelope = looseRecord({
  // Event Grid's own CloudEvents examples sometimes omit `specversion`; the event is still usable.
  specversion: optional(text),
  id: filled,
  source: filled,
  type: filled,
  subject: optional(text),
  time: optional(dateTime),
  data: optional(anything),
});
export const cloudEventSchema = cloudEventEnvelope.schema;

export type EnvelopeResult = { ok: true; envelope: EventEnvelope } | { ok: false; issues: ValidationIssue[] };

export function detectSchema(raw: unknown): 'eventgrid' | 'cloudevents' | undefined {
  if (!isRecord(raw)) return undefined;
  if ('eventType' in raw || 'topic' in raw || 'eventTime' in raw) return 'eventgrid';
  if ('specversion' in raw || ('type' in raw && 'source' in raw)) return 'cloudevents';
  return undefined;
}

export function parseEnvelope(raw: unknown): EnvelopeResult {
  const schema = detectSchema(raw);
  if (!schema) {
    return {
      ok: false,
      issues: [
        {
          path: '(root)',
          message: 'expected an Event Grid event (id, topic, eventType, eventTime) or a CloudEvent (specversion, id, source, type)',
        },
      ],
    };
  }
  if (schema === 'eventgrid') {
    const parsed = eventGridEnvelope.parse(raw);
    if (!parsed.success) return { ok: false, issues: fromZodIssues(parsed.error.issues) };
    const e = parsed.data;
    return {
      ok: true,
      envelope: { schema, id: e.id, source: e.topic, type: e.eventType, subject: e.subject, time: e.eventTime, data: e.data },
    };
  }
  const parsed = cloudEventEnvelope.parse(raw);
  if (!parsed.success) return { ok: false, issues: fromZodIssues(parsed.error.issues) };
  const e = parsed.data;
  return { ok: true, envelope: { schema, id: e.id, source: e.source, type: e.type, subject: e.subject, time: e.time, data: e.data } };
}

/** Best-effort identifiers for logging and indexing an event that may be invalid. */
export function sniffEnvelope(raw: unknown): { id?: string; source?: string; type?: string; time?: string } {
  if (!isRecord(raw)) return {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    id: str(raw.id),
    source: str(raw.topic) ?? str(raw.source),
    type: str(raw.eventType) ?? str(raw.type),
    time: str(raw.eventTime) ?? str(raw.time),
  };
}
