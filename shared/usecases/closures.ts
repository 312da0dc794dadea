import {
  edgeKey,
  emptyClosure,
  extendThrough,
  joinClosures,
  mergeClosures,
  parseEdgeKey,
  type Closure,
  type ClosureDir,
} from '../graph/closure.js';
import { consistent, decodeClosure, isLegacy, type StoredPages } from '../graph/closurePages.js';
import { mapLimited } from '../util/mapLimited.js';
import { closureSlot, type Link } from '../store/graphDocs.js';
import type { GraphStore } from '../store/graphStore.js';
import { withRetry } from '../store/retry.js';

/**
 * The closure stage: keeping closures current as links arrive, off the capture path. Capture
 * writes a new link's copies with `closurePending`, marks their nodes with the link (the marks
 * lookups read) and nudges the closure queue; the stage takes every pending link at once (however
 * many events brought them), propagates them in memory and writes each closure it changed once
 * (only its pages that changed), then clears the marks and marks the copies propagated.
 *
 * A new link from -> to gives `to` everything upstream of `from`, and `from` everything downstream
 * of `to`; when a closure grows, the nodes one hop further in the same direction grow too, and so
 * on (a monotone fixpoint, so order, batching and repetition do not matter). A batch runs to the
 * fixpoint: its work is the closures its links change, however large (hubs are paged, not cut).
 */
/** Pending links taken per batch. */
export const STAGE_BATCH = 500;

interface Step {
  owner: string;
  via: string;
  link: string;
  dir: ClosureDir;
}

/**
 * When owner's upstream closure grew, its children (downstream neighbours) must grow too: those
 * of links already propagated (in owner's other closure) and those of this batch's links (whose
 * own steps may have run before this growth, being joined into an earlier merge of their closure).
 */
function neighboursAfterGrowth(owner: string, dir: ClosureDir, other: Closure | undefined, batchLinks: Map<string, string[]>): Step[] {
  const links = new Set([...(other?.edges ?? []), ...(batchLinks.get(`${dir}|${owner}`) ?? [])]);
  const steps: Step[] = [];
  for (const e of links) {
    const { from, to } = parseEdgeKey(e);
    if (dir === 'up' && from === owner) steps.push({ owner: to, via: owner, link: e, dir });
    if (dir === 'down' && to === owner) steps.push({ owner: from, via: owner, link: e, dir });
  }
  return steps;
}

/**
 * A closure from the stored links, level by level (one query per level): how the stage takes over
 * a closure stored in the shape before pages that was cut at 5,000 members.
 */
export async function closureByWalk(graph: GraphStore, owner: string, dir: ClosureDir): Promise<Closure> {
  const closure = emptyClosure(owner, dir);
  const edges = new Set<string>();
  const seen = new Set([owner]);
  let frontier = [owner];
  for (let d = 1; frontier.length > 0; d++) {
    const found = await withRetry(() => graph.edgesOf(frontier, dir === 'up' ? 'in' : 'out'), `walking the closure of ${owner}`);
    const next: string[] = [];
    for (const e of found) {
      edges.add(edgeKey(e.from, e.kind, e.to));
      const other = dir === 'up' ? e.from : e.to;
      if (seen.has(other)) continue;
      seen.add(other);
      closure.members[other] = d;
      next.push(other);
    }
    frontier = next;
  }
  closure.edges = [...edges];
  return closure;
}

/** Closures as one batch sees them: each read at most once, changed in memory, written once. */
class ClosureBatch {
  private readonly slots = new Map<string, { closure: Closure | undefined; stored: StoredPages; changed: boolean }>();
  reads = 0;

  constructor(private readonly graph: GraphStore) {}

