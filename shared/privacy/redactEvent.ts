import { setOwn } from '../util/ownProperties.js';
import { RECURSION_LIMIT, TOO_DEEP } from '../util/canonicalJson.js';
import { identityReplacement, personKeysOf, redactIdentities, type IdentityOptions } from './identity.js';
import { redactKey, redactPii, redactText } from './pii.js';

/**
 * What capture stores of a received event: `redactPii(redactIdentities(value))`, the same value to
 * the byte (key order, special keys, the people found), in one walk instead of two copies. The
 * walk recurses, the fast way, up to RECURSION_LIMIT levels; a deeper value is redacted again by
 * the two explicit-stack walks, so no depth overflows the call stack and none is left in clear.
 */
export function redactEvent<T>(value: T, key: string, options: IdentityOptions = {}): T {
  // People are handed over only once the walk is done, so a walk given up half way leaves none twice.
  const found = new Map<string, string>();
  let redacted: unknown;
  try {
    redacted = new EventRedaction(key, personKeysOf(options.personKeys), found).walk(value, '', false, 0, true);
  } catch (error) {
    if (error !== TOO_DEEP) throw error;
    return redactPii(redactIdentities(value, key, options), key);
  }
  for (const [hash, person] of found) options.found?.set(hash, person);
  return redacted as T;
}

class EventRedaction {
  constructor(
    private readonly key: string,
    private readonly persons: Set<string>,
    private readonly found: Map<string, string>,
  ) {}

  /**
   * The redacted copy of `v`, which sits under property `field` (`direct`: as its own value, not
   * in an array). As the two walks would: an identity replacement is not looked inside by the
   * identity walk but is by the personal-data walk; strings and keys go through `redactText`.
   */
  walk(v: unknown, field: string, direct: boolean, depth: number, identities: boolean): unknown {
    if (identities) {
      const replaced = identityReplacement(v, field, direct, this.key, this.persons, this.found);
      if (replaced) return this.walk(replaced.value, field, direct, depth, false);
    }
    if (typeof v === 'string') return redactText(v, this.key, field);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= RECURSION_LIMIT) throw TOO_DEEP;
    if (Array.isArray(v)) {
      const copy = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) copy[i] = this.walk(v[i], field, false, depth + 1, identities);
      return copy;
    }
    const record = v as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    // Two keys redacted alike keep the first one's place and the last one's value, as the two walks do.
    for (const k of Object.keys(record)) setOwn(copy, redactKey(k, this.key), this.walk(record[k], k, true, depth + 1, identities));
    return copy;
  }
}
