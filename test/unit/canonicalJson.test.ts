import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash, jsonDepth, RECURSION_LIMIT } from '../../shared/util/canonicalJson.js';
import { nested } from '../helpers/hostile.js';

/** The recursive definition canonicalJson must keep agreeing with, for values shallow enough to recurse. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => reference(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

describe('canonical JSON never overflows (hole 2)', () => {
  it('serialises and hashes values nested 10,000 and 200,000 levels deep', () => {
    for (const depth of [10_000, 200_000]) {
      const objects = nested(depth, 1);
      const text = canonicalJson(objects);
      expect(text.length).toBe(depth * '{"n":}'.length + 1);
      expect(text.startsWith('{"n":{"n":')).toBe(true);
      expect(contentHash(objects)).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(canonicalJson(nested(depth, null, 'array'))).toBe(`${'['.repeat(depth)}null${']'.repeat(depth)}`);
    }
  });

  it('writes the same text on either side of the depth where recursion gives way to the explicit stack', () => {
    for (const depth of [RECURSION_LIMIT - 1, RECURSION_LIMIT, RECURSION_LIMIT + 1, RECURSION_LIMIT * 3]) {
      const leaf = { b: [1, { y: undefined, x: 'é' }], a: null, ['__proto__']: -0 };
      const value = nested(depth, JSON.parse(JSON.stringify(leaf)) as unknown);
      expect(canonicalJson(value)).toBe(`${'{"n":'.repeat(depth)}{"__proto__":0,"a":null,"b":[1,{"x":"é"}]}${'}'.repeat(depth)}`);
    }
  });

  it('agrees with the recursive definition on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it('quotes strings and keys of any UTF-16 code units as JSON.stringify does (lone surrogates escaped)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 8 });
    fc.assert(
      fc.property(fc.array(text, { maxLength: 4 }), fc.dictionary(text, text, { maxKeys: 4 }), (array, object) => {
        expect(canonicalJson(array)).toBe(reference(array));
        expect(canonicalJson(object)).toBe(reference(object));
      }),
      { numRuns: 500 },
    );
    expect(canonicalJson(['"\\\u0000\ud800\udfff\ud83d\ude00\u2028'])).toBe(JSON.stringify(['"\\\u0000\ud800\udfff\ud83d\ude00\u2028']));
  });

  it('measures depth without recursion', () => {
    expect(jsonDepth('x')).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(jsonDepth(nested(150_000, 'x', 'array'))).toBe(150_000);
  });
});
