import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import { edgeKey, parseEdgeKey, type ClosureDir } from '../graph/closure.js';
import { consistent, decodePage, isLegacy, manifestPages, PAGE_MEMBERS, pagesFor, type StoredPages } from '../graph/closurePages.js';
import { kindOfId } from '../graph/keys.js';
import type { NodeDoc } from '../graph/model.js';
import { resolveRef } from '../graph/refs.js';
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

/**
 * The closure pages an answer page needs: those holding its members, and the ones before them,
 * whose members' marks can change it (`unsettled`). Answer position p (0 = the root) is member
 * position p of a one-direction closure; both directions interleave, so each is read from its start.
 */
function pagesNeeded(offset: number, maxNodes: number): number[] {
  return pagesFor(1, offset + maxNodes - 1);
}

/** The root's closure pages an answer page needs, one slice per direction, as read in round trip 1. */
function readClosureSlices(graph: GraphStore, rootId: string, direction: Direction, pages: number[]): Promise<StoredPages[]> {
  return Promise.all(closureDirs(direction).map((d) => graph.closureSlice(rootId, d, pages)));
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
 * round trip) when the answer needs every member (a kind filter). Undefined when a closure cannot
 * be trusted.
 */
async function closureViews(
  graph: GraphStore,
  rootId: string,
  dirs: ClosureDir[],
  read: StoredPages[],
  depth: number,
  everything: boolean,
): Promise<DirView[] | undefined> {
  const slices = await Promise.all(
    read.map(async (stored, i) => {
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
 * Whether a node's marks (graph/merge.ts withMarks: links touching it the closure stage has not
 * propagated) can grow its closure in `dir`: downstream, a link leaving it; upstream, one entering it.
 */
function marked(doc: NodeDoc, dir: ClosureDir): boolean {
  return (doc.closurePending ?? []).some((mark) => {
    const { from, to } = parseEdgeKey(mark);
    return (dir === 'down' ? from : to) === doc.id;
  });
}

/**
 * The members whose marks can change an answer page, by direction. A pending link a -> b changes
 * the downstream closure of a and of everything above a (the upstream closures of b and below,
 * mirrored), and what it adds sits at least one hop further than a: b, then what b reaches. So
 * it can change a page only when a is nearer the root than the page's last node (`before`), or,
 * on the last page, nearer than `depth` (it could add a node within depth: one more page). A
 * chain of pending links is caught by its first link, which leaves the closure. Those members
 * are the root, the ones on this page and the ones before it: all on closure pages read.
 */
function unsettled(views: DirView[], before: number): Array<{ dir: ClosureDir; ids: string[] }> {
  return views.map((v) => ({ dir: v.dir, ids: v.entries.filter(([, d]) => d < before).map(([id]) => id) }));
}

/**
 * The answer from precomputed closures: round trip 1 reads the root (with its marks) and the
 * closure pages this answer page needs, round trip 2 reads the page's nodes and links and the
 * nodes whose marks can change the page, all by point reads and in parallel, whatever the depth
 * and however large the closure. Undefined when a pending link can change the page (or a member's
 * node is missing), a closure cannot be trusted, or a filter needs what closures do not hold; the
 * caller then walks, and the answer says so (`answeredFrom: "walk"`).
 */
async function fromClosures(
  graph: GraphStore,
  root: NodeDoc,
  query: LineageQuery,
  offset: number,
  prefetched?: StoredPages[],
): Promise<LineageAnswer | undefined> {
  if (query.since || query.until) return undefined;
  const slices = prefetched ?? (await readClosureSlices(graph, root.id, query.direction, pagesNeeded(offset, query.maxNodes)));
  const kinds = query.kinds && query.kinds.length > 0 ? new Set(query.kinds) : undefined;
  // A kind filter needs every member.
  const views = await closureViews(graph, root.id, closureDirs(query.direction), slices, query.depth, kinds !== undefined);
  if (!views) return undefined;
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
  // Whether a pending link can change this page: the marks on the root (read with it) and on the
  // members nearer than the page's last node, read with the page's nodes (most are on the page).
  const before = more ? (page[page.length - 1]?.[1] ?? query.depth) : query.depth;
  if (before > 0 && views.some((v) => marked(root, v.dir))) return undefined;
  const check = unsettled(views, before);
  const checked = [...new Set(check.flatMap((c) => c.ids))].filter((id) => !ids.has(id));
  const found = await graph.readDocs({ nodes: [...others.map(([id]) => id), ...checked], edges: pageLinks });
  // A member without its node may have a link (and its mark) still being written: walk.
  const behind = check.some(({ dir, ids: members }) =>
    members.some((id) => {
      const doc = found.nodes.get(id);
      return !doc || marked(doc, dir);
    }),
  );
  if (behind) return undefined;
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
  // A reference naming one node: read it (its marks too) and its closure pages in the same round trip.
  const candidates = labelOf(query.ref, query.workspace) ? [] : resolveRef(query.ref, query.workspace);
  const useClosures = !query.walk && !query.since && !query.until;
  const [root, prefetched] =
    candidates.length === 1 && useClosures
      ? await Promise.all([
          resolveRoot(graph, query.ref, query.workspace, query.scope),
          readClosureSlices(graph, candidates[0] as string, query.direction, pagesNeeded(offset, query.maxNodes)),
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
