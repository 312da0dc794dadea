import { z } from 'zod';

/**
 * Precomputed reachability, so a lookup costs the same few round trips at depth 1 or 50. Each node
 * has two closure documents in its own partition: `closure~up` (everything upstream of it, with the
 * shortest distance, and the links among them) and `closure~down` (everything downstream).
 * A lookup reads the root's closure, then the page of nodes and links it names, in parallel.
 *
 * A closure is a set with minimum distances, merged by union: order-free and idempotent like the
 * rest of the graph. Past CLOSURE_MAX_MEMBERS it is cut (`truncated`) and lookups walk instead.
 */
export const CLOSURE_MAX_MEMBERS = 5000;

export const closureDocSchema = z.object({
  id: z.enum(['closure~up', 'closure~down']),
  pk: z.string(),
  docType: z.literal('closure'),
  dir: z.enum(['up', 'down']),
  /** Node id -> shortest distance from the owner (1 = direct neighbour). */
  members: z.record(z.string(), z.number().int().min(1)),
  /** Links among owner and members: `from|kind|to`. */
  edges: z.array(z.string()),
  truncated: z.boolean(),
});
export type ClosureDoc = z.infer<typeof closureDocSchema>;
export type ClosureDir = ClosureDoc['dir'];

export function closureId(dir: ClosureDir): ClosureDoc['id'] {
  return dir === 'up' ? 'closure~up' : 'closure~down';
}

export function emptyClosure(owner: string, dir: ClosureDir): ClosureDoc {
  return { id: closureId(dir), pk: owner, docType: 'closure', dir, members: {}, edges: [], truncated: false };
}

export function edgeKey(from: string, kind: string, to: string): string {
  return `${from}|${kind}|${to}`;
}

export function parseEdgeKey(key: string): { from: string; kind: string; to: string } {
  const [from = '', kind = '', to = ''] = key.split('|');
  return { from, kind, to };
}

/** Union with minimum distances; cut deterministically (nearest first, then id) past the cap. */
export function mergeClosures(a: ClosureDoc, b: ClosureDoc): ClosureDoc {
  const members: Record<string, number> = { ...a.members };
  for (const [id, d] of Object.entries(b.members)) if (id !== a.pk) members[id] = Math.min(members[id] ?? d, d);
  let truncated = a.truncated || b.truncated;
  let kept = Object.entries(members);
  if (kept.length > CLOSURE_MAX_MEMBERS) {
    truncated = true;
    kept = kept.sort(([ia, da], [ib, db]) => da - db || (ia < ib ? -1 : 1)).slice(0, CLOSURE_MAX_MEMBERS);
  }
  const keptIds = new Set(kept.map(([id]) => id));
  keptIds.add(a.pk);
  const edges = [...new Set([...a.edges, ...b.edges])].filter((e) => {
    const { from, to } = parseEdgeKey(e);
    return keptIds.has(from) && keptIds.has(to);
  });
  return { ...a, members: Object.fromEntries(kept.sort(([x], [y]) => (x < y ? -1 : 1))), edges: edges.sort(), truncated };
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
  neighbourClosure: ClosureDoc | undefined,
): ClosureDoc {
  const members: Record<string, number> = { [neighbour]: 1 };
  for (const [id, d] of Object.entries(neighbourClosure?.members ?? {}))
    if (id !== owner) members[id] = Math.min(members[id] ?? d + 1, d + 1);
  return {
    ...emptyClosure(owner, dir),
    members,
    edges: [link, ...(neighbourClosure?.edges ?? [])],
    truncated: neighbourClosure?.truncated ?? false,
  };
}
