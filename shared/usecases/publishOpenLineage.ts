import type { GraphDelta, NodeDoc } from '../graph/model.js';
import { nodeId } from '../graph/keys.js';
import type { GraphStore } from '../store/graphStore.js';
import { runEventOf } from './evidence.js';

/** Where our lineage goes out as OpenLineage: an Event Hub (shared/publish/eventHubPublisher.ts). */
export interface LineagePublisher {
  /** Sends the events; those with the same partition key stay in order. Throws when they were not sent. */
  send(events: Array<{ partitionKey: string; body: Record<string, unknown> }>): Promise<void>;
}

/**
 * After an event is projected, every job it touched goes out as an OpenLineage RunEvent with its
 * inputs, outputs and parent as the graph now has them, rendered as `/api/evidence?format=
 * openlineage` renders them. Three store round trips: the jobs, their links both ways, and the
 * nodes at the other end. Events that came in as OpenLineage are not sent back out.
 */
export async function publishOpenLineage(graph: GraphStore, publisher: LineagePublisher, delta: GraphDelta, now: Date): Promise<number> {
  const touched = new Set<string>();
  for (const n of delta.nodes) if (n.ref.kind === 'job') touched.add(nodeId('job', n.ref.key));
  for (const e of delta.edges) for (const end of [e.from, e.to]) if (end.kind === 'job') touched.add(nodeId('job', end.key));
  if (touched.size === 0) return 0;
  const ids = [...touched];
  const [jobs, links] = await Promise.all([
    graph.nodes(ids),
    Promise.all([graph.edgesOf(ids, 'in'), graph.edgesOf(ids, 'out')]).then(([i, o]) => [...i, ...o]),
  ]);
  const others = [...new Set(links.flatMap((l) => [l.from, l.to]))].filter((id) => !jobs.has(id));
  const byId = new Map<string, NodeDoc>([...jobs, ...(await graph.nodes(others))]);
  const events = [...jobs.values()]
    .filter((job) => job.workspace !== null) // OpenLineage's own jobs came in from it
    .map((job) => ({ partitionKey: job.id, body: runEventOf(job, byId, links, now.toISOString()) }));
  if (events.length > 0) await publisher.send(events);
  return events.length;
}
