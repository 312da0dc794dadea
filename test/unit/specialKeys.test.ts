import { describe, expect, it } from 'vitest';
import { mergeFacts, mergeNodes } from '../../shared/graph/merge.js';
import type { Fact, NodeDoc } from '../../shared/graph/model.js';
import { redactIdentities } from '../../shared/privacy/identity.js';
import { redactPii } from '../../shared/privacy/pii.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { canonicalizeKeys } from '../../shared/ingest/payload.js';

/**
 * `__proto__`, `constructor` and `prototype` are data like any other key (hole 10). JSON.parse
 * makes them own properties; `out[key] = value` on a plain object would instead replace its
 * prototype and lose the key with its content.
 */
const KEY = 'k'.repeat(32);
const hostile = () =>
  JSON.parse('{"__proto__":{"polluted":"yes","inner":{"__proto__":[1,2]}},"constructor":{"prototype":{"x":1}},"a":1}') as Record<
    string,
    unknown
  >;

function expectKept(value: unknown): void {
  const obj = value as Record<string, unknown>;
  expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
  expect(Object.keys(obj).sort()).toEqual(['__proto__', 'a', 'constructor']);
  expect(canonicalJson(obj)).toBe(canonicalJson(hostile()));
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('special keys are kept as data (hole 10)', () => {
  it('canonical JSON writes them', () => {
    expect(canonicalJson(hostile())).toBe(
      '{"__proto__":{"inner":{"__proto__":[1,2]},"polluted":"yes"},"a":1,"constructor":{"prototype":{"x":1}}}',
    );
  });

  it('identity redaction keeps them, at any level', () => {
    expectKept(redactIdentities(hostile(), KEY));
    const nestedOnce = redactIdentities({ data: hostile() }, KEY);
    expectKept(nestedOnce.data);
  });

  it('PII redaction keeps them', () => {
    expectKept(redactPii(hostile(), KEY));
  });

  it('re-keying onto canonical spellings keeps them', () => {
    const out = canonicalizeKeys({ ...hostile(), modelname: 'm' }, ['ModelName']);
    expect(out.ModelName).toBe('m');
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(out.__proto__).toEqual({ polluted: 'yes', inner: JSON.parse('{"__proto__":[1,2]}') as unknown });
  });

  it('merging facts and series keeps facts named like them', () => {
    const fact = (value: unknown, instant: string): Fact => ({ value, instant, eventTime: instant, hash: `h${instant}` });
    const b = JSON.parse('{}') as Record<string, Fact>;
    Object.defineProperty(b, '__proto__', { value: fact('new', '2'), enumerable: true, writable: true, configurable: true });
    const merged = mergeFacts({ constructor: fact('c', '1') }, b);
    expect(Object.keys(merged)).toEqual(['__proto__', 'constructor']);
    expect((Object.getOwnPropertyDescriptor(merged, '__proto__')?.value as Fact).value).toBe('new');

    const node = (series: NodeDoc['series']): NodeDoc => ({
      id: 'n',
      pk: 'n',
      docType: 'node',
      kind: 'model',
      key: 'k',
      workspace: null,
      label: 'l',
      placeholder: false,
      facts: {},
      series,
      provenance: [],
    });
    const s = JSON.parse('{"__proto__":[{"value":1,"instant":"1","eventTime":"1","hash":"a"}]}') as NodeDoc['series'];
    const mergedNode = mergeNodes(node(s), node({}));
    expect(Object.hasOwn(mergedNode.series, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(mergedNode.series)).toBe(Object.prototype);
  });
});
