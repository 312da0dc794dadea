import { assertedNode, edgePair, mergeEdges, mergeNodes, placeholderNode } from '../graph/merge.js';
import { nodeId } from '../graph/keys.js';
import type { GraphDelta, GraphDoc, Provenance } from '../graph/model.js';
import type { GraphStore, WriteResult } from '../store/graphStore.js';
import { keyOf } from '../store/reads.js';

export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Links stored for the first time: work for the closure stage. */
  newLinks: number;
}

/** `doc` added to `docs`, joined with the copy already there (an event, or several, may name a document twice). */
function joinInto(docs: Map<string, GraphDoc>, doc: GraphDoc): void {
  const key = keyOf(doc);
  const existing = docs.get(key);
  if (!existing) docs.set(key, doc);
  else if (existing.docType === 'node' && doc.docType === 'node') docs.set(key, mergeNodes(existing, doc));
  else if (existing.docType === 'edge' && doc.docType === 'edge') docs.set(key, mergeEdges(existing, doc));
}

/** Documents an event's delta turns into: asserted nodes, placeholders, and both copies of each edge. */
export function documentsFor(delta: GraphDelta, prov: Provenance): { merge: GraphDoc[]; ensure: GraphDoc[] } {
  const merge = new Map<string, GraphDoc>();
  for (const node of delta.nodes) joinInto(merge, assertedNode(node.ref, node.facts, node.series, prov));
  for (const edge of delta.edges)
    for (const doc of edgePair(edge.kind, edge.from, edge.to, edge.facts, prov, edge.series)) joinInto(merge, doc);

  const asserted = new Set(delta.nodes.map((n) => nodeId(n.ref.kind, n.ref.key)));
  const ensure = new Map<string, GraphDoc>();
  // Each link's ends too, named or not: a new copy marks its node in the same write (graph/merge.ts withMarks).
  for (const ref of [...delta.references, ...delta.edges.flatMap((e) => [e.from, e.to])]) {
    const doc = placeholderNode(ref);
    if (!asserted.has(doc.id) && !ensure.has(doc.id)) ensure.set(doc.id, doc);
  }
  return { merge: [...merge.values()], ensure: [...ensure.values()] };
}

export async function applyDelta(store: GraphStore, delta: GraphDelta, prov: Provenance): Promise<ApplyResult> {
  return (await applyDeltas(store, [{ delta, prov }]))[0] as ApplyResult;
}

/**
 * Several events' deltas in one `write()` call (an enrichment message's answers): a document more
 * than one names is joined into one, asserted before placeholder, so the graph is what applying
 * them one after another would leave (joins are order-free), for one read and one write of the
 * documents they share. What each delta's documents did, in order.
 */
export async function applyDeltas(
  store: GraphStore,
  projections: ReadonlyArray<{ delta: GraphDelta; prov: Provenance }>,
): Promise<ApplyResult[]> {
  const each = projections.map(({ delta, prov }) => documentsFor(delta, prov));
  const merge = new Map<string, GraphDoc>();
  const ensure = new Map<string, GraphDoc>();
  for (const docs of each) {
    for (const doc of docs.merge) joinInto(merge, doc);
    for (const doc of docs.ensure) if (!ensure.has(keyOf(doc))) ensure.set(keyOf(doc), doc);
  }
  for (const key of merge.keys()) ensure.delete(key);
  const writes = [
    ...[...merge.values()].map((doc) => ({ doc, ensure: false })),
    ...[...ensure.values()].map((doc) => ({ doc, ensure: true })),
  ];
  const results = await store.write(writes);
  const resultOf = new Map(writes.map((w, i) => [keyOf(w.doc), results[i] as WriteResult]));
  return each.map(({ merge: asserted, ensure: named }) => {
    const done = [...asserted, ...named].map((doc) => resultOf.get(keyOf(doc)) as WriteResult);
    // Closures are not kept here: a new link's `out` copy is stored pending (edgePair), and the
    // closure stage propagates it (usecases/closures.ts). Capture writes graph documents only.
    const newLinks = asserted.filter((d, i) => d.docType === 'edge' && d.dir === 'out' && done[i] === 'created').length;
    return {
      created: done.filter((r) => r === 'created').length,
      updated: done.filter((r) => r === 'updated').length,
      unchanged: done.filter((r) => r === 'unchanged').length,
      newLinks,
    };
  });
}
