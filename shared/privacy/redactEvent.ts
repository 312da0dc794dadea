import { setOwn } from '../util/ownProperties.js';
import { jsonDepth, RECURSION_LIMIT, TOO_DEEP } from '../util/canonicalJson.js';
import { identityReplacement, personKeysOf, redactIdentities, type IdentityOptions } from './identity.js';
import { redactKey, redactPii, redactText } from './pii.js';

/** What capture keeps of a received event, and how deep it is nested. */
export interface RedactedEvent<T> {
  /** `redactPii(redactIdentities(value))`, to the byte: key order, special keys, the people found. */
  value: T;
  /** `jsonDepth(value)`, counted by the same walk: capture refuses events nested too deep to store. */
  depth: number;
}

/**
 * What capture stores of a received event, in one walk instead of two copies (and a third walk
 * for its depth). The walk recurses, the fast way, up to RECURSION_LIMIT levels; a deeper value is
 * redacted again by the two explicit-stack walks, so no depth overflows the call stack and none is
 * left in clear.
 */
export function redactEvent<T>(value: T, key: string, options: IdentityOptions = {}): RedactedEvent<T> {
  // People are handed over only once the walk is done, so a walk given up half way leaves none twice.
  const found = new Map<string, string>();
  const redaction = new EventRedaction(key, personKeysOf(options.personKeys), found);
  let redacted: unknown;
  try {
    redacted = redaction.walk(value, '', false, 0, true);
  } catch (error) {
    if (error !== TOO_DEEP) throw error;
    const deep = redactPii(redactIdentities(value, key, options), key);
    return { value: deep, depth: jsonDepth(deep) };
  }
  for (const [hash, person] of found) options.found?.set(hash, person);
  return { value: redacted as T, depth: redaction.depth };
}

class EventRedaction {
  /** Deepest nesting walked so far, as jsonDepth counts it. */
  depth = 0;

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
    if (depth >= this.depth) this.depth = depth + 1;
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
