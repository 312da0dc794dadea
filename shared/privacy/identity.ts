import { createHmac } from 'node:crypto';
import { canonicalJson } from '../util/canonicalJson.js';
import { rebuildJson } from '../util/rebuildJson.js';

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

/** Walks the whole value, at any depth (iteratively): a limit would leave deeper identities in clear. */
export function redactIdentities<T>(value: T, key: string): T {
  return rebuildJson(value, (v, place) => {
    if (!place.direct) return undefined;
    const lower = place.key.toLowerCase();
    // Already redacted (a replay of a stored event): leave it, so redaction is idempotent.
    const done = typeof v === 'string' && v.startsWith('redacted:');
    const identity =
      IDENTITY_KEYS.has(lower) &&
      v !== null &&
      v !== undefined &&
      v !== '' &&
      !done &&
      !(lower === 'identity' && isManagedIdentityBlock(v));
    return identity ? { value: pseudonym(v, key) } : undefined;
  }) as T;
}
