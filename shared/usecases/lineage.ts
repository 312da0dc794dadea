import { DomainError } from '../errors.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import { resolveRef } from '../graph/refs.js';
import type { GraphStore } from '../store/graphStore.js';

export type Direction = 'upstream' | 'downstream' | 'both';

export interface LineageQuery {
  ref: string;
  workspace?: string;
  direction: Direction;
  depth: number;
  maxNodes: number;
}

export interface LineageNode {
  id: string;
  kind: string;
  key: string;
  label: string;
  workspace: string | null;
  placeholder: boolean;
  properties: Record<string, unknown>;
  history: Record<string, Array<{ value: unknown; eventTime: string }>>;
  provenance: {
    facts: Record<string, { eventTime: string; hash: string }>;
    events: NodeDoc['provenance'];
  };
}

export interface LineageEdge {
  id: string;
  kind: string;
  from: string;
  to: string;
  properties: Record<string, unknown>;
  provenance: EdgeDoc['provenance'];
}

export interface LineageAnswer {
  root: string;
  direction: Direction;
  depth: number;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when the node budget cut the traversal short. */
  partial: boolean;
}

export function toLineageNode(doc: NodeDoc): LineageNode {
  return {
    id: doc.id,
    kind: doc.kind,
    key: doc.key,
    label: doc.label,
    workspace: doc.workspace,
    placeholder: doc.placeholder,
    properties: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, f.value])),
    history: Object.fromEntries(Object.entries(doc.series).map(([k, entries]) => [k, entries.map((e) => ({ value: e.value, eventTime: e.eventTime }))])),
    provenance: {
      facts: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, { eventTime: f.eventTime, hash: f.hash }])),
      events: doc.provenance,
    },
  };
}

function toLineageEdge(doc: EdgeDoc): LineageEdge {
  return {
    id: `${doc.from}~${doc.kind}~${doc.to}`,
    kind: doc.kind,
    from: doc.from,
    to: doc.to,
    properties: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, f.value])),
    provenance: doc.provenance,
  };
}

async function resolveRoot(graph: GraphStore, ref: string, workspace?: string): Promise<NodeDoc> {
  const candidates = resolveRef(ref, workspace);
  const found = [...(await graph.nodes(candidates)).values()];
  if (found.length === 0) throw new DomainError('not-found', `No lineage is recorded for ${ref}.`);
  if (found.length > 1) {
    throw new DomainError('ambiguous-ref', `${ref} names ${found.length} nodes; ask again with one of the candidate ids.`, {
      candidates: found.map((n) => ({ id: n.id, kind: n.kind, key: n.key })),
    });
  }
  return found[0] as NodeDoc;
}

/**
 * Breadth-first walk, one level at a time: each level costs one query for the edges of the whole
 * frontier and one for the nodes they reach, whatever the frontier's size.
 */
async function walk(graph: GraphStore, root: NodeDoc, dir: 'in' | 'out', depth: number, budget: { remaining: number }, seen: Map<string, NodeDoc>, edges: Map<string, EdgeDoc>): Promise<boolean> {
  let frontier = [root.id];
  const expanded = new Set<string>();
  for (let level = 0; level < depth && frontier.length > 0; level++) {
    frontier.forEach((id) => expanded.add(id));
    const found = await graph.edgesOf(frontier, dir);
    const next = new Set<string>();
    let cut = false;
    for (const edge of found) {
      const other = dir === 'in' ? edge.from : edge.to;
      if (!seen.has(other) && !next.has(other)) {
        if (budget.remaining <= 0) {
          cut = true;
          continue;
        }
        budget.remaining--;
        next.add(other);
      }
      edges.set(`${edge.from}~${edge.kind}~${edge.to}`, edge);
    }
    const docs = await graph.nodes([...next]);
    for (const id of next) {
      const doc = docs.get(id);
      if (doc) seen.set(id, doc);
    }
    // Edges to nodes cut by the budget are dropped so every edge has both ends in the answer.
    for (const [key, edge] of edges) if (!seen.has(edge.from) || !seen.has(edge.to)) edges.delete(key);
    if (cut) return true;
    frontier = [...next].filter((id) => !expanded.has(id));
  }
  return false;
}

export async function lineage(graph: GraphStore, query: LineageQuery): Promise<LineageAnswer> {
  const root = await resolveRoot(graph, query.ref, query.workspace);
  const seen = new Map<string, NodeDoc>([[root.id, root]]);
  const edges = new Map<string, EdgeDoc>();
  const budget = { remaining: query.maxNodes - 1 };
  let partial = false;
  if (query.direction !== 'downstream') partial = (await walk(graph, root, 'in', query.depth, budget, seen, edges)) || partial;
  if (query.direction !== 'upstream') partial = (await walk(graph, root, 'out', query.depth, budget, seen, edges)) || partial;
  return {
    root: root.id,
    direction: query.direction,
    depth: query.depth,
    nodes: [...seen.values()].map(toLineageNode),
    edges: [...edges.values()].map(toLineageEdge),
    partial,
  };
}
