import { createHash } from 'node:crypto';

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
 * numbers in JavaScript's shortest round-trip form. Anyone holding the stored document can
 * recompute the hash, which is what makes the raw event log verifiable.
 *
 * Written as a loop over an explicit stack rather than recursion: an event nested a few thousand
 * levels deep (a few kilobytes of JSON) would otherwise overflow the call stack, and hashing is the
 * first thing capture does with what it receives. Any depth works; memory grows with the size.
 */
export function canonicalJson(value: unknown): string {
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

function scalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
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

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Content hash of a JSON value: `sha256:` + hex digest of its canonical form. */
export function contentHash(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}
