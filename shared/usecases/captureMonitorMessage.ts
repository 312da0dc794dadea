import { splitMonitorMessage } from '../ingest/monitor/message.js';
import { describeIssues } from '../ingest/issues.js';
import { withRetry } from '../store/retry.js';
import { capturePrepared, prepareEvent, type CaptureDeps, type CaptureOutcome, type PreparedEvent } from './captureEvent.js';

export interface MessageReport {
  records: number;
  projected: number;
  ignored: number;
  deadLettered: number;
  /** Records (or whole messages) that could not be stored anywhere; the caller must fail. */
  failed: number;
  ignoredByCategory: Record<string, number>;
  errors: string[];
}

/**
 * Records one message may hold. An Event Hubs event is at most 1 MB (Standard and above) and a
 * resource-log record takes a few hundred bytes, so diagnostic settings never send more; a
 * message that claims more is dead-lettered whole, once, instead of as thousands of letters.
 */
export const MAX_RECORDS_PER_MESSAGE = 10_000;

/**
 * One Event Hubs message from Azure Monitor: a `{"records": [...]}` envelope holding several
 * resource-log or Activity Log records. Each record is captured on its own, so one bad record
 * never fails or loses the others. A record the stores cannot take even after retries is
 * dead-lettered with that reason (Event Hubs checkpoints regardless, so giving up would lose it);
 * only when that fails too is it counted as `failed`.
 */
export async function captureMonitorMessage(deps: CaptureDeps, body: unknown, delivery: Record<string, unknown>): Promise<MessageReport> {
  const report: MessageReport = { records: 0, projected: 0, ignored: 0, deadLettered: 0, failed: 0, ignoredByCategory: {}, errors: [] };
  const split = splitMonitorMessage(body);
  if (!split.ok) {
    const prepared = prepareEvent(body, deps);
    // The parser's messages may quote the body (V8 cites the start of text that is not JSON), so
    // the reason is taken from the redacted copy, which fails the same way.
    const redacted = splitMonitorMessage(prepared.raw);
    const issues = redacted.ok ? [{ path: '(root)', message: 'not a records envelope' }] : redacted.issues;
    await storeRefused(deps, prepared, delivery, `not an Azure Monitor message: ${describeIssues(issues)}`, issues, report);
    return report;
  }
  if (split.records.length > MAX_RECORDS_PER_MESSAGE) {
    const message = `the message holds ${split.records.length} records, more than ${MAX_RECORDS_PER_MESSAGE} (Event Hubs events are at most 1 MB)`;
    const reason = `not an Azure Monitor message: ${message}`;
    await storeRefused(deps, prepareEvent(body, deps), delivery, reason, [{ path: 'records', message }], report);
    return report;
  }
  for (const [index, record] of split.records.entries()) {
    report.records++;
    const recordDelivery = { ...delivery, recordIndex: index };
    // Prepared once, outside the try: the fallback letter below stores the same redacted record
    // under the same hash, and cannot fail for any reason the capture itself failed for but the
    // blob store being down (redaction and hashing are total).
    const prepared = prepareEvent(record, deps);
    let outcome: CaptureOutcome;
    try {
      outcome = await capturePrepared(deps, prepared, { channel: 'eventhubs', delivery: recordDelivery });
    } catch (error) {
      const reason = `stores unavailable while capturing: ${error instanceof Error ? error.message : String(error)}`;
      await storeRefused(deps, prepared, recordDelivery, reason, [{ path: '(store)', message: reason }], report);
      continue;
    }
    if (outcome.status === 'projected') report.projected++;
    else if (outcome.status === 'dead-lettered') report.deadLettered++;
    else {
      report.ignored++;
      report.ignoredByCategory[outcome.eventType] = (report.ignoredByCategory[outcome.eventType] ?? 0) + 1;
    }
  }
  return report;
}

async function storeRefused(
  deps: CaptureDeps,
  { raw, hash }: PreparedEvent,
  delivery: Record<string, unknown>,
  reason: string,
  issues: Array<{ path: string; message: string }>,
  report: MessageReport,
): Promise<void> {
  try {
    await withRetry(
      () => deps.deadLetters.put({ hash, channel: 'eventhubs', receivedAt: deps.now().toISOString(), reason, issues, delivery, body: raw }),
      'writing a dead letter',
    );
    report.deadLettered++;
  } catch (error) {
    report.failed++;
    report.errors.push(`${reason}; dead letter also failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
