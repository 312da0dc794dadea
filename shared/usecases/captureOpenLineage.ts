import type { ValidationIssue } from '../ingest/issues.js';
import { eventTimeNote } from '../ingest/openlineage/schema.js';
import { captureEvent, type CaptureDeps } from './captureEvent.js';

export interface OpenLineageEventOutcome {
  /** Position in the request (0 for a single event). */
  index: number;
  status: 'projected' | 'dead-lettered' | 'ignored';
  /** Content hash of the event as logged: its id in the raw event log and the dead letters. */
  hash: string;
  eventType?: string;
  duplicate: boolean;
  issues?: ValidationIssue[];
  notes?: string[];
}

export interface OpenLineageReport {
  received: number;
  projected: number;
  deadLettered: number;
  duplicates: number;
  events: OpenLineageEventOutcome[];
}

/**
 * What an OpenLineage HTTP transport posts: one RunEvent, DatasetEvent or JobEvent, or an array
 * of them. Each event is captured on its own like any other source (logged raw under the channel
 * `openlineage`, then projected or dead-lettered with its reason), so one bad event in an array
 * neither fails nor loses the others. Store failures that outlast the retries throw: the client
 * gets a 503 and may send again (capture is idempotent).
 */
export async function captureOpenLineage(deps: CaptureDeps, body: unknown): Promise<OpenLineageReport> {
  const events = Array.isArray(body) ? (body as unknown[]) : [body];
  const report: OpenLineageReport = { received: events.length, projected: 0, deadLettered: 0, duplicates: 0, events: [] };
  for (const [index, event] of events.entries()) {
    const outcome = await captureEvent(deps, event, { channel: 'openlineage' });
    const note = eventTimeNote(event);
    report.events.push({
      index,
      status: outcome.status,
      hash: outcome.hash,
      ...(outcome.eventType ? { eventType: outcome.eventType } : {}),
      duplicate: outcome.duplicate,
      ...(outcome.status === 'dead-lettered' ? { issues: outcome.issues } : {}),
      ...(note && outcome.status !== 'dead-lettered' ? { notes: [note] } : {}),
    });
    if (outcome.status === 'projected') report.projected++;
    if (outcome.status === 'dead-lettered') report.deadLettered++;
    if (outcome.duplicate) report.duplicates++;
  }
  return report;
}
