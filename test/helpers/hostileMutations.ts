import fc from 'fast-check';
import { setOwn } from '../../shared/util/ownProperties.js';
import { nested } from './hostile.js';

/**
 * Hostile variations of real payloads for the fuzz suite. fast-check generates small *recipes*
 * (which fixture, which mutations where); `applyRecipe` builds the payload from them, so a failing
 * case prints as a few readable lines, not as a megabyte of JSON.
 */
export const SPECIAL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;
export const BAD_TEXT = ['%zz', '%C0%AF', '\uD800', 'x\uDFFFy', '\\x', '\u0000', 'a/../../b', '?x=1#frag', '"}]{', '\r\n'] as const;
/** Keys under which free text with personal data is plausible (an IP under a version-like key is a version). */
export const PII_KEYS = ['note', 'owner', 'description', 'contact', 'callerIpAddress', 'connection'] as const;

/** What the suite plants, to prove none of it is stored in clear. */
export const PLANTED = { email: 'fuzzleak', ip: '198.51.100.', secret: 'FUZZSECRET' } as const;

export type Mutation =
  | { kind: 'wrongType'; at: number; to: 'null' | 'number' | 'boolean' | 'array' | 'object' | 'string' | 'negative' }
  | { kind: 'deep'; at: number; depth: number; shape: 'object' | 'array' }
  | { kind: 'hugeString'; at: number; unit: string; chars: number }
  | { kind: 'hugeArray'; at: number; length: number }
  | { kind: 'specialKey'; at: number; key: (typeof SPECIAL_KEYS)[number]; value: 'object' | 'string' | 'array' }
  | { kind: 'badText'; at: number; text: string; append: boolean }
  | { kind: 'pii'; at: number; what: 'email' | 'ip' | 'secret'; n: number; key: (typeof PII_KEYS)[number] }
  | { kind: 'piiInPlace'; at: number; what: 'email' | 'secret'; n: number }
  | { kind: 'remove'; at: number };

export interface Recipe {
  base: number;
  mutations: Mutation[];
}

const at = fc.nat({ max: 1_000_000 });

/** Mutations, weighted so that the expensive ones (10,000 levels, megabytes) are a few percent. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('wrongType' as const),
      at,
      to: fc.constantFrom('null', 'number', 'boolean', 'array', 'object', 'string', 'negative'),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      at,
      depth: fc.constantFrom(5, 60, 99, 101, 300),
      shape: fc.constantFrom('object', 'array'),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      at,
      depth: fc.constantFrom(5_000, 10_000),
      shape: fc.constantFrom('object', 'array'),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('hugeString' as const),
      at,
      unit: fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }),
      chars: fc.constantFrom(70_000, 1_100_000),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('hugeArray' as const), at, length: fc.constantFrom(1_000, 100_000) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('specialKey' as const),
      at,
      key: fc.constantFrom(...SPECIAL_KEYS),
      value: fc.constantFrom('object', 'string', 'array'),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('badText' as const), at, text: fc.constantFrom(...BAD_TEXT), append: fc.boolean() }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('pii' as const),
      at,
      what: fc.constantFrom('email', 'ip', 'secret'),
      n: fc.nat({ max: 999 }),
      key: fc.constantFrom(...PII_KEYS),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('piiInPlace' as const),
      at,
      what: fc.constantFrom('email', 'secret'),
      n: fc.nat({ max: 999 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('remove' as const), at }), weight: 2 },
);

export const recipe = (bases: number): fc.Arbitrary<Recipe> =>
  fc.record({ base: fc.nat({ max: bases - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) });

type Container = Record<string, unknown> | unknown[];
interface Place {
  parent: Container;
  key: string | number;
}

/** Every property and element of the value, in document order (iteratively: values may be deep). */
function places(root: unknown): Place[] {
  const out: Place[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0 && out.length < 5_000) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const keys: Array<string | number> = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const key of keys) {
      out.push({ parent: v as Container, key });
      stack.push((v as Record<string | number, unknown>)[key]);
    }
  }
  return out;
}

function put(place: Place, value: unknown): void {
  if (Array.isArray(place.parent)) place.parent[place.key as number] = value;
  else setOwn(place.parent, String(place.key), value);
}

function planted(what: 'email' | 'ip' | 'secret', n: number): string {
  if (what === 'email') return `${PLANTED.email}${n}@contoso.com`;
  if (what === 'ip') return `${PLANTED.ip}${(n % 250) + 1}`;
  return n % 2 === 0 ? `AccountKey=${PLANTED.secret}${n}` : `SharedAccessKey=${PLANTED.secret}${n}`;
}

function wrongValue(to: Extract<Mutation, { kind: 'wrongType' }>['to']): unknown {
  switch (to) {
    case 'null':
      return null;
    case 'number':
      return 1e308;
    case 'negative':
      return -1;
    case 'boolean':
      return true;
    case 'array':
      return [null, 0, ''];
    case 'object':
      return { unexpected: { shape: true } };
    case 'string':
      return 'not what was expected';
  }
}

/** The payload a recipe describes: a fresh copy of the base with each mutation applied in turn. */
export function applyRecipe(bases: readonly unknown[], r: Recipe): unknown {
  let root: unknown = structuredClone(bases[r.base % bases.length]);
  for (const m of r.mutations) {
    const all = places(root);
    // `at` beyond the places (or none at all) means the root itself.
    const place = all.length > 0 && m.at % (all.length + 1) !== all.length ? all[m.at % (all.length + 1)] : undefined;
    const current = place ? (place.parent as Record<string | number, unknown>)[place.key] : root;
    const set = (value: unknown) => (place ? put(place, value) : (root = value));
    const objectHere = (): Record<string, unknown> | undefined => {
      if (current !== null && typeof current === 'object' && !Array.isArray(current)) return current as Record<string, unknown>;
      if (place && !Array.isArray(place.parent)) return place.parent;
      return root !== null && typeof root === 'object' && !Array.isArray(root) ? (root as Record<string, unknown>) : undefined;
    };
    switch (m.kind) {
      case 'wrongType':
        set(wrongValue(m.to));
        break;
      case 'deep':
        set(nested(m.depth, 'leaf', m.shape));
        break;
      case 'hugeString':
        set(m.unit.repeat(Math.ceil(m.chars / m.unit.length)));
        break;
      case 'hugeArray':
        set(Array.from({ length: m.length }, (_, i) => (i % 3 === 0 ? `item-${i}` : i)));
        break;
      case 'specialKey': {
        const value = m.value === 'object' ? { polluted: true, inner: { a: 1 } } : m.value === 'array' ? [1, 'two'] : 'special';
        const target = objectHere();
        if (target) setOwn(target, m.key, value);
        break;
      }
      case 'badText':
        set(typeof current === 'string' && m.append ? `${current}${m.text}` : m.text);
        break;
      case 'pii': {
        const target = objectHere();
        const text =
          m.key === 'connection'
            ? `DefaultEndpointsProtocol=https;AccountName=acct;${planted('secret', m.n)};`
            : `seen ${planted(m.what, m.n)} today`;
        if (target) setOwn(target, m.key, text);
        break;
      }
      case 'piiInPlace':
        set(typeof current === 'string' ? `${current} ${planted(m.what, m.n)}` : planted(m.what, m.n));
        break;
      case 'remove':
        if (place && Array.isArray(place.parent)) place.parent.splice(place.key as number, 1);
        else if (place) delete (place.parent as Record<string, unknown>)[place.key as string];
        break;
    }
  }
  return root;
}
