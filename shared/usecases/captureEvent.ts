import { azureMlEventKind, normalizeAzureMlEvent } from '../events/azureml.js';
import { parseEnvelope, sniffEnvelope } from '../events/envelope.js';
import { describeIssues, type ValidationIssue } from '../events/issues.js';
import type { Provenance } from '../graph/model.js';
import type { DeadLetterStore } from '../store/deadLetters.js';
import type { EventLog } from '../store/eventLog.js';
import type { GraphStore } from '../store/graphStore.js';
import { withRetry } from '../store/retry.js';
import { contentHash } from '../util/canonicalJson.js';
import { toInstant } from '../util/time.js';
import { applyDelta, type ApplyResult } from './applyDelta.js';

export interface CaptureDeps {
  eventLog: EventLog;
  graph: GraphStore;
  deadLetters: DeadLetterStore;
  now: () => Date;
}

export type CaptureOutcome =
  | { status: 'projected'; hash: string; eventId: string; eventType: string; duplicate: boolean; writes: ApplyResult }
  | { status: 'ignored'; hash: string; eventId: string; eventType: string; duplicate: boolean; reason: string }
  | { status: 'dead-lettered'; hash: string; eventId?: string; eventType?: string; duplicate: boolean; reason: string; issues: ValidationIssue[] };

/**
 * One received event, end to end: log it raw, validate it, project it into the graph, or
 * dead-letter it with the reason. Validation failures complete normally (a retry would not fix
 * them); store failures that outlast the retries throw, so the platform redelivers.
 */
export interface CaptureOptions {
  /** Channel that delivered the event: 'eventgrid' (default), 'eventhubs', ... */
  channel?: string;
  /** Channel metadata kept with the raw event, e.g. Event Hubs partition and sequence number. */
  delivery?: Record<string, unknown>;
  /** When the event was first received; set by replays so provenance keeps the original time. */
  receivedAt?: string;
}

export async function captureEvent(deps: CaptureDeps, raw: unknown, options: CaptureOptions = {}): Promise<CaptureOutcome> {
  const { channel = 'eventgrid', delivery } = options;
  const hash = contentHash(raw);
  const receivedAt = options.receivedAt ?? deps.now().toISOString();
  const sniffed = sniffEnvelope(raw);
  const logged = await withRetry(
    () =>
      deps.eventLog.append({
        id: hash.replace(/^sha256:/, ''),
        pk: hash.replace(/^sha256:/, ''),
        hash,
        channel,
        receivedAt,
        eventId: sniffed.id,
        eventType: sniffed.type,
        eventSource: sniffed.source,
        eventTime: sniffed.time,
        delivery,
        body: raw,
      }),
    'appending to the event log',
  );
  const duplicate = logged === 'duplicate';

  const deadLetter = async (reason: string, issues: ValidationIssue[]): Promise<CaptureOutcome> => {
    await withRetry(
      () => deps.deadLetters.put({ hash, channel, receivedAt, reason, issues, eventId: sniffed.id, eventType: sniffed.type, delivery, body: raw }),
      'writing a dead letter',
    );
    return { status: 'dead-lettered', hash, eventId: sniffed.id, eventType: sniffed.type, duplicate, reason, issues };
  };

  const envelope = parseEnvelope(raw);
  if (!envelope.ok) return deadLetter(`not a valid event envelope: ${describeIssues(envelope.issues)}`, envelope.issues);
  const { id: eventId, type: eventType } = envelope.envelope;

  if (!azureMlEventKind(eventType)) {
    // Kept in the raw log so a later version can project it by replaying; not an error.
    return { status: 'ignored', hash, eventId, eventType, duplicate, reason: `event type ${eventType} is not projected` };
  }

  const normalized = normalizeAzureMlEvent(envelope.envelope);
  if (!normalized.ok) return deadLetter(`${eventType} could not be normalized: ${describeIssues(normalized.issues)}`, normalized.issues);

  const time = envelope.envelope.time as string; // normalizeAzureMlEvent refuses events without one
  const prov: Provenance = {
    source: channel,
    eventId,
    eventType,
    eventTime: time,
    instant: toInstant(time) as string,
    hash,
    learnedAt: receivedAt,
  };
  const writes = await withRetry(() => applyDelta(deps.graph, normalized.delta, prov), `projecting ${eventType} ${eventId}`);
  return { status: 'projected', hash, eventId, eventType, duplicate, writes };
}
