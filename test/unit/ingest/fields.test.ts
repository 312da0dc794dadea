import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AZUREML_EVENTS } from '../../../shared/ingest/eventGrid/azureMlEvents.js';
import { cloudEventEnvelope, eventGridEnvelope } from '../../../shared/ingest/eventGrid/envelope.js';
import type { Field, LooseRecord } from '../../../shared/ingest/fields.js';
import { fromZodIssues } from '../../../shared/ingest/issues.js';
import { canonicalizeKeys } from '../../../shared/ingest/payload.js';
import { eventStream } from '../../bench/stream.js';
import { fixture, fixtureFiles } from '../../helpers/fixtures.js';

/**
 * Capture reads envelopes and event data with hand-written readers (shared/ingest/fields.ts) and
 * asks zod only when a reader does not vouch for a value. That is only sound if a reader never
 * accepts what zod refuses and never reads a value differently: checked here against zod itself,
 * on every documented payload, the bench stream and random hostile shapes. The refusals (what a
 * dead letter says) must be zod's, path and message.
 */
type AnyRecord = LooseRecord<Record<string, Field>>;
const RECORDS: ReadonlyArray<[string, AnyRecord]> = [
  ['Event Grid envelope', eventGridEnvelope],
  ['CloudEvents envelope', cloudEventEnvelope],
  ...AZUREML_EVENTS.map((e): [string, AnyRecord] => [`${e.type} data`, e.data]),
];

/** The reader's answer and the schema's agree: the same acceptance, the same declared fields, the same issues. */
function expectAgreement(record: AnyRecord, value: unknown): void {
  const ours = record.parse(value);
  const zod = record.schema.safeParse(value);
  expect(ours.success).toBe(zod.success);
  if (ours.success && zod.success) {
    // What a projection reads: the declared fields (unknown ones stay in the raw log, read by nobody).
    for (const k of record.fields) expect((ours.data as Record<string, unknown>)[k], k).toEqual((zod.data as Record<string, unknown>)[k]);
  } else if (!ours.success && !zod.success) {
    expect(fromZodIssues(ours.error.issues)).toEqual(fromZodIssues(zod.error.issues));
  }
  // Whatever the reader vouches for, zod accepts with the same values.
  const read = record.read(value);
  if (read !== undefined) {
    expect(zod.success).toBe(true);
    for (const k of record.fields) expect((read as Record<string, unknown>)[k], k).toEqual((zod.data as Record<string, unknown>)[k]);
  }
}

/** Every Event Grid event of the fixtures, and the first events of the bench stream. */
function documentedEvents(): Array<Record<string, unknown>> {
  const events = fixtureFiles('azureml-eventgrid', /\.json$/)
    .flatMap((f) => {
      const content = fixture(f);
      return Array.isArray(content) ? content : [content];
    })
    .filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object' && !Array.isArray(e));
  return [...events, ...eventStream(200).map((e) => e.raw)];
}

const dataOf = (event: Record<string, unknown>) => (event.data !== null && typeof event.data === 'object' ? event.data : {});

/** Values chosen to sit on each reader's edges: blank and padded text, numbers as text, bad times, NAME:VERSION lists. */
const EDGE_VALUES: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  ' x ',
  'x',
  '\u00a0y\u2003',
  '12',
  ' -3.5e2 ',
  '1.',
  '0x10',
  'NaN',
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00.1234567+02:00',
  '2024-13-01T00:00:00Z',
  '2024-02-30T00:00:00Z',
  'yesterday',
  'a:1,b:2',
  ' a:1 , ,b:x:y ',
  ':1',
  'a:',
  'a',
  0,
  -0,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  [],
  ['a:1'],
  ['a:1', 'b'],
  ['a:1', 2],
  {},
  { a: 1, b: { c: [1] } },
  JSON.parse('{"__proto__":{"x":1},"k":"v"}') as unknown,
  Object.create(null) as unknown,
  new Date(0),
  new Map([['a', 1]]),
];

const edgeValue = fc.oneof({ arbitrary: fc.constantFrom(...EDGE_VALUES), weight: 4 }, { arbitrary: fc.anything(), weight: 1 });

describe('hand-written readers agree with the zod schemas they stand in for', () => {
  it('read every documented envelope and event data themselves, as zod reads them', () => {
    const events = documentedEvents();
    let read = 0;
    for (const event of events) {
      for (const [, record] of RECORDS.slice(0, 2)) expectAgreement(record, event);
      for (const entry of AZUREML_EVENTS) {
        const data = canonicalizeKeys(dataOf(event) as Record<string, unknown>, entry.fields);
        expectAgreement(entry.data, data);
        if (entry.type.toLowerCase() === String(event.eventType ?? event.type).toLowerCase()) {
          // The fast path is the one taken for real traffic, not zod behind it.
          expect(entry.data.read(data), `${entry.type}`).toBeDefined();
          read++;
        }
      }
    }
    expect(read).toBeGreaterThan(200);
  });

  it('give zod the last word on random shapes: same acceptance, same values, same issues', () => {
    for (const [name, record] of RECORDS) {
      const shape = fc.dictionary(fc.constantFrom(...record.fields, 'extra'), edgeValue, { maxKeys: record.fields.length + 1 });
      fc.assert(
        fc.property(shape, (value) => {
          expectAgreement(record, value);
        }),
        { numRuns: 400, seed: 17, verbose: true, examples: [[{}]] },
      );
      // And whole values that are not objects at all.
      fc.assert(
        fc.property(edgeValue, (value) => expectAgreement(record, value)),
        { numRuns: 100, seed: 17 },
      );
      expect(name).toBeTruthy();
    }
  });

  it('start from documented payloads and break one field at a time', () => {
    const events = documentedEvents().slice(0, 12);
    for (const event of events) {
      for (const [, record] of RECORDS) {
        const base = record === eventGridEnvelope || record === cloudEventEnvelope ? event : dataOf(event);
        for (const k of record.fields) for (const v of EDGE_VALUES) expectAgreement(record, { ...base, [k]: v });
      }
    }
  });
});
