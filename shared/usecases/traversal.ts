import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import { resolveRef } from '../graph/refs.js';
import type { GraphStore } from '../store/graphStore.js';

/**
 * The traversal toolkit the lookups share: the answer shapes (nodes and edges as answers show
 * them), resolving a reference to its one root node, and the breadth-first walk over stored edges.
 */

export type Direction = 'upstream' | 'downstream' | 'both';

export interface LineageNode {
  id: string;
  kind: string;
  key: string;
  label: string;
  workspace: string | null;
  placeholder: boolean;
  /** Hops from the root (upstream and downstream each count from 0). */
  distance?: number;
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
  history: Record<string, Array<{ value: unknown; eventTime: string }>>;
  provenance: EdgeDoc['provenance'];
}

export interface LineageAnswer {
  root: string;
  direction: Direction;
  depth: number;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when a bound (node budget, time budget) cut the answer short. */
  partial: boolean;
  /** Why the answer is partial. */
  partialReason?: 'node-budget' | 'time-budget';
  /** Pass back as `cursor` for the next page of a partial answer. */
  cursor?: string;
  /** Nodes left out because they belong to workspaces the caller may not see. */
  hidden?: number;
  /** Where the answer came from: current closures, or a walk (closures behind, truncated, or not enough). */
  answeredFrom: 'closures' | 'walk';
}

export function toLineageNode(doc: NodeDoc, distance?: number): LineageNode {
  return {
    id: doc.id,
    kind: doc.kind,
    key: doc.key,
    label: doc.label,
    workspace: doc.workspace,
    placeholder: doc.placeholder,
    ...(distance !== undefined ? { distance } : {}),
    properties: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, f.value])),
    history: Object.fromEntries(
      Object.entries(doc.series).map(([k, entries]) => [k, entries.map((e) => ({ value: e.value, eventTime: e.eventTime }))]),
    ),
    provenance: {
      facts: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, { eventTime: f.eventTime, hash: f.hash }])),
      events: doc.provenance,
    },
  };
}

export function toLineageEdge(doc: EdgeDoc): LineageEdge {
  return {
    id: `${doc.from}~${doc.kind}~${doc.to}`,
    kind: doc.kind,
    from: doc.from,
    to: doc.to,
    properties: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, f.value])),
    history: Object.fromEntries(
      Object.entries(doc.series).map(([k, entries]) => [k, entries.map((e) => ({ value: e.value, eventTime: e.eventTime }))]),
    ),
    provenance: doc.provenance,
  };
}

export async function resolveRoot(graph: GraphStore, ref: string, workspace?: string, scope?: Set<string> | null): Promise<NodeDoc> {
  const candidates = resolveRef(ref, workspace);
  const found = [...(await graph.readNodes(candidates)).values()].filter((n) => canSee(scope ?? null, n.workspace));
  if (found.length === 0) throw new DomainError('not-found', `No lineage is recorded for ${ref}.`);
  if (found.length > 1) {
    throw new DomainError('ambiguous-ref', `${ref} names ${found.length} nodes; ask again with one of the candidate ids.`, {
      candidates: found.map((n) => ({ id: n.id, kind: n.kind, key: n.key })),
    });
  }
  return found[0] as NodeDoc;
}

/** A walk's raw result: nodes in breadth-first order with their distance, and the edges seen. */
export interface Walk {
  order: Array<{ doc: NodeDoc; distance: number }>;
  edges: Map<string, EdgeDoc>;
  cut?: 'node-budget' | 'time-budget';
}

/**
 * Breadth-first walk, one level at a time: each level costs one query for the edges of the whole
 * frontier and one for the nodes they reach, whatever the frontier's size. Stops at `limit` nodes
 * or the deadline.
 */
export async function walk(
  graph: GraphStore,
  root: NodeDoc,
  dir: 'in' | 'out',
  depth: number,
  limit: number,
  deadline: number,
  into?: Walk,
): Promise<Walk> {
  const result: Walk = into ?? { order: [{ doc: root, distance: 0 }], edges: new Map() };
  const seen = new Set(result.order.map((o) => o.doc.id));
  let frontier = [root.id];
  for (let level = 1; level <= depth && frontier.length > 0; level++) {
    if (Date.now() > deadline) {
      result.cut = 'time-budget';
      break;
    }
    const found = await graph.edgesOf(frontier, dir);
    const candidates = new Set<string>();
    for (const edge of found) {
      const other = dir === 'in' ? edge.from : edge.to;
      if (!seen.has(other)) candidates.add(other);
      result.edges.set(`${edge.from}~${edge.kind}~${edge.to}`, edge);
    }
    // Cut a level by id order, so a walk with a larger budget extends a smaller one (stable pages).
    const sorted = [...candidates].sort();
    const room = Math.max(0, limit - seen.size);
    if (sorted.length > room) result.cut = 'node-budget';
    const next = new Set(sorted.slice(0, room));
    const docs = await graph.nodes([...next]);
    for (const id of [...next].sort()) {
      const doc = docs.get(id);
      if (doc) {
        seen.add(id);
        result.order.push({ doc, distance: level });
      }
    }
    if (result.cut) break;
    frontier = [...next];
  }
  return result;
}
