import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../shared/util/canonicalJson.js';
import { parseInstant, toInstant, utcInstant } from '../../shared/util/time.js';
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

  it('reads UTC times by their characters exactly as the pattern reads them, and leaves every other form to it', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const time = fc
      .record({
        year: fc
          .oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(1900, 2000, 2023, 2024, 2100))
          .map((n) => String(n).padStart(4, '0')),
        month: two(14),
        day: two(32),
        hour: two(25),
        minute: two(61),
        second: two(61),
        sep: fc.constantFrom('T', 't', ' ', 'x'),
        fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^[.,][0-9]{0,12}$/)),
        zone: fc.constantFrom('', 'Z', 'z', '+00:00', '-00:00', '+0000', '+02:00', '-05:30', 'Z ', ' ', 'UTC'),
      })
      .map((t) => `${t.year}-${t.month}-${t.day}${t.sep}${t.hour}:${t.minute}:${t.second}${t.fraction}${t.zone}`);
    let read = 0;
    fc.assert(
      fc.property(fc.oneof(time, fc.string()), (text) => {
        const fast = utcInstant(text);
        if (fast !== undefined) {
          read++;
          expect(fast).toBe(parseInstant(text));
        }
        expect(toInstant(text)).toBe(parseInstant(text));
      }),
      { numRuns: 3000, seed: 17 },
    );
    for (const t of ['2024-02-29T23:59:59.1234567Z', '2023-02-29T00:00:00Z', '0099-01-01T00:00:00Z', '2024-01-01 00:00:00,5+00:00'])
      expect(toInstant(t), t).toBe(parseInstant(t));
    expect(read).toBeGreaterThan(100);
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
