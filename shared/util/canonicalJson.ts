import * as crypto from 'node:crypto';

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
 * numbers in JavaScript's shortest round-trip form. Anyone holding the stored document can
 * recompute the hash, which is what makes the raw event log verifiable.
 *
 * Any depth works without overflowing the call stack: values up to RECURSION_LIMIT levels (every
 * real event, which capture refuses past 100 anyway) are written by plain recursion, the fast way;
 * a deeper value is written again by a loop over an explicit stack, where memory grows with the
 * size. Both write the same text.
 */
export function canonicalJson(value: unknown): string {
  try {
    return canonicalRecursive(value, 0);
  } catch (error) {
    if (error !== TOO_DEEP) throw error;
    return canonicalIterative(value);
  }
}

/**
 * How deep a walk may recurse before it starts again on an explicit stack: a few hundred frames
 * are far inside Node's stack whatever called the walk, and far past any real event.
 */
export const RECURSION_LIMIT = 256;
/** Thrown when a recursive walk passes RECURSION_LIMIT; made once, so throwing it captures no stack. */
export const TOO_DEEP = new Error(`deeper than ${RECURSION_LIMIT} levels: walked again on an explicit stack`);

function canonicalRecursive(value: unknown, depth: number): string {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(): unknown }).toJSON();
  }
  if (v === null || typeof v !== 'object') return scalar(v);
  if (depth >= RECURSION_LIMIT) throw TOO_DEEP;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      out += canonicalRecursive((v[i] as unknown) ?? null, depth + 1);
    }
    return `${out}]`;
  }
  const record = v as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as the canonical form requires.
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const k of keys) {
    const child = record[k];
    if (child === undefined) continue;
    if (out.length > 1) out += ',';
    out += quotedKey(k) + canonicalRecursive(child, depth + 1);
  }
  return `${out}}`;
}

/**
 * `"key":` for an object key. Events of one kind repeat the same keys (and the engine shares their
 * strings), so most are found here instead of quoted again. Bounded: emptied when full.
 */
const QUOTED_KEYS = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;
function quotedKey(k: string): string {
  let quoted = QUOTED_KEYS.get(k);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(k)}:`;
    if (QUOTED_KEYS.size >= QUOTED_KEYS_MAX) QUOTED_KEYS.clear();
    QUOTED_KEYS.set(k, quoted);
  }
  return quoted;
}

function canonicalIterative(value: unknown): string {
  // String appends and sorted keys rather than entries/filter/join: this runs on every captured event.
  let out = '';
  // Work items: a value still to write, or punctuation to emit as is.
  const stack: Array<{ value: unknown } | string> = [{ value }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown } | string;
    if (typeof item === 'string') {
      out += item;
      continue;
    }
    let v = item.value;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON(): unknown }).toJSON();
    }
    if (v === null || typeof v !== 'object') {
      out += scalar(v);
      continue;
    }
    if (Array.isArray(v)) {
      stack.push(']');
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ value: (v[i] as unknown) ?? null });
        if (i > 0) stack.push(',');
      }
      out += '[';
      continue;
    }
    const record = v as Record<string, unknown>;
    // The default sort compares UTF-16 code units, as the canonical form requires.
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    stack.push('}');
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i] as string;
      stack.push({ value: record[k] });
      stack.push(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`);
    }
    out += '{';
  }
  return out;
}

/**
 * Any character but those JSON.stringify writes as they are: it escapes the quote (\x22), the
 * backslash (\x5c), control characters (below \x20) and lone surrogates. Paired surrogates match
 * too and go the slow way, which writes them as they are.
 */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\ud7ff\ue000-\uffff]/;

/**
 * `JSON.stringify(text)`. Nearly every string of an event needs no escape, and testing for one then
 * adding the quotes costs half what JSON.stringify does on such short strings (there are a few
 * dozen per event).
 */
function quoteString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

function scalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return 'null'; // undefined, and what JSON has no form for
  }
}

/** Nesting depth of a JSON value: a scalar is 0, `{}` and `[]` are 1. Iterative, like canonicalJson. */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) max = depth + 1;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return max;
}

/** `crypto.hash` (Node 20.12 and later) hashes one string without a Hash object: half the cost per event. */
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Content hash of a JSON value: `sha256:` + hex digest of its canonical form. */
export function contentHash(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}
