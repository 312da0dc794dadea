import { z } from 'zod';
import { isRecord } from '../util/isRecord.js';
import { isInstant } from '../util/time.js';
import { isoDateTime } from './payload.js';

/**
 * Payload fields declared once, as a zod schema paired with a hand-written reader.
 *
 * The schema is the documentation and the only source of refusals: every issue a dead letter
 * carries is zod's, path and message. The reader is the capture path's fast way to the same
 * answer for the payloads that pass (zod's object walk, issue bookkeeping and copies were a
 * quarter of normalization's time). A reader gives the value the schema would give, or REFUSED
 * whenever it does not vouch for one, and the schema decides then. So a reader may refuse more
 * than its schema does (costing only time), never accept what the schema refuses or differ on
 * a value; test/unit/ingest/fields.test.ts checks that against zod on fixtures and random shapes.
 */
export const REFUSED: unique symbol = Symbol('refused by the reader: the schema decides');

export interface Field<S extends z.ZodType = z.ZodType> {
  schema: S;
  read(value: unknown): z.output<S> | typeof REFUSED;
}

export function field<S extends z.ZodType>(schema: S, read: (value: unknown) => z.output<S> | typeof REFUSED): Field<S> {
  return { schema, read };
}

export function optional<S extends z.ZodType>(f: Field<S>): Field<z.ZodOptional<S>> {
  return field(f.schema.optional(), (v) => (v === undefined ? undefined : f.read(v)));
}

export function nullish<S extends z.ZodType>(f: Field<S>): Field<z.ZodOptional<z.ZodNullable<S>>> {
  return field(f.schema.nullish(), (v) => (v === undefined || v === null ? v : f.read(v)));
}

export const anything = field(z.unknown(), (v) => v);
export const text = field(z.string(), (v) => (typeof v === 'string' ? v : REFUSED));
/** A string with at least one character, as sent. */
export const filled = field(z.string().min(1), (v) => (typeof v === 'string' && v.length > 0 ? v : REFUSED));
/** A string with something besides white space, trimmed. */
export const nonEmpty = field(z.string().trim().min(1), (v) => {
  if (typeof v !== 'string') return REFUSED;
  const t = v.trim();
  return t.length > 0 ? t : REFUSED;
});
/** An event time as written, provided it parses (payload.ts). */
export const dateTime = field(isoDateTime, (v) => (typeof v === 'string' && isInstant(v) ? v : REFUSED));

export type FieldsOf<F extends Record<string, Field>> = { [K in keyof F]: F[K]['schema'] };
/** What a record's declared fields are once read: unknown fields are not part of it (they stay in the raw event log). */
export type RecordOutput<F extends Record<string, Field>> = { -readonly [K in keyof F]: z.output<F[K]['schema']> };

export interface LooseRecord<F extends Record<string, Field>> {
  /** The declared fields, as spelled. */
  fields: readonly string[];
  /** The object schema, unknown fields allowed: the documentation, and what answers for refusals. */
  schema: z.ZodObject<FieldsOf<F>, z.core.$loose>;
  /** The hand-written reader alone: the declared fields as the schema reads them, or undefined for the schema to decide. */
  read(obj: unknown): RecordOutput<F> | undefined;
  /** The declared fields of `obj` as the schema reads them, or the schema's issues. */
  parse(obj: unknown): { success: true; data: RecordOutput<F> } | { success: false; error: z.ZodError };
}

/** An object of declared fields, any others allowed and left out of what is read. */
export function looseRecord<F extends Record<string, Field>>(declared: F): LooseRecord<F> {
  const entries = Object.entries(declared);
  const shape = Object.fromEntries(entries.map(([k, f]) => [k, f.schema])) as FieldsOf<F>;
  const schema = z.looseObject(shape);
  const read = (obj: unknown): RecordOutput<F> | undefined => {
    if (!isRecord(obj)) return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, f] of entries) {
      const v = f.read(obj[k]);
      if (v === REFUSED) return undefined;
      out[k] = v;
    }
    return out as RecordOutput<F>;
  };
  return {
    fields: entries.map(([k]) => k),
    schema,
    read,
    parse(obj) {
      const data = read(obj);
      if (data !== undefined) return { success: true, data };
      const parsed = schema.safeParse(obj);
      return parsed.success ? { success: true, data: parsed.data as RecordOutput<F> } : { success: false, error: parsed.error };
    },
  };
}
