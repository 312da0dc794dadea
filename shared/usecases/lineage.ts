import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import { kindOfId } from '../graph/keys.js';
import { resolveRef } from '../graph/refs.js';
import { parseGraphDoc, type GraphStore } from '../store/graphStore.js';
import { parseEdgeKey, type ClosureDir, type ClosureDoc } from '../graph/closure.js';
import { edgeId } from '../graph/merge.js';
import type { EdgeKind } from '../graph/model.js';
import { toInstant } from '../util/time.js';

export type Direction = 'upstream' | 'downstream' | 'both';

export interface LineageQuery {
  ref: string;
  workspace?: string;
  direction: Direction;
  depth: number;
  /** Nodes per answer (page). */
  maxNodes: number;
  /** Stop walking when this much time has passed; the answer is then partial. */
  timeBudgetMs?: number;
  /** Only nodes of these kinds in the answer (the walk still passes through the others). */
  kinds?: string[];
  /** Only nodes with facts asserted by events in this window (ISO 8601). */
  since?: string;
  until?: string;
  /** Continue a partial answer. */
  cursor?: string;
  /** Workspaces the caller may see (names); null = all. */
  scope?: Set<string> | null;
  /** Walk hop by hop even when closures could answer (the baseline the bench compares with). */
  walk?: boolean;
}

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

/** Point reads of nodes by id (their own partition); no query. */
export async function readNodes(graph: GraphStore, ids: string[]): Promise<Map<string, NodeDoc>> {
  const raw = await graph.readMany(ids.map((id) => ({ id, pk: id })));
  const out = new Map<string, NodeDoc>();
  for (const value of raw.values()) {
    const doc = parseGraphDoc(value);
    if (doc.docType === 'node') out.set(doc.id, doc);
  }
  return out;
}

export async function resolveRoot(graph: GraphStore, ref: string, workspace?: string, scope?: Set<string> | null): Promise<NodeDoc> {
  const candidates = resolveRef(ref, workspace);
  const found = [...(await readNodes(graph, candidates)).values()].filter((n) => canSee(scope ?? null, n.workspace));
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

interface Cursor {
  offset: number;
}

function decodeCursor(cursor: string | undefined): Cursor {
  if (!cursor) return { offset: 0 };
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (Number.isInteger(c.offset) && c.offset >= 0 && c.offset < 1_000_000) return c;
  } catch {
    // fall through
  }
  throw new DomainError('invalid-request', 'cursor: not a cursor returned by this API');
}

function inWindow(doc: NodeDoc, since?: string, until?: string): boolean {
  if (!since && !until) return true;
  const from = since ? toInstant(since) : undefined;
  const to = until ? toInstant(until) : undefined;
  return doc.provenance.some((p) => (!from || p.instant >= from) && (!to || p.instant <= to));
}

/**
 * The answer from precomputed closures: round trip 1 reads the root's closure(s), round trip 2
 * reads the page's nodes and links in parallel, whatever the depth. Undefined when a closure is
 * missing or truncated, or a filter needs what closures do not hold; the caller then walks.
 */
function closureDirs(direction: Direction): ClosureDir[] {
  return direction === 'both' ? ['up', 'down'] : [direction === 'upstream' ? 'up' : 'down'];
}

async function fromClosures(
  graph: GraphStore,
  root: NodeDoc,
  query: LineageQuery,
  offset: number,
  prefetched?: Array<ClosureDoc | undefined>,
): Promise<LineageAnswer | undefined> {
  if (query.since || query.until) return undefined;
  const dirs = closureDirs(query.direction);
  const closures = prefetched ?? (await Promise.all(dirs.map((d) => graph.closure(root.id, d))));
  if (closures.some((c) => !c || c.truncated)) return undefined;
  const distance = new Map<string, number>();
  const links = new Set<string>();
  for (const c of closures as ClosureDoc[]) {
    for (const [id, d] of Object.entries(c.members)) if (d <= query.depth) distance.set(id, Math.min(distance.get(id) ?? d, d));
    for (const e of c.edges) links.add(e);
  }
  const kinds = query.kinds && query.kinds.length > 0 ? new Set(query.kinds) : undefined;
  const ordered = [...distance.entries()]
    .filter(([id]) => !kinds || kinds.has(kindOfId(id)))
    .sort(([a, da], [b, db]) => da - db || (a < b ? -1 : 1));
  // The root opens the first page; every page holds at most maxNodes nodes.
  const all: Array<[string, number]> = [[root.id, 0], ...ordered];
  const page = all.slice(offset, offset + query.maxNodes);
  const ids = new Set(page.map(([id]) => id));
  const pageLinks = [...links].map(parseEdgeKey).filter((l) => ids.has(l.from) && ids.has(l.to));
  const others = page.filter(([id]) => id !== root.id);
  const raw = await graph.readMany([
    ...others.map(([id]) => ({ id, pk: id })),
    ...pageLinks.map((l) => ({ id: edgeId('out', l.kind as EdgeKind, l.to), pk: l.from })),
  ]);
  const nodes: LineageNode[] = ids.has(root.id) ? [toLineageNode(root, 0)] : [];
  let hidden = 0;
  const visible = new Set(ids.has(root.id) ? [root.id] : []);
  for (const [id, d] of others) {
    const value = raw.get(`${id}|${id}`);
    if (!value) continue;
    const doc = parseGraphDoc(value);
    if (doc.docType !== 'node') continue;
    if (!canSee(query.scope ?? null, doc.workspace)) {
      hidden++;
      continue;
    }
    visible.add(id);
    nodes.push(toLineageNode(doc, d));
  }
  const edges: LineageEdge[] = [];
  for (const l of pageLinks) {
    const value = raw.get(`${l.from}|${edgeId('out', l.kind as EdgeKind, l.to)}`);
    if (!value || !visible.has(l.from) || !visible.has(l.to)) continue;
    const doc = parseGraphDoc(value);
    if (doc.docType === 'edge') edges.push(toLineageEdge(doc));
  }
  const more = all.length > offset + query.maxNodes;
  const answer: LineageAnswer = { root: root.id, direction: query.direction, depth: query.depth, nodes, edges, partial: more };
  if (more) {
    answer.partialReason = 'node-budget';
    answer.cursor = Buffer.from(JSON.stringify({ offset: offset + query.maxNodes } satisfies Cursor)).toString('base64url');
  }
  if (hidden > 0) answer.hidden = hidden;
  return answer;
}

