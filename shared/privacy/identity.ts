import { createHmac } from 'node:crypto';
import { canonicalJson } from '../util/canonicalJson.js';

/**
 * Who did something is personal data: caller IPs, user names, e-mails, token claims and user
 * agents arrive in Activity Log records, resource logs, Event Grid events, REST `systemData`,
 * model tags and MLflow runs. They are replaced before anything is written, by a keyed, stable
 * hash, so equal values still join ("the same caller") without being readable. One rule for every
 * field, wherever it sits (a tag, an MLflow `{key, value}` pair, systemData):
 *
 * - person fields (who created, modified, approved or owns something) become `identity:HASH`, and
 *   the clear value is handed to the caller to keep encrypted (identity vault), so an auditor can
 *   reveal it later; an Entra object id (a GUID) is kept as it is;
 * - client fields (IPs, claims, user agents) become `redacted:HASH` and are gone.
 */
const PERSON_KEYS = [
  'createdBy',
  'lastModifiedBy',
  'caller',
  'principalName',
  'upn',
  'UserName',
  'TriggeringUserName',
  'approver',
  'approved_by',
  'approvedBy',
  'owner',
  'mlflow.user',
  'user_id',
];
const CLIENT_KEYS = new Set(
  ['callerIpAddress', 'clientIpAddress', 'ipaddr', 'claims', 'identity', 'IdentityData', 'UserAgent'].map((k) => k.toLowerCase()),
);
/** Entra object ids: pseudonymous already, and what makes a decision accountable. */
const OBJECT_ID_KEYS = new Set(['userobjectid', 'objectid', 'oid', 'principalid', 'approverobjectid', 'byobjectid']);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const IDENTITY_TOKEN = /^identity:[0-9a-f]{24}$/;
const HASHED = /^(redacted|identity):[0-9a-f]{24}$/;

/** `identity` is also the name of a managed-identity block on ARM resources ({type, principalId}); that one is kept. */
function isManagedIdentityBlock(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'type' in value && !('claims' in value) && !('claim' in value)
  );
}

function hmac24(text: string, key: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex').slice(0, 24);
}

export function pseudonym(value: unknown, key: string): string {
  const text = typeof value === 'string' ? value : canonicalJson(value);
  return `redacted:${hmac24(text, key)}`;
}

/** The form a person is hashed in: trimmed, e-mail addresses in lower case, so the same person always hashes alike. */
export function canonicalIdentity(value: string): string {
  const t = value.trim();
  return /^[^@\s]+@[^@\s]+$/.test(t) ? t.toLowerCase() : t;
}

/** The keyed hash of a person (24 hex digits), the same whichever field or free text they appear in. */
export function identityHash(value: string, key: string): string {
  return hmac24(canonicalIdentity(value), key);
}

export interface IdentityOptions {
  /** More fields that name a person (fields an approval rule names), matched ignoring case. */
  personKeys?: readonly string[];
  /** Receives hash -> clear value of every person replaced, for the identity vault. */
  found?: Map<string, string>;
}

export function redactIdentities<T>(value: T, key: string, options: IdentityOptions = {}): T {
  const persons = new Set([...PERSON_KEYS, ...(options.personKeys ?? [])].map((k) => k.toLowerCase()));
  return redact(value, key, persons, options.found, 0);
}

function redactField(field: string, v: unknown, key: string, persons: Set<string>, found: Map<string, string> | undefined, depth: number) {
  const lower = field.toLowerCase();
  // Already hashed (a replay of a stored event): leave it, so redaction is idempotent.
  if (v === null || v === undefined || v === '' || (typeof v === 'string' && HASHED.test(v))) return v;
  if (OBJECT_ID_KEYS.has(lower) && typeof v === 'string' && GUID.test(v.trim())) return v;
  if (persons.has(lower) && typeof v === 'string') {
    if (GUID.test(v.trim())) return v;
    const hash = identityHash(v, key);
    found?.set(hash, canonicalIdentity(v));
    return `identity:${hash}`;
  }
  if ((persons.has(lower) || CLIENT_KEYS.has(lower)) && !(lower === 'identity' && isManagedIdentityBlock(v))) return pseudonym(v, key);
  return redact(v, key, persons, found, depth + 1);
}

function redact<T>(value: T, key: string, persons: Set<string>, found: Map<string, string> | undefined, depth: number): T {
  if (depth > 64 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => redact(v, key, persons, found, depth + 1)) as T;
  const obj = value as Record<string, unknown>;
  // MLflow tags and params are `{key, value}` pairs: the pair's key names the field.
  if (typeof obj.key === 'string' && 'value' in obj && Object.keys(obj).every((k) => k === 'key' || k === 'value')) {
    return { key: obj.key, value: redactField(obj.key, obj.value, key, persons, found, depth) } as T;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = redactField(k, v, key, persons, found, depth);
  return out as T;
}
