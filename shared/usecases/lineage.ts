import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import { edgeKey, parseEdgeKey, type ClosureDir } from '../graph/closure.js';
import { consistent, decodePage, isLegacy, manifestPages, PAGE_MEMBERS, pagesFor, type StoredPages } from '../graph/closurePages.js';
import { kindOfId } from '../graph/keys.js';
import type { NodeDoc } from '../graph/model.js';
import { resolveRef } from '../graph/refs.js';
import type { Link } from '../store/graphDocs.js';
import type { GraphStore } from '../store/graphStore.js';
import { toInstant } from '../util/time.js';
import {
  labelOf,
  resolveRoot,
  toLineageEdge,
  toLineageNode,
  walk,
  type Direction,
  type LineageAnswer,
  type LineageEdge,
  type LineageNode,
  type Walk,
} from './traversal.js';

/** Q1: the lineage of one node, upstream, downstream or both, to a depth, page by page. */

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
  /** Workspaces the caller may see (canonical ARM ids); null = all. */
  scope?: Set<string> | null;
  /** Walk hop by hop even when closures could answer (the baseline the bench compares with). */
  walk?: boolean;
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

function closureDirs(direction: Direction): ClosureDir[] {
  return direction === 'both' ? ['up', 'down'] : [direction === 'upstream' ? 'up' : 'down'];
}

/** Pending links a lookup looks at; with more than this, closures are too far behind to check. */
const PENDING_CHECKED = 1000;

/** The root's closure pages an answer page needs and the links the closure stage has not propagated yet. */
interface ClosureView {
  slices: StoredPages[];
  pending: Link[];
}

/**
 * The closure pages holding an answer page's members: answer position p (0 = the root) is member
 * position p of a one-direction closure; both directions interleave, so each is read from its start.
 */
function pagesNeeded(direction: Direction, offset: number, maxNodes: number): number[] {
  return pagesFor(direction === 'both' ? 1 : offset, offset + maxNodes - 1);
}

function readClosureView(graph: GraphStore, rootId: string, direction: Direction, pages: number[]): Promise<ClosureView> {
  return Promise.all([
    Promise.all(closureDirs(direction).map((d) => graph.closureSlice(rootId, d, pages))),
    graph.pendingLinks(PENDING_CHECKED + 1),
  ]).then(([slices, pending]) => ({ slices, pending }));
}

/** One direction's closure as far as it was read: members with their distance and position, links. */
interface DirView {
  dir: ClosureDir;
  /** [id, distance, position] of the members on the pages read. */
  entries: Array<[string, number, number]>;
  edges: string[];
  /** Members within `depth`: positions 1..total. */
  total: number;
  /** Every page read. */
  complete: boolean;
}

/** What the pages read say, or undefined when they cannot be trusted (cut before pages, or met mid-write). */
function dirView(dir: ClosureDir, stored: StoredPages, depth: number): DirView | undefined {
  const head = stored.get(0)?.doc;
  const view: DirView = { dir, entries: [], edges: [], total: 0, complete: true };
  if (!head) return view; // no closure stored: an empty one
  if (isLegacy(head) && head.truncated) return undefined;
  if (!consistent(stored)) return undefined;
  const pages = manifestPages(stored);
  for (const [page, { doc }] of stored) {
    if (page >= pages) continue;
    const { members, edges } = decodePage(doc);
    members.forEach(([id, d], i) => view.entries.push([id, d, page * PAGE_MEMBERS + i + 1]));
    view.edges.push(...edges);
  }
  view.complete = [...Array(pages).keys()].every((p) => stored.has(p));
  view.total = isLegacy(head)
    ? view.entries.filter(([, d]) => d <= depth).length
    : (head.counts ?? []).slice(0, depth).reduce((a, b) => a + b, 0);
  return view;
}

/**
 * The closures as an answer needs them: the slices read, checked; the rest of the pages (one more
 * round trip) when the answer needs every member (a kind filter, or pending links to check).
 * Undefined when a closure cannot be trusted.
 */
async function closureViews(
  graph: GraphStore,
  rootId: string,
  dirs: ClosureDir[],
  view: ClosureView,
  depth: number,
  everything: boolean,
): Promise<DirView[] | undefined> {
  const slices = await Promise.all(
    view.slices.map(async (stored, i) => {
      const dir = dirs[i] as ClosureDir;
      const missing = [...Array(manifestPages(stored)).keys()].filter((p) => !stored.has(p));
      // A page met mid-write is read again once, with what else the answer needs.
      const again = consistent(stored) ? [] : [...stored.keys()];
      const wanted = [...new Set([...again, ...(everything ? missing : [])])];
      if (wanted.length === 0) return stored;
      const more = await graph.closureSlice(rootId, dir, wanted.includes(0) ? wanted : [0, ...wanted]);
      return new Map([...stored, ...more]);
    }),
  );
  const views = slices.map((stored, i) => dirView(dirs[i] as ClosureDir, stored, depth));
  return views.every((v): v is DirView => v !== undefined) ? views : undefined;
}

/**
 * A closure is current for a lookup when no pending link can change it: a link a -> b changes
 * the upstream closure of every node at or below b, so it matters when b is the root or one of
 * the closure's members (and a -> b downstream, when a is). A chain of pending links is caught
 * by its last link, whose end is already in the closure. No closure stored means an empty one.
 */
function current(rootId: string, views: DirView[], pending: Link[]): boolean {
  for (const view of views) {
    const members = new Set(view.entries.map(([id]) => id));
    const reaches = (id: string) => id === rootId || members.has(id);
    if (pending.some((l) => reaches(view.dir === 'up' ? l.to : l.from))) return false;
  }
  return true;
}

