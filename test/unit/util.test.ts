import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../shared/util/canonicalJson.js';
import { toInstant } from '../../shared/util/time.js';
import { BoundedMap } from '../../shared/util/boundedMap.js';

describe('canonical JSON and content hashes', () => {
  it('does not depend on key order or whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: 2 }] })).toBe('{"a":[true,null,{"c":2,"d":"x"}],"b":1}');
    expect(contentHash(JSON.parse('{ "b": 1, "a": 2 }'))).toBe(contentHash({ a: 2, b: 1 }));
  });

  it('round-trips: parsing canonical JSON gives back an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(JSON.parse(canonicalJson(value)))).toBe(canonicalJson(value));
      }),
    );
  });

  it('keeps the shortest round-trip form of numbers (0.83503490684792081 from the drift fixture)', () => {
    expect(canonicalJson(JSON.parse('{"x":0.83503490684792081}'))).toBe('{"x":0.8350349068479208}');
  });
});

describe('event time instants', () => {
  it('orders times with 7 fractional digits beyond what Date keeps', () => {
    const a = toInstant('2017-06-26T18:41:00.9584103Z')!;
    const b = toInstant('2017-06-26T18:41:00.9584104Z')!;
    expect(a < b).toBe(true);
    expect(a).toBe('2017-06-26T18:41:00.958410300Z');
  });

  it('normalises offsets to UTC', () => {
    expect(toInstant('2022-09-07T21:23:59.5337218+02:00')).toBe('2022-09-07T19:23:59.533721800Z');
    expect(toInstant('2022-09-07T21:23:59-05:30')).toBe('2022-09-08T02:53:59.000000000Z');
  });

  it('refuses what is not a date-time', () => {
    for (const bad of ['', 'yesterday', '2022-13-45T99:99:99Z', '2022-09-07']) expect(toInstant(bad), bad).toBeUndefined();
  });
});

describe('bounded map (in-process memories)', () => {
  it('keeps the most recently set entries up to its limit, forgetting the oldest first', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3); // set again: now the most recent
    map.set('c', 4);
    expect([map.get('a'), map.get('b'), map.get('c')]).toEqual([3, undefined, 4]);
  });
});
