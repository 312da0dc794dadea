import {
  CLOSURE_MAX_MEMBERS,
  edgeKey,
  emptyClosure,
  extendThrough,
  mergeClosures,
  parseEdgeKey,
  type ClosureDir,
  type ClosureDoc,
} from '../graph/closure.js';
import type { GraphStore } from '../store/graphStore.js';
import { mapLimited } from '../util/mapLimited.js';

/**
 * Keeping closures current as links arrive. A new link from -> to gives `to` everything upstream
 * of `from`, and `from` everything downstream of `to`; when a closure grows, the nodes one hop
 * further in the same direction grow too, and so on (a monotone fixpoint, so order and repetition
 * do not matter). Work per event is bounded: a closure that could not be brought up to date within
 * the budget is marked truncated, and lookups from it walk instead of trusting it.
 */
export const PROPAGATION_BUDGET = 2000;

interface Step {
  owner: string;
  via: string;
  link: string;
  dir: ClosureDir;
}

function neighboursAfterGrowth(owner: string, dir: ClosureDir, other: ClosureDoc | undefined): Step[] {
  // When owner's upstream closure grew, its children (downstream neighbours) must grow too.
  const steps: Step[] = [];
  for (const e of other?.edges ?? []) {
    const { from, kind, to } = parseEdgeKey(e);
    if (dir === 'up' && from === owner) steps.push({ owner: to, via: owner, link: e, dir });
    if (dir === 'down' && to === owner) steps.push({ owner: from, via: owner, link: e, dir });
    void kind;
  }
  return steps;
}

export async function propagateLinks(
  graph: GraphStore,
  links: Array<{ from: string; kind: string; to: string }>,
  budget = PROPAGATION_BUDGET,
): Promise<{ merges: number; truncated: string[] }> {
  const queue: Step[] = [];
  for (const { from, kind, to } of links) {
    const link = edgeKey(from, kind, to);
    queue.push({ owner: to, via: from, link, dir: 'up' }, { owner: from, via: to, link, dir: 'down' });
  }
  let merges = 0;
  const truncated: string[] = [];
  while (queue.length > 0) {
    const step = queue.shift() as Step;
    // Steps into the same closure are one merge: an event linking many nodes to one (a deployment
    // naming thousands of models) rewrites that node's closure once, not once per link.
    const same = [step];
    for (let i = queue.length - 1; i >= 0; i--) {
      const other = queue[i] as Step;
      if (other.owner === step.owner && other.dir === step.dir) same.push(...queue.splice(i, 1));
    }
    if (merges >= budget) {
      // Out of budget: say so on the closure instead of leaving it silently short.
      await graph.mergeClosure({ ...emptyClosure(step.owner, step.dir), truncated: true });
      truncated.push(step.owner);
      continue;
    }
    const gained = await mapLimited(same, 8, async (s) => extendThrough(s.owner, s.dir, s.via, s.link, await graph.closure(s.via, s.dir)));
    const result = await graph.mergeClosure(gained.reduce((a, b) => mergeClosures(a, b)));
    merges++;
    if (result === 'unchanged') continue;
    // Grown: the next hop in the same direction learns of it. Its links are in the other closure.
    const other = await graph.closure(step.owner, step.dir === 'up' ? 'down' : 'up');
    queue.push(...neighboursAfterGrowth(step.owner, step.dir, other));
  }
  return { merges, truncated };
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

export function closureByBfs(
  owner: string,
  dir: ClosureDir,
  neighbours: (node: string) => Array<{ next: string; link: string }>,
): ClosureDoc {
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
        if (distance.size - 1 >= CLOSURE_MAX_MEMBERS) {
          doc.truncated = true;
          continue;
        }
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
