import { setOwn } from '../util/ownProperties.js';
import { canonicalJson, canonicalScalar, jsonDepth, quotedKey, RECURSION_LIMIT, TOO_DEEP } from '../util/canonicalJson.js';
import { identityReplacement, personKeysOf, redactIdentities, type IdentityOptions } from './identity.js';
import { redactKey, redactPii, redactText } from './pii.js';

/** What capture keeps of a received event, with what it needs to know about it before storing it. */
export interface RedactedEvent {
  /** `redactPii(redactIdentities(value))`, to the byte: key order, special keys, the people found. */
  value: unknown;
  /** `canonicalJson(value)`: the text the content hash is taken of. */
  canonical: string;
  /** `jsonDepth(value)`: capture refuses events nested too deep to store. */
  depth: number;
}

/**
 * Redacts a received event and writes its canonical JSON in the same walk: capture needs both,
 * and walking the redacted copy a second time (and a third for its depth) cost more than the
 * redaction itself (issue 17 item 5). The walk recurses, the fast way, up to RECURSION_LIMIT
 * levels; a deeper value is redacted again by the two explicit-stack walks and written by
 * canonicalJson, so no depth overflows the call stack and none is left in clear.
 */
export function redactEvent(value: unknown, key: string, options: IdentityOptions = {}): RedactedEvent {
  // People are handed over only once the walk is done, so a walk given up half way leaves none twice.
  const found = new Map<string, string>();
  const walk = new RedactingWriter(key, personKeysOf(options.personKeys), found);
  let redacted: unknown;
  try {
    redacted = walk.walk(value, '', false, 0, true);
  } catch (error) {
    if (error !== TOO_DEEP) throw error;
    const deep = redactPii(redactIdentities(value, key, options), key);
    return { value: deep, canonical: canonicalJson(deep), depth: jsonDepth(deep) };
  }
  for (const [hash, person] of found) options.found?.set(hash, person);
  return { value: redacted, canonical: walk.text, depth: walk.depth };
}

class RedactingWriter {
  /** Canonical JSON of the value the last `walk` returned. */
  text = '';
  /** Deepest nesting seen so far, as jsonDepth counts it. */
  depth = 0;

  constructor(
    private readonly key: string,
    private readonly persons: Set<string>,
    private readonly found: Map<string, string>,
  ) {}

  /**
   * The redacted copy of `v`, which sits under property `field` (`direct`: as its own value, not
   * in an array), leaving its canonical text in `this.text`. As the two walks would: an identity
   * replacement is not looked inside by the identity walk but is by the personal-data walk;
   * strings and keys go through `redactText`. The copy keeps the received key order (it is what
   * is stored); the text sorts the redacted keys, as canonicalJson does with the copy.
   */
  walk(v: unknown, field: string, direct: boolean, depth: number, identities: boolean): unknown {
    if (identities) {
      const replaced = identityReplacement(v, field, direct, this.key, this.persons, this.found);
      if (replaced) return this.walk(replaced.value, field, direct, depth, false);
    }
    if (typeof v === 'string') {
      const redacted = redactText(v, this.key, field);
      this.text = canonicalScalar(redacted);
      return redacted;
    }
    if (v === null || typeof v !== 'object') {
      this.text = canonicalScalar(v);
      return v;
    }
    if (depth >= RECURSION_LIMIT) throw TOO_DEEP;
    if (depth >= this.depth) this.depth = depth + 1;
    if (Array.isArray(v)) {
      const copy = new Array<unknown>(v.length);
      let out = '[';
      for (let i = 0; i < v.length; i++) {
        copy[i] = this.walk(v[i], field, false, depth + 1, identities);
        if (i > 0) out += ',';
        out += this.text;
      }
      this.text = `${out}]`;
      return copy;
    }
    const record = v as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    // Each redacted key's text, kept until the keys are sorted; `undefined` members are left out of the text.
    const texts: Record<string, string> = {};
    // Two keys redacted alike keep the first one's place and the last one's value, as the two walks do.
    for (const k of Object.keys(record)) {
      const redactedKey = redactKey(k, this.key);
      setOwn(copy, redactedKey, this.walk(record[k], k, true, depth + 1, identities));
      setOwn(texts, redactedKey, this.text);
    }
    // The default sort compares UTF-16 code units, as the canonical form requires.
    let out = '{';
    for (const k of Object.keys(copy).sort()) {
      if (copy[k] === undefined) continue;
      if (out.length > 1) out += ',';
      out += quotedKey(k) + (texts[k] as string);
    }
    this.text = `${out}}`;
    return copy;
  }
}
