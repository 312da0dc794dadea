import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shared access signatures as Event Hubs checks them on a `$cbs` put-token:
 * `SharedAccessSignature sr=<url-encoded resource URI>&sig=<url-encoded base64 HMAC-SHA256>&se=<expiry, unix seconds>&skn=<key name>`,
 * where the HMAC (keyed with the key's text) signs `<url-encoded resource URI>\n<expiry>`.
 * A token for a resource covers everything below it (a namespace token opens every hub).
 */
export interface SasClaim {
  /** Path of the resource the token is scoped to, lower-cased, without scheme and host (`hub/consumergroups/...`). */
  scope: string;
  keyName: string;
  expiresAt: Date;
}

export type SasCheck = { ok: true; claim: SasClaim } | { ok: false; reason: string };

export function verifySasToken(token: string, keys: Record<string, string>, now: Date): SasCheck {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return { ok: false, reason: 'not a shared access signature' };
  const fields = new Map<string, string>();
  for (const pair of token.slice(prefix.length).split('&')) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  const skn = fields.get('skn');
  if (!sr || !sig || !se || !skn) return { ok: false, reason: 'the token lacks sr, sig, se or skn' };
  const keyName = decodeURIComponent(skn);
  const key = keys[keyName];
  if (key === undefined) return { ok: false, reason: `unknown shared access key name "${keyName}"` };
  const expected = createHmac('sha256', key).update(`${sr}\n${se}`).digest();
  const given = Buffer.from(decodeURIComponent(sig), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'the signature does not match the key' };
  const expiresAt = new Date(Number(se) * 1000);
  if (!Number.isFinite(expiresAt.getTime()) || expiresAt <= now) return { ok: false, reason: 'the token has expired' };
  return { ok: true, claim: { scope: resourcePath(decodeURIComponent(sr)), keyName, expiresAt } };
}

/** `sb://host:port/Hub/ConsumerGroups/$Default/Partitions/0` or `hub/...` to `hub/consumergroups/$default/partitions/0`. */
export function resourcePath(resource: string): string {
  return resource
    .replace(/^[a-z]+:\/\/[^/]*/i, '')
    .replace(/^\/+|\/+$/g, '')
    .toLowerCase();
}

/** True when a claim scoped to `scope` covers the entity at `path` (both from resourcePath). */
export function covers(scope: string, path: string): boolean {
  return scope === '' || path === scope || path.startsWith(`${scope}/`);
}
