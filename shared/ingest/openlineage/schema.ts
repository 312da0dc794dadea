import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidationIssue } from '../issues.js';
import { isRecord } from '../../util/isRecord.js';
import spec from './spec/OpenLineage.json' with { type: 'json' };
import parentRunFacet from './spec/facets/ParentRunFacet.json' with { type: 'json' };
import schemaDatasetFacet from './spec/facets/SchemaDatasetFacet.json' with { type: 'json' };
import datasetVersionDatasetFacet from './spec/facets/DatasetVersionDatasetFacet.json' with { type: 'json' };
import columnLineageDatasetFacet from './spec/facets/ColumnLineageDatasetFacet.json' with { type: 'json' };
import dataQualityMetricsInputDatasetFacet from './spec/facets/DataQualityMetricsInputDatasetFacet.json' with { type: 'json' };
import dataQualityAssertionsDatasetFacet from './spec/facets/DataQualityAssertionsDatasetFacet.json' with { type: 'json' };

/**
 * OpenLineage events checked against the spec's own JSON Schema (2-0-2, draft 2020-12, copied in
 * ./spec with its provenance), with ajv and ajv-formats for `date-time`, `uri` and `uuid`.
 */
export const SPEC_ID = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
export const EVENT_KINDS = ['RunEvent', 'DatasetEvent', 'JobEvent'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * The facets the projection reads, by the name they go under and the schema definition that
 * describes them. Every other facet is kept as sent.
 */
const INTERPRETED = {
  parent: { schema: parentRunFacet, def: 'ParentRunFacet' },
  schema: { schema: schemaDatasetFacet, def: 'SchemaDatasetFacet' },
  version: { schema: datasetVersionDatasetFacet, def: 'DatasetVersionDatasetFacet' },
  columnLineage: { schema: columnLineageDatasetFacet, def: 'ColumnLineageDatasetFacet' },
  dataQualityMetrics: { schema: dataQualityMetricsInputDatasetFacet, def: 'DataQualityMetricsInputDatasetFacet' },
  dataQualityAssertions: { schema: dataQualityAssertionsDatasetFacet, def: 'DataQualityAssertionsDatasetFacet' },
} as const;
export type InterpretedFacet = keyof typeof INTERPRETED;

interface Validators {
  events: Record<EventKind, ValidateFunction>;
  facets: Record<InterpretedFacet, ValidateFunction>;
}

let compiled: Validators | undefined;

/** Compiled on first use: the app's cold start does not pay for it unless OpenLineage arrives. */
function validators(): Validators {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema(spec);
  for (const facet of Object.values(INTERPRETED)) ajv.addSchema(facet.schema);
  const at = (id: string, def: string) => ajv.getSchema(`${id}#/$defs/${def}`) as ValidateFunction;
  compiled = {
    events: { RunEvent: at(SPEC_ID, 'RunEvent'), DatasetEvent: at(SPEC_ID, 'DatasetEvent'), JobEvent: at(SPEC_ID, 'JobEvent') },
    facets: Object.fromEntries(Object.entries(INTERPRETED).map(([name, f]) => [name, at(f.schema.$id, f.def)])) as Record<
      InterpretedFacet,
      ValidateFunction
    >,
  };
  return compiled;
}

/**
 * Which of the spec's three events a body is meant to be. The spec's `oneOf` tells them apart by
 * what they carry (a DatasetEvent carries neither job nor run, a JobEvent no run), so the choice
 * is made the same way, and the errors then name the fields of that one event, not of all three.
 */
export function eventKindOf(body: Record<string, unknown>): EventKind {
  if ('run' in body) return 'RunEvent';
  if ('dataset' in body && !('job' in body)) return 'DatasetEvent';
  if ('job' in body) return 'JobEvent';
  return 'RunEvent';
}

/** An `eventTime` without a UTC offset: a date and time of day, nothing after. */
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i;

/** What is assumed of an event's time, when something is: an `eventTime` without offset is read as UTC. */
export function eventTimeNote(body: unknown): string | undefined {
  const time = isRecord(body) ? body.eventTime : undefined;
  return typeof time === 'string' && LOCAL_DATE_TIME.test(time) ? `eventTime ${time} has no UTC offset; read as UTC` : undefined;
}

export type Checked =
  | { ok: true; kind: EventKind; event: Record<string, unknown>; notes: string[] }
  | { ok: false; kind?: EventKind; issues: ValidationIssue[] };

/**
 * Validates one event. An `eventTime` without an offset is read as UTC, not refused: the spec's
 * `date-time` format (RFC 3339) requires the offset, but OpenLineage's own Python client examples
 * carry such times (test/fixtures/README.md), as do clients that serialize naive datetimes. The
 * event is kept as sent; the note says what was assumed.
 */
export function checkEvent(body: unknown): Checked {
  if (!isRecord(body)) return { ok: false, issues: [{ path: '(root)', message: 'an OpenLineage event must be a JSON object' }] };
  const kind = eventKindOf(body);
  const note = eventTimeNote(body);
  const notes = note ? [note] : [];
  const candidate = note ? { ...body, eventTime: `${String(body.eventTime)}Z` } : body;
  const validate = validators().events[kind];
  if (validate(candidate)) return { ok: true, kind, event: body, notes };
  return { ok: false, kind, issues: issuesOf(validate.errors ?? []) };
}

/** Whether a facet the projection interprets matches its own schema; the issues when not. */
export function checkFacet(name: InterpretedFacet, facet: unknown): ValidationIssue[] {
  const validate = validators().facets[name];
  return validate(facet) ? [] : issuesOf(validate.errors ?? []);
}

/**
 * ajv's errors as issues naming the field (`run.runId`, `inputs.0.name`), once each. The spec
 * nests facets in `anyOf` and `allOf`, so one mistake can surface as several errors for the same
 * place; the most specific message per place is kept.
 */
function issuesOf(errors: ErrorObject[]): ValidationIssue[] {
  const byPath = new Map<string, string>();
  for (const e of errors) {
    if (e.keyword === 'anyOf' || e.keyword === 'allOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    const base = e.instancePath.split('/').slice(1).map(decodePointer);
    const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined;
    const path = [...base, ...(missing ? [missing] : [])].join('.') || '(root)';
    const message = missing
      ? 'required'
      : e.keyword === 'not'
        ? notMessage(base)
        : e.keyword === 'format'
          ? `must be a ${(e.params as { format?: string }).format} (${e.message ?? 'wrong format'})`
          : e.keyword === 'enum'
            ? `must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`
            : (e.message ?? 'is not valid');
    if (!byPath.has(path)) byPath.set(path, message);
  }
  return [...byPath].map(([path, message]) => ({ path, message }));
}

function notMessage(base: string[]): string {
  return base.length === 0 ? 'a DatasetEvent carries no job or run, a JobEvent no run' : 'is not allowed here';
}

function decodePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