export async function lineage(graph: GraphStore, query: LineageQuery): Promise<LineageAnswer> {
  const { offset } = decodeCursor(query.cursor);
  // A reference naming one node: read it and its closures in the same round trip.
  const candidates = resolveRef(query.ref, query.workspace);
  const useClosures = !query.walk && !query.since && !query.until;
  const [root, prefetched] =
    candidates.length === 1 && useClosures
      ? await Promise.all([
          resolveRoot(graph, query.ref, query.workspace, query.scope),
          Promise.all(closureDirs(query.direction).map((d) => graph.closure(candidates[0] as string, d))),
        ])
      : [await resolveRoot(graph, query.ref, query.workspace, query.scope), undefined];
  if (useClosures) {
    const fast = await fromClosures(graph, root, query, offset, prefetched);
    if (fast) return fast;
  }
  const deadline = Date.now() + (query.timeBudgetMs ?? 10_000);
  // Walk far enough to fill this page and know whether another follows; with filters, further,
  // since only some of the nodes walked qualify.
  const filtering = (query.kinds?.length ?? 0) > 0 || query.since !== undefined || query.until !== undefined;
  // Filtered walks always walk the same (bounded) way, so consecutive pages slice one ordering.
  const limit = filtering ? 20_000 : offset + query.maxNodes + 1;
  let result: Walk = { order: [{ doc: root, distance: 0 }], edges: new Map() };
  if (query.direction !== 'downstream') result = await walk(graph, root, 'in', query.depth, limit, deadline, result);
  if (query.direction !== 'upstream' && !result.cut) result = await walk(graph, root, 'out', query.depth, limit, deadline, result);

  let hidden = 0;
  const visible = result.order.filter(({ doc }) => {
    const ok = canSee(query.scope ?? null, doc.workspace);
    if (!ok) hidden++;
    return ok;
  });
  const kinds = query.kinds && query.kinds.length > 0 ? new Set(query.kinds) : undefined;
  const filtered = visible.filter(
    ({ doc }) => doc.id === root.id || ((!kinds || kinds.has(doc.kind)) && inWindow(doc, query.since, query.until)),
  );
  const page = filtered.slice(offset, offset + query.maxNodes);
  // More follows when this page is not the end of what qualified, or the walk was cut before
  // seeing everything (then some qualifying nodes may lie beyond).
  const more = filtered.length > offset + query.maxNodes || result.cut === 'node-budget';
  const ids = new Set(page.map((p) => p.doc.id));
  const answer: LineageAnswer = {
    root: root.id,
    direction: query.direction,
    depth: query.depth,
    nodes: page.map(({ doc, distance }) => toLineageNode(doc, distance)),
    // Every edge in an answer has both ends in it.
    edges: [...result.edges.values()].filter((e) => ids.has(e.from) && ids.has(e.to)).map(toLineageEdge),
    partial: more || result.cut === 'time-budget',
  };
  if (answer.partial) answer.partialReason = result.cut === 'time-budget' ? 'time-budget' : 'node-budget';
  if (more) answer.cursor = Buffer.from(JSON.stringify({ offset: offset + query.maxNodes } satisfies Cursor)).toString('base64url');
  if (hidden > 0) answer.hidden = hidden;
  return answer;
}
