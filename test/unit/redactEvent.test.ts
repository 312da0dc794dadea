import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactIdentities } from '../../shared/privacy/identity.js';
import { redactPii } from '../../shared/privacy/pii.js';
import { redactEvent } from '../../shared/privacy/redactEvent.js';
import { canonicalJson, jsonDepth, RECURSION_LIMIT } from '../../shared/util/canonicalJson.js';
import { nested } from '../helpers/hostile.js';

/** Capture's one-walk redaction against the two walks it stands for (issue 17 item 5). */
const KEY = 'redact-event-key-0123456789';
// Fields an approval rule may name, among them a secret label and a key that is itself personal data.
const PERSON_KEYS = ['Reviewer', 'Password', 'a@b.io'];

function twoWalks(value: unknown): { text: string; order: string; found: string } {
  const found = new Map<string, string>();
  return described(redactPii(redactIdentities(value, KEY, { personKeys: PERSON_KEYS, found }), KEY), found);
}

function oneWalk(value: unknown): { text: string; order: string; found: string } {
  const found = new Map<string, string>();
  const redacted = redactEvent(value, KEY, { personKeys: PERSON_KEYS, found });
  const out = described(redacted.value, found);
  // The depth the walk counted as it went is that of the copy it returns.
  expect(redacted.depth).toBe(jsonDepth(redacted.value));
  return out;
}

/** The canonical text, every object's keys in stored order, and the people found in the order found. */
function described(value: unknown, found: Map<string, string>): { text: string; order: string; found: string } {
  let order = '';
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v)) order += `${JSON.stringify(Object.keys(v))};`;
    stack.push(...(Object.values(v) as unknown[]));
  }
  return { text: canonicalJson(value), order, found: JSON.stringify([...found]) };
}

const FIELDS = [
  'createdBy',
  'owner',
  'Reviewer',
  'callerIpAddress',
  'identity',
  'claims',
  'objectId',
  'password',
  'AccountKey',
  'note',
  'key',
  'value',
  'tags',
  '__proto__',
  'ke"y\\\n',
  'version',
  'a@b.io',
];
const TEXTS = [
  'Jane Doe',
  'jane.doe@contoso.com',
  '203.0.113.70',
  'AccountKey=abc123;x',
  '7f1b2c3d-0000-4000-a000-000000000001',
  'identity:0123456789abcdef01234567',
  'call +44 20 7946 0958',
  '4111 1111 1111 1111',
  '',
  'plain',
  'quote " backslash \\ tab \t nul \u0000 lone \ud800 pair \ud83d\ude00 separator \u2028',
];
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object'), tie('pair')),
  leaf: fc.oneof(
    fc.constantFrom(...TEXTS),
    fc.integer(),
    fc.constantFrom(-0, 0.1, 1e21, 5e-7, Number.NaN, Number.POSITIVE_INFINITY),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 12 }),
  ),
  array: fc.array(tie('any'), { maxLength: 4 }),
  object: fc.dictionary(fc.constantFrom(...FIELDS), tie('any'), { maxKeys: 5 }),
  pair: fc.record({ key: fc.constantFrom(...FIELDS), value: tie('any') }),
})).any;

describe('redactEvent: one walk, the same as identity then personal-data redaction', () => {
  it('gives the same value, key order and people as the two walks, for any value', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(oneWalk(v)).toEqual(twoWalks(v));
      }),
      { numRuns: 1500 },
    );
  });

  it('agrees on either side of the recursion limit and far past it, and redacts at any depth', () => {
    const leaf = {
      createdBy: 'Jane Doe',
      note: 'mail jane.doe@contoso.com',
      tags: [{ key: 'owner', value: 'bob' }],
      callerIpAddress: '10.0.0.1',
    };
    for (const depth of [RECURSION_LIMIT - 2, RECURSION_LIMIT - 1, RECURSION_LIMIT, RECURSION_LIMIT + 1, 5_000]) {
      for (const as of ['object', 'array'] as const) {
        const v = { first: leaf, deep: nested(depth, leaf, as) };
        const one = oneWalk(v);
        expect(one).toEqual(twoWalks(v));
        expect(one.text).not.toContain('Jane Doe');
        expect(one.text).not.toContain('jane.doe@');
        expect(one.text).not.toContain('10.0.0.1');
        expect(JSON.parse(one.found)).toHaveLength(2);
      }
    }
  });

  it('keeps special keys as data', () => {
    const v = JSON.parse('{"__proto__":{"createdBy":"Jane Doe"},"constructor":{"prototype":{"owner":"bob"}}}') as unknown;
    const out = redactEvent(v, KEY).value as Record<string, Record<string, unknown>>;
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.__proto__?.createdBy).toMatch(/^identity:[0-9a-f]{24}$/);
    expect(oneWalk(v)).toEqual(twoWalks(v));
  });
});
