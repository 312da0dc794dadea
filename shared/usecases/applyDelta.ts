import { assertedNode, edgePair, mergeEdges, mergeNodes, placeholderNode } from '../graph/merge.js';
import { nodeId } from '../graph/keys.js';
import type { GraphDelta, GraphDoc, Provenance } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { keyOf } from '../store/reads.js';

export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Links stored for the first time: work for the closure stage. */
  newLinks: number;
}

/** Documents an event's delta turns into: asserted nodes, placeholders, and both copies of each edge. */
export function documentsFor(delta: GraphDelta, prov: Provenance): { merge: GraphDoc[]; ensure: GraphDoc[] } {
  const merge = new Map<string, GraphDoc>();
  const add = (doc: GraphDoc) => {
    const key = keyOf(doc);
    const existing = merge.get(key);
    if (!existing) merge.set(key, doc);
    else if (existing.docType === 'node' && doc.docType === 'node') merge.set(key, mergeNodes(existing, doc));
    else if (existing.docType === 'edge' && doc.docType === 'edge') merge.set(key, mergeEdges(existing, doc));
  };
  for (const node of delta.nodes) add(assertedNode(node.ref, node.facts, node.series, prov));
  for (const edge of delta.edges) for (const doc of edgePair(edge.kind, edge.from, edge.to, edge.facts, prov, edge.series)) add(doc);

  const asserted = new Set(delta.nodes.map((n) => nodeId(n.ref.kind, n.ref.key)));
  const ensure = new Map<string, GraphDoc>();
  for (const ref of delta.references) {
    const doc = placeholderNode(ref);
    if (!asserted.has(doc.id)) ensure.set(doc.id, doc);
  }
  return { merge: [...merge.values()], ensure: [...ensure.values()] };
}

export async function applyDelta(store: GraphStore, delta: GraphDelta, prov: Provenance): Promise<ApplyResult> {
  const { merge, ensure } = documentsFor(delta, prov);
  const results = await store.write([...merge.map((doc) => ({ doc, ensure: false })), ...ensure.map((doc) => ({ doc, ensure: true }))]);
  // Closures are not kept here: a new link's `out` copy is stored pending (edgePair), and the
  // closure stage propagates it (usecases/closures.ts). Capture writes graph documents only.
  const newLinks = merge.filter((d, i) => d.docType === 'edge' && d.dir === 'out' && results[i] === 'created').length;
  return {
    created: results.filter((r) => r === 'created').length,
    updated: results.filter((r) => r === 'updated').length,
    unchanged: results.filter((r) => r === 'unchanged').length,
    newLinks,
  };
}