  /** Reads the closures of `owners` not yet in hand, in one round trip (two for closures of several pages). */
  async load(wanted: Array<{ owner: string; dir: ClosureDir }>): Promise<void> {
    const missing = wanted.filter(({ owner, dir }) => !this.slots.has(closureSlot(owner, dir)));
    if (missing.length === 0) return;
    const found = await this.graph.closurePagesOf(missing);
    this.reads += missing.length;
    await Promise.all(
      missing.map(async ({ owner, dir }) => {
        const slot = closureSlot(owner, dir);
        const stored: StoredPages = found.get(slot) ?? new Map<number, never>();
        const head = stored.get(0)?.doc;
        if (!head) this.slots.set(slot, { closure: undefined, stored, changed: false });
        // The shape before pages, cut at 5,000 members: what it holds is not all; walked again.
        else if (isLegacy(head) && head.truncated)
          this.slots.set(slot, { closure: await closureByWalk(this.graph, owner, dir), stored, changed: true });
        else {
          const closure = decodeClosure(
            owner,
            dir,
            [...stored.values()].map((p) => p.doc),
          );
          // Pages met mid-write (or in the shape before pages) are written again, whole and current.
          this.slots.set(slot, { closure, stored, changed: isLegacy(head) || !consistent(stored) });
        }
      }),
    );
  }

  async get(owner: string, dir: ClosureDir): Promise<Closure | undefined> {
    await this.load([{ owner, dir }]);
    return this.slots.get(closureSlot(owner, dir))?.closure;
  }

  /** Joins `closure` into the closure in hand; false when it adds nothing. */
  async merge(closure: Closure): Promise<boolean> {
    // No closure stored means an empty one: the owner has no propagated link in that direction.
    const current = (await this.get(closure.owner, closure.dir)) ?? emptyClosure(closure.owner, closure.dir);
    const { closure: joined, grew } = joinClosures(current, closure);
    if (!grew) return false;
    const slot = this.slots.get(closureSlot(closure.owner, closure.dir)) as { closure: Closure | undefined; changed: boolean };
    slot.closure = joined;
    slot.changed = true;
    return true;
  }

  /**
   * Every closure that changed, written once (its changed pages, ETag-guarded). One that another
   * batch changed meanwhile is merged into theirs: the join is a union, so neither batch's work is lost.
   */
  async flush(concurrency = 16): Promise<number> {
    const changed = [...this.slots.values()].filter((s) => s.changed && s.closure);
    await mapLimited(changed, concurrency, async ({ closure, stored }) => {
      if (!closure) return;
      // Retried on its own; a write that landed before its answer was lost finds its ETag gone and merges (a no-op).
      const { conflict } = await withRetry(() => this.graph.writeClosure(closure, stored), `writing the closure of ${closure.owner}`);
      if (conflict) await this.graph.mergeClosure(closure);
    });
    return changed.length;
  }
}

/**
 * Propagates `links` into the closures they change, in memory, then writes each changed closure
 * once. Returns how many closures were written.
 */
export async function propagateLinks(graph: GraphStore, links: Link[]): Promise<{ merges: number; written: number; reads: number }> {
  const batch = new ClosureBatch(graph);
  const queue: Step[] = [];
  // This batch's links by the end whose growth they carry on: `up|from` and `down|to`.
  const batchLinks = new Map<string, string[]>();
  const index = (key: string, link: string) => batchLinks.set(key, [...(batchLinks.get(key) ?? []), link]);
  for (const { from, kind, to } of links) {
    const link = edgeKey(from, kind, to);
    queue.push({ owner: to, via: from, link, dir: 'up' }, { owner: from, via: to, link, dir: 'down' });
    index(`up|${from}`, link);
    index(`down|${to}`, link);
  }
  // What the first steps need, in one round trip: each end's closures in both directions.
  await batch.load(
    links.flatMap(({ from, to }) => [from, to].flatMap((owner) => (['up', 'down'] as const).map((dir) => ({ owner, dir })))),
  );
  let merges = 0;
  while (queue.length > 0) {
    const step = queue.shift() as Step;
    // Steps into the same closure are one merge: an event linking many nodes to one (a deployment
    // naming thousands of models) rewrites that node's closure once, not once per link.
    const same = [step];
    for (let i = queue.length - 1; i >= 0; i--) {
      const other = queue[i] as Step;
      if (other.owner === step.owner && other.dir === step.dir) same.push(...queue.splice(i, 1));
    }
    // Each step's via closure in hand (one round trip for those not read yet), joined into one merge.
    await batch.load(same.map((s) => ({ owner: s.via, dir: s.dir })));
    const gained = await Promise.all(same.map(async (s) => extendThrough(s.owner, s.dir, s.via, s.link, await batch.get(s.via, s.dir))));
    const grown = await batch.merge(gained.reduce((a, b) => mergeClosures(a, b)));
    merges++;
    if (!grown) continue;
    // Grown: the next hop in the same direction learns of it. Its links are in the other closure.
    const other = await batch.get(step.owner, step.dir === 'up' ? 'down' : 'up');
    queue.push(...neighboursAfterGrowth(step.owner, step.dir, other, batchLinks));
  }
  const written = await batch.flush();
  return { merges, written, reads: batch.reads };
}

