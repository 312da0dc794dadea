import { parseArmId, type NodeRef } from '../graph/keys.js';
import type { EnrichmentMessage } from '../ingest/enrichmentMessage.js';
import { followUps } from '../ingest/followUps.js';
import { isTerminalRunStatus } from '../ingest/payload.js';
import type { EnrichmentSink } from '../store/enrichmentQueue.js';
import type { GraphStore, NodeSummary } from '../store/graphStore.js';

/**
 * The reconcile pass (failure mode F2): what serves reaches us through events only if the
 * workspace's Event Grid subscription and Activity Log diagnostic setting exist, so a timer asks
 * the REST enrichment to read it again. It queues the enrichment messages the Activity Log path
 * queues (one per resource, fetched by enrichResource); an answer that differs from what we hold
 * becomes an observation like any other, an unchanged one is the same evidence and changes nothing.
 *
 * Read every run: every online or batch endpoint and deployment not deleted (an endpoint read
 * brings its traffic split; a deployment read, the model it serves). Read when our latest
 * observation of them is older than `olderThanHours`: jobs not yet finished (a missed completion
 * leaves them running forever) and nodes only ever referenced (placeholders) of kinds REST can fetch.
 */
export const RECONCILE_EVENT_TYPE = 'aml-lineage:reconcile';

const ALWAYS = new Set(['endpoint', 'deployment']);
const FETCHABLE = ['endpoint', 'deployment', 'job', 'model', 'data', 'environment', 'code', 'compute'] as const;

export interface ReconcileDeps {
  graph: GraphStore;
  enrichments: EnrichmentSink;
  now: () => Date;
  olderThanHours: number;
}

export interface ReconcileOutcome {
  /** Nodes considered, and messages queued per kind. */
  considered: number;
  queued: Record<string, number>;
}

/** Whether a node is read again this pass. */
export function dueForReconcile(node: NodeSummary, now: Date, olderThanHours: number): boolean {
  if (node.deleted) return false;
  if (ALWAYS.has(node.kind)) return true;
  const old = node.lastLearnedAt === null || Date.parse(node.lastLearnedAt) < now.getTime() - olderThanHours * 3_600_000;
  if (!old) return false;
  if (node.placeholder) return true;
  return node.kind === 'job' && !isTerminalRunStatus(node.status);
}

/** Queues the reads; each page of candidates is queued as it is read, so a large graph needs no large memory. */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const now = deps.now();
  const cause = { eventType: RECONCILE_EVENT_TYPE, eventId: `reconcile:${now.toISOString()}` };
  const outcome: ReconcileOutcome = { considered: 0, queued: {} };
  for await (const page of deps.graph.nodeSummaries(FETCHABLE)) {
    outcome.considered += page.length;
    const due = page
      .filter((n) => dueForReconcile(n, now, deps.olderThanHours))
      .map((n) => parseArmId(n.key))
      .filter((ref): ref is NodeRef => ref !== undefined);
    const messages: EnrichmentMessage[] = followUps(due, cause);
    if (messages.length === 0) continue;
    await deps.enrichments.enqueue(messages);
    for (const m of messages) outcome.queued[m.kind] = (outcome.queued[m.kind] ?? 0) + 1;
  }
  return outcome;
}
