import { isRecord } from '../../util/isRecord.js';
import { toInstant } from '../../util/time.js';
import type { ValidationIssue } from '../issues.js';

/**
 * The common envelope of one Azure Monitor record (resource log or Activity Log) with lookups
 * that tolerate the spellings seen on the wire.
 *
 * Only Log Analytics columns are documented for Azure ML (`RunId`, `_ResourceId`,
 * `TimeGenerated`); the Event Hubs form uses the common schema (`resourceId`, `durationMs`) and
 * puts service values in `properties` under undocumented keys. So keys are compared ignoring
 * case and `_`/`-` (`RunId`, `runId`, `run_id`; `_ResourceId` and `resourceId` meet), and an Azure
 * ML value is looked up in `properties` first, then at the top level.
 */
export interface MonitorRecord {
  /** Event time exactly as written (`time`, `TimeGenerated`, or the REST form's `eventTimestamp`). */
  time: string;
  category: string | undefined;
  operationName: string | undefined;
  resultType: string | undefined;
  resultSignature: string | undefined;
  resourceId: string | undefined;
  /** `durationMs` arrives as a number (`2826`) or a string (`"16"`). */
  durationMs: number | undefined;
  top: ReadonlyMap<string, unknown>;
  props: ReadonlyMap<string, unknown>;
  /** `properties` with its keys as written, for keeping unmapped fields. */
  properties: Record<string, unknown>;
}

export function normalizeKey(key: string): string {
  return key.replace(/[_\-\s]/g, '').toLowerCase();
}

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function indexKeys(obj: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) {
    const key = normalizeKey(k);
    // Two spellings of one key: a filled value wins over an empty one.
    if (!out.has(key) || isBlank(out.get(key))) out.set(key, v);
  }
  return out;
}

/** The Activity Log REST form wraps values as `{ value, localizedValue }`. */
function unwrap(v: unknown): unknown {
  return isRecord(v) && 'value' in v ? v.value : v;
}

function asText(v: unknown): string | undefined {
  const x = unwrap(v);
  if (typeof x === 'string') return x.trim() === '' ? undefined : x.trim();
  if (typeof x === 'number' && Number.isFinite(x)) return String(x);
  return undefined;
}

export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

/** A top-level value only: the common envelope's own fields. */
export function topText(top: ReadonlyMap<string, unknown>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = asText(top.get(normalizeKey(n)));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Some services serialise `properties` as a JSON string instead of an object. */
function propertiesOf(v: unknown): Record<string, unknown> {
  if (isRecord(v)) return v;
  if (typeof v === 'string' && v.trim().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(v);
      if (isRecord(parsed)) return parsed;
    } catch {
      // Not JSON: treated as no properties; the raw record keeps it.
    }
  }
  return {};
}

export type ReadResult = { ok: true; record: MonitorRecord } | { ok: false; issues: ValidationIssue[] };

export function readRecord(raw: unknown): ReadResult {
  if (!isRecord(raw)) return { ok: false, issues: [{ path: '(root)', message: 'expected a record object' }] };
  const top = indexKeys(raw);
  const timeValue = top.get('time') ?? top.get('timegenerated') ?? top.get('eventtimestamp');
  if (isBlank(timeValue))
    return { ok: false, issues: [{ path: 'time', message: 'required: the event time orders facts about the same resource' }] };
  if (typeof timeValue !== 'string' || toInstant(timeValue) === undefined) {
    return { ok: false, issues: [{ path: 'time', message: 'expected an ISO 8601 date-time' }] };
  }
  const properties = propertiesOf(top.get('properties'));
  return {
    ok: true,
    record: {
      time: timeValue,
      // The common schema allows `type` in place of `category` (Application Insights).
      category: topText(top, 'category', 'type'),
      operationName: topText(top, 'operationName'),
      resultType: topText(top, 'resultType'),
      resultSignature: topText(top, 'resultSignature'),
      resourceId: topText(top, 'resourceId'),
      durationMs: numberOf(top.get('durationms')),
      top,
      props: indexKeys(properties),
      properties,
    },
  };
}

