import { createHmac } from 'node:crypto';
import { canonicalJson } from '../util/canonicalJson.js';
import { setOwn } from '../util/ownProperties.js';

/**
 * Who did something is not lineage, and it is personal data: caller IPs, user names, object ids,
 * token claims and user agents arrive in Activity Log records, resource logs, Event Grid resource
 * events and REST `systemData`. They are replaced before anything is written, by a keyed, stable
 * hash, so equal values still join ("the same caller") without being readable.
 */
const IDENTITY_KEYS = new Set(
  [
    'callerIpAddress',
    'clientIpAddress',
    'ipaddr',
    'claims',
    'identity',
    'IdentityData',
    'UserAgent',
    'TriggeringUserName',
    'UserName',
    'UserObjectId',
    'upn',
    'createdBy',
    'lastModifiedBy',
    'caller',
    'principalName',
  ].map((k) => k.toLowerCase()),
);

/** `identity` is also the name of a managed-identity block on ARM resources ({type, principalId}); that one is kept. */
function isManagedIdentityBlock(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'type' in value && !('claims' in value) && !('claim' in value)
  );
}

export function pseudonym(value: unknown, key: string): string {
  const text = typeof value === 'string' ? value : canonicalJson(value);
  return `redacted:${createHmac('sha256', key).update(text, 'utf8').digest('hex').slice(0, 24)}`;
}

export function redactIdentities<T>(value: T, key: string, depth = 0): T {
  if (depth > 64 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => redactIdentities(v, key, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const lower = k.toLowerCase();
    // Already redacted (a replay of a stored event): leave it, so redaction is idempotent.
    const done = typeof v === 'string' && v.startsWith('redacted:');
    if (
      IDENTITY_KEYS.has(lower) &&
      v !== null &&
      v !== undefined &&
      v !== '' &&
      !done &&
      !(lower === 'identity' && isManagedIdentityBlock(v))
    ) {
      setOwn(out, k, pseudonym(v, key));
    } else {
      setOwn(out, k, redactIdentities(v, key, depth + 1));
    }
  }
  return out as T;
}
