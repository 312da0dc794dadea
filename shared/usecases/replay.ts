import { splitMonitorMessage } from '../ingest/monitor/message.js';
import { enrichmentMessageSchema } from '../ingest/enrichmentMessage.js';
import type { DeadLetter } from '../store/deadLetters.js';
import type { RawEvent } from '../store/eventLog.js';
import { contentHash } from '../util/canonicalJson.js';
import { captureEvent, type CaptureDeps } from './captureEvent.js';
import { captureMonitorMessage } from './captureMonitorMessage.js';
import { FANOUT_CHANNEL, workFanOutPart } from './fanOut.js';

export interface ReplayReport {
  /** `integrityFailures`: logged events whose body does not hash to their id, refused and dead-lettered. */
  events: { replayed: number; projected: number; ignored: number; deadLettered: number; integrityFailures: number };
  deadLetters: { retried: number; resolved: number; stillFailing: number };
}

/**
 * Rebuilds the graph from the raw event log, then re-processes pending dead letters (typically
 * after a fix shipped). Safe to run any number of times: projection is idempotent and order-free.
 * Replaying the log re-projects evidence and fetches nothing; dead letters are processed as if
 * they had just arrived (an enrichment message goes back on the queue).
 *
 * An event whose stored body no longer hashes to its id was altered after it was logged: it is
 * not projected and never logged again (captured anew, the forged body would get an id of its own
 * and pass every later check). It is dead-lettered as an integrity failure, which replay never
 * re-processes; the integrity check of the compliance report lists it too.
 */
export async function replay(
  deps: CaptureDeps,
  options: { events?: boolean; deadLetters?: boolean; onProgress?: (n: number) => void } = {},
): Promise<ReplayReport> {
  const report: ReplayReport = {
    events: { replayed: 0, projected: 0, ignored: 0, deadLettered: 0, integrityFailures: 0 },
    deadLetters: { retried: 0, resolved: 0, stillFailing: 0 },
  };
  if (options.events !== false) {
    for await (const raw of deps.eventLog.scan()) {
      if (contentHash(raw.body) !== `sha256:${raw.id}`) {
        await refuseAltered(deps, raw);
        report.events.replayed++;
        report.events.integrityFailures++;
        options.onProgress?.(report.events.replayed);
        continue;
      }
      const outcome = await captureEvent(deps, raw.body, {
        channel: raw.channel,
        delivery: raw.delivery,
        receivedAt: raw.receivedAt,
        followUp: false,
      });
      report.events.replayed++;
      if (outcome.status === 'projected') report.events.projected++;
      else if (outcome.status === 'ignored') report.events.ignored++;
      else report.events.deadLettered++;
      options.onProgress?.(report.events.replayed);
    }
  }
  if (options.deadLetters !== false) {
    const pending = [];
    for await (const item of deps.deadLetters.pending()) pending.push(item);
    for (const { name, letter } of pending) {
      report.deadLetters.retried++;
      if (await reprocess(deps, letter)) {
        await deps.deadLetters.resolve(name, deps.now().toISOString());
        report.deadLetters.resolved++;
      } else {
        report.deadLetters.stillFailing++;
      }
    }
  }
  return report;
}

async function refuseAltered(deps: CaptureDeps, raw: RawEvent): Promise<void> {
  const actual = contentHash(raw.body);
  await deps.deadLetters.put({
    hash: `sha256:${raw.id}`,
    channel: raw.channel,
    receivedAt: raw.receivedAt,
    reason: `Integrity failure: the stored body of raw event sha256:${raw.id} does not hash to its id (it hashes to ${actual}); it was altered after it was logged, so it is not replayed.`,
    issues: [{ path: 'body', message: `SHA-256 of the canonical body is ${actual}, not the event id sha256:${raw.id}` }],
    integrityFailure: true,
    ...(raw.eventId ? { eventId: raw.eventId } : {}),
    ...(raw.eventType ? { eventType: raw.eventType } : {}),
    ...(raw.delivery ? { delivery: raw.delivery } : {}),
    body: raw.body,
  });
}

/** True when the letter's content now goes through; a failure writes a fresh letter. Integrity failures never go through. */
async function reprocess(deps: CaptureDeps, letter: DeadLetter): Promise<boolean> {
  if (letter.integrityFailure) return false;
  if (letter.channel === 'enrichment') {
    const message = enrichmentMessageSchema.safeParse(letter.body);
    if (!message.success || !deps.enrichments) return false;
    await deps.enrichments.enqueue([message.data]);
    return true;
  }
  if (letter.channel === FANOUT_CHANNEL) {
    // Projected here rather than queued again: a part is small, and the report says whether it went through.
    const outcome = await workFanOutPart(deps, letter.body, { dequeueCount: 1, maxAttempts: 1, replayed: true });
    return outcome.status === 'projected';
  }
  if (letter.channel === 'eventhubs' && splitMonitorMessage(letter.body).ok && isEnvelope(letter.body)) {
    const result = await captureMonitorMessage(deps, letter.body, letter.delivery ?? {});
    return result.failed === 0 && result.deadLettered === 0;
  }
  const outcome = await captureEvent(deps, letter.body, {
    channel: letter.channel,
    delivery: letter.delivery,
    receivedAt: letter.receivedAt,
  });
  return outcome.status !== 'dead-lettered';
}

/** A whole Event Hubs message (records inside), as opposed to a single record. */
function isEnvelope(body: unknown): boolean {
  if (typeof body === 'string') return /"records"\s*:/.test(body);
  if (Array.isArray(body)) return true;
  return typeof body === 'object' && body !== null && 'records' in body;
}
