import { z } from 'zod';
import { NODE_KINDS, type NodeKind, type NodeRef } from './keys.js';

/**
 * Edges point downstream: from the thing that was used to the thing built or served with it,
 * so "upstream of X" follows edges backwards and "impact of X" follows them forwards.
 * The name reads as "FROM is the <kind> TO", e.g. data `inputOf` job, job `produced` model.
 */
export const EDGE_KINDS = [
  'inputOf', // data / dataset / model -> job
  'produced', // job -> model / data
  'codeOf', // code -> job / deployment / component
  'environmentOf', // environment -> job / deployment / component
  'computeOf', // compute -> job
  'commitOf', // git commit -> job / code
  'parentOf', // parent job -> child job; base model -> derived model
  'deployedTo', // model -> deployment / service
  'serves', // deployment -> endpoint
  'deploymentOf', // batch deployment -> the scoring job it ran
  'driftTargetOf', // dataset -> drift signal (the data that drifted)
  'driftBaselineOf', // dataset -> drift signal (the reference data)
  'approvalOf', // approval -> model version it decides on
  'locationOf', // storage -> data asset version (the files the version points at, by each name they have)
  'copiedTo', // asset version -> its copy: a workspace version promoted to a registry, or a registry version copied into a workspace
  'componentOf', // component version -> the job (pipeline step) that ran it
] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

/** Which event asserted a fact, when it happened, and when we learned it. */
export const provenanceSchema = z.object({
  source: z.string(), // 'eventgrid' | 'eventhubs' | 'rest' ...
  eventId: z.string(),
  eventType: z.string(),
  /** Event time exactly as the source wrote it. */
  eventTime: z.string(),
  /** Event time as a sortable UTC instant with nanosecond precision. */
  instant: z.string(),
  /** Content hash of the raw event in the event log (`sha256:...`). */
  hash: z.string(),
  /** When this deployment first received the event. */
  learnedAt: z.string(),
  /** Channel metadata: Event Hubs partition id, sequence number, offset, enqueued time. */
  delivery: z.record(z.string(), z.unknown()).optional(),
});
export type Provenance = z.infer<typeof provenanceSchema>;

export const factSchema = z.object({
  value: z.unknown(),
  instant: z.string(),
  eventTime: z.string(),
  hash: z.string(),
});
export type Fact = z.infer<typeof factSchema>;

/** A value in a time series kept whole (e.g. every status a job went through). */
export const seriesEntrySchema = z.object({ value: z.unknown(), instant: z.string(), eventTime: z.string(), hash: z.string() });
export type SeriesEntry = z.infer<typeof seriesEntrySchema>;

const nodeKindSchema = z.enum(NODE_KINDS);

export const nodeDocSchema = z.object({
  id: z.string(),
  pk: z.string(),
  docType: z.literal('node'),
  kind: nodeKindSchema,
  key: z.string(),
  workspace: z.string().nullable(),
  label: z.string(),
  /** True until an event about the node itself arrives; until then it is only referenced. */
  placeholder: z.boolean(),
  facts: z.record(z.string(), factSchema),
  series: z.record(z.string(), z.array(seriesEntrySchema)),
  provenance: z.array(provenanceSchema),
  /**
   * Links touching this node (`from|kind|to`) whose copy in its partition the closure stage has
   * not propagated yet: written with the copy, cleared by the stage. A lookup reads them on the
   * nodes it reads anyway, to know whether a closure is current (usecases/lineage.ts).
   */
  closurePending: z.array(z.string()).optional(),
});
export type NodeDoc = z.infer<typeof nodeDocSchema>;

export const edgeDocSchema = z.object({
  id: z.string(),
  pk: z.string(),
  docType: z.literal('edge'),
  /** `out`: stored with `from` (pk = from); `in`: the mirror stored with `to` (pk = to). */
  dir: z.enum(['out', 'in']),
  kind: z.enum(EDGE_KINDS),
  from: z.string(),
  to: z.string(),
  fromKind: nodeKindSchema,
  toKind: nodeKindSchema,
  fromKey: z.string(),
  toKey: z.string(),
  facts: z.record(z.string(), factSchema),
  /** Values observed over time, e.g. the traffic share of a deployment behind an endpoint. */
  series: z.record(z.string(), z.array(seriesEntrySchema)).default({}),
  provenance: z.array(provenanceSchema),
  /**
   * True from the copy's creation until the closure stage has propagated its link
   * (usecases/closures.ts); the copy's node carries the same news as a mark (`closurePending`
   * on the node), which is what lookups read.
   */
  closurePending: z.boolean().optional(),
});
export type EdgeDoc = z.infer<typeof edgeDocSchema>;

export type GraphDoc = NodeDoc | EdgeDoc;

/** What one event says about the graph, before it is merged into stored documents. */
export interface GraphDelta {
  /** Nodes the event is about, with the facts it asserts. */
  nodes: Array<{ ref: NodeRef; facts: Record<string, unknown>; series?: Record<string, unknown> }>;
  /** Nodes the event only mentions; created as placeholders when unseen. */
  references: NodeRef[];
  edges: Array<{ kind: EdgeKind; from: NodeRef; to: NodeRef; facts?: Record<string, unknown>; series?: Record<string, unknown> }>;
}

export function emptyDelta(): GraphDelta {
  return { nodes: [], references: [], edges: [] };
}

export type { NodeKind, NodeRef };