/**
 * One run of the closure stage (the queue trigger's work, and what tests drain): batches of
 * pending links until none is left. Links are marked propagated only after their closures are
 * written, so a run that fails part-way leaves them pending for the next run. Idempotent.
 */
export async function maintainClosures(
  graph: GraphStore,
  batchSize = STAGE_BATCH,
): Promise<{ batches: number; links: number; written: number }> {
  const total = { batches: 0, links: 0, written: 0 };
  for (;;) {
    const pending = await withRetry(() => graph.pendingLinks(batchSize), 'reading pending links');
    if (pending.length === 0) return total;
    const { written } = await propagateLinks(graph, pending);
    await graph.settleLinks(pending);
    total.batches++;
    total.links += pending.length;
    total.written += written;
    // Up to two copies a link: fewer than half a batch of links means the query found every copy.
    if (pending.length * 2 < batchSize) return total;
  }
}

/**
 * Closures from scratch, for a migration or a repair: every node's upstream and downstream, by
 * breadth-first search over the stored links. Returns how many closure documents were written.
 */
export async function rebuildClosures(graph: GraphStore, onProgress?: (done: number, total: number) => void): Promise<number> {
  const docs = await graph.all();
  const nodes = docs.filter((d) => d.docType === 'node').map((d) => d.id);
  const out = new Map<string, Array<{ to: string; link: string }>>();
  const inn = new Map<string, Array<{ from: string; link: string }>>();
  for (const d of docs) {
    if (d.docType !== 'edge' || d.dir !== 'out') continue;
    const link = edgeKey(d.from, d.kind, d.to);
    out.set(d.from, [...(out.get(d.from) ?? []), { to: d.to, link }]);
    inn.set(d.to, [...(inn.get(d.to) ?? []), { from: d.from, link }]);
  }
  let written = 0;
  for (const id of nodes) {
    for (const dir of ['up', 'down'] as const) {
      await graph.putClosure(
        closureByBfs(id, dir, (n) =>
          dir === 'up'
            ? (inn.get(n) ?? []).map((x) => ({ next: x.from, link: x.link }))
            : (out.get(n) ?? []).map((x) => ({ next: x.to, link: x.link })),
        ),
      );
      written++;
    }
    onProgress?.(written / 2, nodes.length);
  }
  return written;
}

export function closureByBfs(owner: string, dir: ClosureDir, neighbours: (node: string) => Array<{ next: string; link: string }>): Closure {
  const doc = emptyClosure(owner, dir);
  const distance = new Map<string, number>([[owner, 0]]);
  const edges = new Set<string>();
  let frontier = [owner];
  for (let d = 1; frontier.length > 0; d++) {
    const next: string[] = [];
    for (const n of frontier) {
      for (const { next: m, link } of neighbours(n)) {
        edges.add(link);
        if (distance.has(m)) continue;
        distance.set(m, d);
        next.push(m);
      }
    }
    frontier = next;
  }
  distance.delete(owner);
  doc.members = Object.fromEntries([...distance.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  const kept = new Set([owner, ...distance.keys()]);
  doc.edges = [...edges].filter((e) => kept.has(parseEdgeKey(e).from) && kept.has(parseEdgeKey(e).to)).sort();
  return doc;
}