/** An Azure ML value by any of its names: `properties` first, then the top level. */
export function field(r: MonitorRecord, ...names: string[]): unknown {
  for (const n of names) {
    const key = normalizeKey(n);
    for (const source of [r.props, r.top]) {
      const v = source.get(key);
      if (!isBlank(v)) return v;
    }
  }
  return undefined;
}

export function text(r: MonitorRecord, ...names: string[]): string | undefined {
  return asText(field(r, ...names));
}

export type Outcome = 'succeeded' | 'failed' | 'pending' | 'unknown';

/** `resultType` values vary: Success (Activity Log example), Succeeded (docs), Started, In Progress, Failed. */
export function outcomeOf(r: MonitorRecord): Outcome {
  const t = r.resultType?.toLowerCase().replace(/\s+/g, '');
  if (t) {
    if (t === 'success' || t === 'succeeded' || t === 'completed') return 'succeeded';
    if (t.startsWith('fail')) return 'failed';
    if (['started', 'inprogress', 'accepted', 'active'].includes(t)) return 'pending';
  }
  // AML resource logs put the HTTP status code in ResultSignature.
  const code = numberOf(r.resultSignature);
  if (code !== undefined) return code >= 400 ? 'failed' : code >= 200 && code < 300 ? 'succeeded' : 'unknown';
  return 'unknown';
}

/** The ARM-style verb ending `operationName` (`.../READ`, `.../write`), lower-cased; else undefined. */
export function verbOf(operationName: string | undefined): 'read' | 'write' | 'delete' | 'action' | undefined {
  const last = operationName?.split('/').pop()?.toLowerCase();
  return last === 'read' || last === 'write' || last === 'delete' || last === 'action' ? last : undefined;
}

/** Keys that name a person or their client: never copied into the graph or a prediction request. */
const PERSONAL =
  /identity|claim|useragent|ipaddr|callerip|clientip|^caller$|username|userobjectid|^userid$|objectid|principal|upn|email|^oid$/;
/** Common-schema and Log Analytics bookkeeping columns, which say nothing about the resource. */
const BOOKKEEPING = new Set(
  [
    'time',
    'TimeGenerated',
    'category',
    'type',
    'operationName',
    'operationVersion',
    'resultType',
    'resultSignature',
    'resultDescription',
    'durationMs',
    'correlationId',
    'level',
    'location',
    'resourceId',
    'TenantId',
    'AadTenantId',
    'SourceSystem',
    'SubscriptionId',
    'BilledSize',
    'IsBillable',
    'WorkspaceId',
    'WorkspaceName',
    'AmlWorkspaceId',
    'AmlWorkspaceName',
    'AzureMLWorkspaceId',
    'AzureMLWorkspaceName',
    'CustomerSubscriptionId',
    'ResourceGroupName',
  ].map(normalizeKey),
);

function isPersonal(key: string): boolean {
  return PERSONAL.test(normalizeKey(key));
}

function withoutPersonal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutPersonal);
  if (!isRecord(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !isPersonal(k))
      .map(([k, x]) => [k, withoutPersonal(x)]),
  );
}

/** `properties` entries not mapped to facts, minus bookkeeping and personal data; undefined when none. */
export function unmappedProperties(r: MonitorRecord, mapped: readonly string[]): Record<string, unknown> | undefined {
  const skip = new Set(mapped.map(normalizeKey));
  const entries = Object.entries(r.properties).filter(([k, v]) => {
    const key = normalizeKey(k);
    return !skip.has(key) && !BOOKKEEPING.has(key) && !isPersonal(k) && !isBlank(v);
  });
  return entries.length > 0 ? (withoutPersonal(Object.fromEntries(entries)) as Record<string, unknown>) : undefined;
}

/** Drops undefined values so results compare and serialise cleanly. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
