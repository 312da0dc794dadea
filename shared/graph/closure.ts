/**
 * Precomputed reachability, so a lookup costs the same few round trips at depth 1 or 50. Each node
 * has an upstream closure (everything upstream of it, with the shortest distance, and the links
 * among them) and a downstream one, stored in its own partition as pages (closurePages.ts).
 * A lookup reads the root's closure pages it needs, then the page of nodes and links they name,
 * in parallel.
 *
 * A closure is a set with minimum distances, merged by union: order-free and idempotent like the
 * rest of the graph, and never cut: a hub's closure spans as many pages as it needs.
 */
export type ClosureDir = 'up' | 'down';

/** A closure as the closure stage and the lookups work with it (its stored form is paged). */
export interface Closure {
  owner: string;
  dir: ClosureDir;
  /** Node id -> shortest distance from the owner (1 = direct neighbour). */
  members: Record<string, number>;
  /** Links among owner and members: `from|kind|to`. */
  edges: string[];
}

export function emptyClosure(owner: string, dir: ClosureDir): Closure {
  return { owner, dir, members: {}, edges: [] };
}

export function edgeKey(from: string, kind: string, to: string): string {
  return `${from}|${kind}|${to}`;
}

export function parseEdgeKey(key: string): { from: string; kind: string; to: string } {
  const [from = '', kind = '', to = ''] = key.split('|');
  return { from, kind, to };
}

/**
 * Union with minimum distances, and whether it added anything to `a` (a member, a shorter
 * distance or a link). Links keep only those whose ends are the owner or members.
 */
export function joinClosures(a: Closure, b: Closure): { closure: Closure; grew: boolean } {
  const members: Record<string, number> = { ...a.members };
  let grew = false;
  for (const [id, d] of Object.entries(b.members)) {
    if (id === a.owner) continue;
    const known = members[id];
    if (known === undefined || d < known) {
      members[id] = d;
      grew = true;
    }
  }
  const kept = (e: string) => {
    const { from, to } = parseEdgeKey(e);
    return (from === a.owner || members[from] !== undefined) && (to === a.owner || members[to] !== undefined);
  };
  const edges = new Set(a.edges);
  for (const e of b.edges) {
    if (edges.has(e) || !kept(e)) continue;
    edges.add(e);
    grew = true;
  }
  return { closure: { ...a, members, edges: [...edges] }, grew };
}

export function mergeClosures(a: Closure, b: Closure): Closure {
  return joinClosures(a, b).closure;
}

/**
 * What `owner` gains from a neighbour one hop away: the neighbour itself at distance 1, the
 * neighbour's closure one hop further, the link between them and the neighbour's links.
 */
export function extendThrough(
  owner: string,
  dir: ClosureDir,
  neighbour: string,
  link: string,
  neighbourClosure: Closure | undefined,
): Closure {
  const members: Record<string, number> = { [neighbour]: 1 };
  for (const [id, d] of Object.entries(neighbourClosure?.members ?? {}))
    if (id !== owner) members[id] = Math.min(members[id] ?? d + 1, d + 1);
  return { owner, dir, members, edges: [link, ...(neighbourClosure?.edges ?? [])] };
}