/**
 * The answer from precomputed closures: round trip 1 reads the root's closure pages this answer
 * page needs and the pending links, round trip 2 reads the page's nodes and links in parallel,
 * whatever the depth and however large the closure. Undefined when a closure is behind or cannot
 * be trusted, or a filter needs what closures do not hold; the caller then walks.
 */
async function fromClosures(
  graph: GraphStore,
  root: NodeDoc,
  query: LineageQuery,
  offset: number,
  prefetched?: ClosureView,
): Promise<LineageAnswer | undefined> {
  if (query.since || query.until) return undefined;
  const view = prefetched ?? (await readClosureView(graph, root.id, query.direction, pagesNeeded(query.direction, offset, query.maxNodes)));
  if (view.pending.length > PENDING_CHECKED) return undefined;
  const kinds = query.kinds && query.kinds.length > 0 ? new Set(query.kinds) : undefined;
  // Pending links are checked against every member, and a kind filter needs every member.
  const views = await closureViews(
    graph,
    root.id,
    closureDirs(query.direction),
    view,
    query.depth,
    kinds !== undefined || view.pending.length > 0,
  );
  if (!views || !current(root.id, views, view.pending)) return undefined;
  const links = new Set(views.flatMap((v) => v.edges));
  let page: Array<[string, number]>;
  let more: boolean;
  const only = views.length === 1 ? (views[0] as DirView) : undefined;
  if (only && !kinds) {
    // One direction: answer position p is member position p.
    const last = Math.min(offset + query.maxNodes - 1, only.total);
    page = [
      ...(offset === 0 ? [[root.id, 0] as [string, number]] : []),
      ...only.entries
        .filter(([, , p]) => p >= Math.max(1, offset) && p <= last)
        .sort((a, b) => a[2] - b[2])
        .map(([id, d]): [string, number] => [id, d]),
    ];
    more = only.total + 1 > offset + query.maxNodes;
  } else {
    const distance = new Map<string, number>();
    for (const v of views)
      for (const [id, d] of v.entries) if (d <= query.depth && id !== root.id) distance.set(id, Math.min(distance.get(id) ?? d, d));
    const ordered = [...distance.entries()]
      .filter(([id]) => !kinds || kinds.has(kindOfId(id)))
      .sort(([a, da], [b, db]) => da - db || (a < b ? -1 : 1));
    // The root opens the first page; every page holds at most maxNodes nodes.
    const all: Array<[string, number]> = [[root.id, 0], ...ordered];
    page = all.slice(offset, offset + query.maxNodes);
    more = views.every((v) => v.complete)
      ? all.length > offset + query.maxNodes
      : views.reduce((a, v) => a + v.total, 0) + 1 > offset + query.maxNodes;
  }
  const ids = new Set(page.map(([id]) => id));
  const pageLinks = [...links].map(parseEdgeKey).filter((l) => ids.has(l.from) && ids.has(l.to));
  const others = page.filter(([id]) => id !== root.id);
  const found = await graph.readDocs({ nodes: others.map(([id]) => id), edges: pageLinks });
  const nodes: LineageNode[] = ids.has(root.id) ? [toLineageNode(root, 0)] : [];
  let hidden = 0;
  const visible = new Set(ids.has(root.id) ? [root.id] : []);
  for (const [id, d] of others) {
    const doc = found.nodes.get(id);
    if (!doc) continue;
    if (!canSee(query.scope ?? null, doc.workspace)) {
      hidden++;
      continue;
    }
    visible.add(id);
    nodes.push(toLineageNode(doc, d));
  }
  const edges: LineageEdge[] = [];
  for (const l of pageLinks) {
    const doc = found.edges.get(edgeKey(l.from, l.kind, l.to));
    if (doc && visible.has(l.from) && visible.has(l.to)) edges.push(toLineageEdge(doc));
  }
  const answer: LineageAnswer = {
    root: root.id,
    direction: query.direction,
    depth: query.depth,
    nodes,
    edges,
    partial: more,
    answeredFrom: 'closures',
  };
  if (more) {
    answer.partialReason = 'node-budget';
    answer.cursor = Buffer.from(JSON.stringify({ offset: offset + query.maxNodes } satisfies Cursor)).toString('base64url');
  }
  if (hidden > 0) answer.hidden = hidden;
  return answer;
}

export async function lineage(graph: GraphStore, query: LineageQuery): Promise<LineageAnswer> {
  const { offset } = decodeCursor(query.cursor);
  // A reference naming one node: read it, its closures and the pending links in the same round trip.
  const candidates = labelOf(query.ref, query.workspace) ? [] : resolveRef(query.ref, query.workspace);
  const useClosures = !query.walk && !query.since && !query.until;
  const [root, prefetched] =
    candidates.length === 1 && useClosures
      ? await Promise.all([
          resolveRoot(graph, query.ref, query.workspace, query.scope),
          readClosureView(graph, candidates[0] as string, query.direction, pagesNeeded(query.direction, offset, query.maxNodes)),
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
    answeredFrom: 'walk',
  };
  if (answer.partial) answer.partialReason = result.cut === 'time-budget' ? 'time-budget' : 'node-budget';
  if (more) answer.cursor = Buffer.from(JSON.stringify({ offset: offset + query.maxNodes } satisfies Cursor)).toString('base64url');
  if (hidden > 0) answer.hidden = hidden;
  return answer;
}
