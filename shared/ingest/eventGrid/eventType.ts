import type { WorkspaceId } from '../../graph/keys.js';
import type { GraphDelta } from '../../graph/model.js';
import type { Field, LooseRecord, RecordOutput } from '../fields.js';
import { fromZodIssues, type ValidationIssue } from '../issues.js';
import { keyCanonicalizer } from '../payload.js';

/**
 * What declaring one Azure ML event type takes (azureMlEvents.ts holds the declarations): the
 * schema of its `data`, where its subject repeats data fields, how the parsed data becomes a
 * graph delta, and which nodes of that delta the REST API should be asked about.
 */
export interface AzureMlEventType<F extends Record<string, Field>> {
  /** Full event type name, compared ignoring case. */
  type: string;
  /** `data` keys are first matched to the declared spelling ignoring case (`modelName` is `ModelName`). */
  data: LooseRecord<F>;
  /**
   * The subject's pattern and the data field each capture group stands in for, used where `data`
   * leaves the field out or blank. Placeholder segments (`{}`) stand in for nothing.
   */
  subject?: { pattern: RegExp; fields: ReadonlyArray<keyof F & string> };
  /** The parsed data as graph facts; a refusal for what the schema alone cannot check. */
  project: (data: RecordOutput<F>, at: EventContext) => GraphDelta | Refusal;
  /** Nodes of the delta whose links only the REST API holds: each gets an enrichment message. */
  followUp?: (node: GraphDelta['nodes'][number]) => boolean;
}

/** What a projection knows besides the event's data. */
export interface EventContext {
  ws: WorkspaceId;
  /** Event time as written by the publisher (it parses: the envelope checked). */
  time: string;
}

export interface Refusal {
  issues: ValidationIssue[];
}

export function refuse(path: string, message: string): Refusal {
  return { issues: [{ path, message }] };
}

export type ProjectionResult = { ok: true; delta: GraphDelta } | { ok: false; issues: ValidationIssue[] };

/** One declared event type, its fields' types checked at the declaration and no longer needed. */
export interface EventTypeEntry {
  type: string;
  /** The `data` fields the schema declares, as spelled there (the schema-drift check compares ignoring case). */
  fields: readonly string[];
  /** The declared `data` record (its schema, and the reader capture uses). */
  data: LooseRecord<Record<string, Field>>;
  /** `data` (an object, keys as sent) and the subject into a delta, or the issues that refuse it. */
  project(data: Record<string, unknown>, subject: string | undefined, at: EventContext): ProjectionResult;
  followUp(node: GraphDelta['nodes'][number]): boolean;
}

const PLACEHOLDER = /^\{.*\}$/;
const never = () => false;

export function azureMlEvent<F extends Record<string, Field>>(declared: AzureMlEventType<F>): EventTypeEntry {
  const { fields } = declared.data;
  const canonicalize = keyCanonicalizer(fields);
  const { subject } = declared;
  return {
    type: declared.type,
    fields,
    data: declared.data,
    followUp: declared.followUp ?? never,
    project(raw, subjectText, at) {
      const data = canonicalize(raw);
      const m = subject && subjectText ? subject.pattern.exec(subjectText.replace(/^\/+/, '')) : null;
      subject?.fields.forEach((field, i) => {
        const value = m?.[i + 1];
        if (!value || PLACEHOLDER.test(value)) return;
        if (data[field] === undefined || data[field] === null || data[field] === '') data[field] = value;
      });
      const parsed = declared.data.parse(data);
      if (!parsed.success) return { ok: false, issues: fromZodIssues(parsed.error.issues, 'data') };
      const projected = declared.project(parsed.data, at);
      return 'issues' in projected ? { ok: false, issues: projected.issues } : { ok: true, delta: projected };
    },
  };
}
