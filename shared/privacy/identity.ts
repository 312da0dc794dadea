import { createHmac } from 'node:crypto';
import { canonicalJson } from '../util/canonicalJson.js';
import { rebuildJson } from '../util/rebuildJson.js';

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

/** Walks the whole value, at any depth (iteratively): a limit would leave deeper identities in clear. */
export function redactIdentities<T>(value: T, key: string, options: IdentityOptions = {}): T {
  const persons = personKeysOf(options.personKeys);
  return rebuildJson(value, (v, place) => identityReplacement(v, place.key, place.direct, key, persons, options.found)) as T;
}

const DEFAULT_PERSONS = new Set(PERSON_KEYS.map((k) => k.toLowerCase()));
let lastPersons: { extra: readonly string[]; set: Set<string> } | undefined;

/** The person fields, lower case: the built-in ones and `extra`; the last set is kept, as every event passes the same rules' fields. */
export function personKeysOf(extra: readonly string[] = []): Set<string> {
  if (extra.length === 0) return DEFAULT_PERSONS;
  if (lastPersons?.extra.length !== extra.length || lastPersons.extra.some((k, i) => k !== extra[i]))
    lastPersons = { extra: [...extra], set: new Set([...PERSON_KEYS, ...extra].map((k) => k.toLowerCase())) };
  return lastPersons.set;
}

/**
 * The replacement of one value of an event (not to be looked inside), or undefined to keep it and
 * look inside: `field` is the nearest property name above it, `direct` whether it is that
 * property's own value rather than an element of an array under it.
 */
export function identityReplacement(
  v: unknown,
  field: string,
  direct: boolean,
  key: string,
  persons: Set<string>,
  found: Map<string, string> | undefined,
): { value: unknown } | undefined {
  // MLflow tags and params are `{key, value}` pairs: the pair's key names the field.
  if (isKeyValuePair(v)) {
    const replaced = redactField(v.key, v.value, key, persons, found);
    return replaced ? { value: { key: v.key, value: replaced.value } } : undefined;
  }
  return direct ? redactField(field, v, key, persons, found) : undefined;
}

function isKeyValuePair(v: unknown): v is { key: string; value: unknown } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const obj = v as Record<string, unknown>;
  return typeof obj.key === 'string' && 'value' in obj && Object.keys(obj).every((k) => k === 'key' || k === 'value');
}

/** The replacement of one field's value, or undefined to keep it (and look inside it). */
function redactField(
  field: string,
  v: unknown,
  key: string,
  persons: Set<string>,
  found: Map<string, string> | undefined,
): { value: unknown } | undefined {
  const lower = field.toLowerCase();
  // Most fields name nothing personal: decided before looking at the value.
  if (!persons.has(lower) && !CLIENT_KEYS.has(lower) && !OBJECT_ID_KEYS.has(lower)) return undefined;
  // Already hashed (a replay of a stored event): leave it, so redaction is idempotent.
  if (v === null || v === undefined || v === '' || (typeof v === 'string' && HASHED.test(v))) return undefined;
  if (OBJECT_ID_KEYS.has(lower) && typeof v === 'string' && GUID.test(v.trim())) return undefined;
  if (persons.has(lower) && typeof v === 'string') {
    if (GUID.test(v.trim())) return undefined;
    const hash = identityHash(v, key);
    found?.set(hash, canonicalIdentity(v));
    return { value: `identity:${hash}` };
  }
  if ((persons.has(lower) || CLIENT_KEYS.has(lower)) && !(lower === 'identity' && isManagedIdentityBlock(v)))
    return { value: pseudonym(v, key) };
  return undefined;
}
