import { isRecord } from '../../util/isRecord.js';
import type { ValidationIssue } from '../issues.js';
import { getIgnoringCase } from '../payload.js';

/**
 * One Event Hubs message from Azure Monitor holds many records; they are split here and each is
 * normalized on its own (categories.ts), so one bad record never takes its batch down.
 */

export type SplitResult = { ok: true; records: unknown[] } | { ok: false; issues: ValidationIssue[] };

const ENVELOPE = 'expected an Azure Monitor message: {"records":[...]} or an array of such objects';

function decode(body: Uint8Array | ArrayBuffer): { ok: true; text: string } | { ok: false; issues: ValidationIssue[] } {
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(body) };
  } catch {
    return { ok: false, issues: [{ path: '(root)', message: 'body bytes are not valid UTF-8' }] };
  }
}

function recordsOf(value: unknown, path: string): { ok: true; records: unknown[] } | { ok: false; issues: ValidationIssue[] } {
  if (!isRecord(value)) return { ok: false, issues: [{ path: path || '(root)', message: ENVELOPE }] };
  const records = getIgnoringCase(value, 'records');
  if (records === undefined) return { ok: false, issues: [{ path: path || '(root)', message: ENVELOPE }] };
  if (!Array.isArray(records))
    return { ok: false, issues: [{ path: path ? `${path}.records` : 'records', message: 'expected an array of records' }] };
  return { ok: true, records };
}

/**
 * One Event Hubs message body from Azure Monitor diagnostic settings or the Activity Log.
 * Accepts `{"records":[...]}` and the outer-array variant
 * (`[{"records":[...], "EventProcessedUtcTime":…, "PartitionId":…}]`, test/fixtures/README.md,
 * `azure-monitor/`), either as JSON text, or as UTF-8 bytes (the Functions host hands Event Hubs
 * bodies over as a Buffer unless told otherwise).
 * Records are returned as they are, valid or not: the caller normalizes and isolates each one.
 */
export function splitMonitorMessage(body: unknown): SplitResult {
  let value = body;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
    const decoded = decode(value);
    if (!decoded.ok) return decoded;
    value = decoded.text;
  }
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value.replace(/^\uFEFF/, ''));
    } catch (error) {
      return {
        ok: false,
        issues: [{ path: '(root)', message: `body is not JSON: ${error instanceof Error ? error.message : String(error)}` }],
      };
    }
  }
  if (!Array.isArray(value)) return recordsOf(value, '');
  const records: unknown[] = [];
  const issues: ValidationIssue[] = [];
  value.forEach((item, index) => {
    const part = recordsOf(item, String(index));
    if (part.ok) records.push(...part.records);
    else issues.push(...part.issues);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, records };
}
