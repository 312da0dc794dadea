import type { Edge, Node } from '../api.js';

/** What the graph view draws: the API's nodes and edges, and per-node notes (root, serving now…). */
export interface Graph {
  nodes: Node[];
  edges: Edge[];
}

export const EMPTY_GRAPH: Graph = { nodes: [], edges: [] };

/** Adds another answer's nodes and edges (expanding a node, the next page of a partial answer). */
export function mergeGraphs(a: Graph, b: Graph): Graph {
  const nodes = new Map(a.nodes.map((n) => [n.id, n]));
  for (const n of b.nodes) if (!nodes.has(n.id) || nodes.get(n.id)?.placeholder) nodes.set(n.id, n);
  const edges = new Map(a.edges.map((e) => [e.id, e]));
  for (const e of b.edges) edges.set(e.id, e);
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** A link the answer implies but does not list as an edge (as-of's deployment → endpoint). */
export function impliedEdge(kind: string, from: string, to: string, properties: Record<string, unknown> = {}): Edge {
  return { id: `implied~${kind}~${from}~${to}`, kind, from, to, properties, history: {}, provenance: [] };
}

export function nodeText(n: Pick<Node, 'kind' | 'label'>): string {
  return `${n.kind} ${n.label}`;
}
