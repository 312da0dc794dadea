import { z } from 'zod';
import { canonicalJson } from '../util/canonicalJson.js';
import { edgeKey, parseEdgeKey, type Closure, type ClosureDir } from './closure.js';

/**
 * How a closure is stored: pages in its owner's partition, `closure~up` (page 0) then
 * `closure~up~p1`, `closure~up~p2`... Members are ordered as lookups answer them (nearest first,
 * then by id) and cut every PAGE_MEMBERS, so the page holding any position of an answer is known
 * without reading anything: a lookup reads page 0 and the pages its answer page needs, in one
 * round trip, however large the closure.
 *
 * What a page holds is what a lookup needs, not copies:
 *   - members as runs `[distance, kind, packed]`: the ids of one distance and kind, each a node id's
 *     32 hex digits as 22 base64url characters (an id not of that form is a run of its own, kind '');
 *   - links by reference: `[from, kind, to]` triples of integers, `from`/`to` indexing the page's
 *     table (0 = the owner, then the page's members, then `ext`: ends on other pages, packed the
 *     same way), `kind` indexing `kinds`. A link is kept on the page of its later end, so a link
 *     with both ends in an answer page is on a page that answer reads.
 * Every page decodes alone: any mix of pages is a set of true facts (what a merge needs when it
 * meets a write in progress). Page 0 is the manifest: `pages`, the members at each distance
 * (`counts`), and `revs`, the revision each page must carry; the closure stage writes the other
 * pages first (last page first) and page 0 last, so a reader that finds a page's `rev` differing
 * from the manifest has met a write in progress.
 */
export const PAGE_MEMBERS = 2000;
export const CLOSURE_SHAPE = 2;

const run = z.tuple([z.number().int().min(0), z.string(), z.string()]);
type Run = z.infer<typeof run>;

export const closurePageSchema = z.object({
  id: z.string(),
  pk: z.string(),
  docType: z.literal('closure'),
  dir: z.enum(['up', 'down']),
  shape: z.literal(CLOSURE_SHAPE),
  page: z.number().int().min(0),
  rev: z.number().int().min(1),
  members: z.array(run),
  ext: z.array(run).optional(),
  kinds: z.array(z.string()),
  links: z.array(z.number().int().min(0)),
  /** Page 0 only: how many pages, members by distance (`counts[d - 1]`), each page's revision. */
  pages: z.number().int().min(1).optional(),
  counts: z.array(z.number().int().min(0)).optional(),
  revs: z.array(z.number().int().min(1)).optional(),
});
export type ClosurePage = z.infer<typeof closurePageSchema>;

/** The shape before pages (one document, `from|kind|to` strings, cut at 5,000 members): still read. */
export const legacyClosureSchema = z.object({
  id: z.enum(['closure~up', 'closure~down']),
  pk: z.string(),
  docType: z.literal('closure'),
  dir: z.enum(['up', 'down']),
  members: z.record(z.string(), z.number().int().min(1)),
  edges: z.array(z.string()),
  truncated: z.boolean(),
});
export type LegacyClosure = z.infer<typeof legacyClosureSchema>;

export type StoredClosurePage = ClosurePage | LegacyClosure;

export function isLegacy(page: StoredClosurePage): page is LegacyClosure {
  return !('shape' in page);
}

export function pageId(dir: ClosureDir, page: number): string {
  return page === 0 ? `closure~${dir}` : `closure~${dir}~p${page}`;
}

/** The page holding member position `position` (1 = the first member; 0 = the owner, on page 0). */
export function pageOf(position: number): number {
  return position <= 0 ? 0 : Math.floor((position - 1) / PAGE_MEMBERS);
}

/** The pages holding member positions `first..last`, page 0 (the manifest) always among them. */
export function pagesFor(first: number, last: number): number[] {
  const out = new Set([0]);
  for (let p = pageOf(Math.max(1, first)); p <= pageOf(Math.max(1, last)); p++) out.add(p);
  return [...out];
}

const PACKABLE = /^(.+)-([0-9a-f]{32})$/;

function packRuns(entries: Array<[string, number]>): Run[] {
  const runs: Run[] = [];
  let last: Run | undefined;
  for (const [id, d] of entries) {
    const m = PACKABLE.exec(id);
    if (!m) {
      runs.push([d, '', id]); // a raw id is a run of its own
      last = undefined;
      continue;
    }
    const packed = Buffer.from(m[2] as string, 'hex').toString('base64url');
    if (last && last[0] === d && last[1] === m[1]) last[2] += packed;
    else runs.push((last = [d, m[1] as string, packed]));
  }
  return runs;
}

function unpackRuns(runs: readonly Run[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const [d, kind, packed] of runs) {
    if (kind === '') {
      out.push([packed, d]);
      continue;
    }
    for (let i = 0; i + 22 <= packed.length; i += 22)
      out.push([`${kind}-${Buffer.from(packed.slice(i, i + 22), 'base64url').toString('hex')}`, d]);
  }
  return out;
}

/** Members in answer order: nearest first, then by id. */
export function orderedMembers(closure: Closure): Array<[string, number]> {
  return Object.entries(closure.members).sort(([a, da], [b, db]) => da - db || (a < b ? -1 : a > b ? 1 : 0));
}

/** A page as laid out, before the store gives it a revision. */
export type PageBody = Omit<ClosurePage, 'rev' | 'revs'>;

/** Lays a closure out in pages (at least page 0, even when empty). */
export function layoutClosure(closure: Closure): PageBody[] {
  const ordered = orderedMembers(closure);
  const position = new Map<string, number>([[closure.owner, 0]]);
  ordered.forEach(([id], i) => position.set(id, i + 1));
  const pageCount = Math.max(1, Math.ceil(ordered.length / PAGE_MEMBERS));
  const linksOf: Array<Array<[number, string, number]>> = Array.from({ length: pageCount }, () => []);
  for (const e of [...new Set(closure.edges)].sort()) {
    const { from, kind, to } = parseEdgeKey(e);
    const pf = position.get(from);
    const pt = position.get(to);
    if (pf === undefined || pt === undefined) continue; // an end outside the closure
    linksOf[pageOf(Math.max(pf, pt))]?.push([pf, kind, pt]);
  }
  const counts: number[] = [];
  for (const [, d] of ordered) counts[d - 1] = (counts[d - 1] ?? 0) + 1;
  const bodies: PageBody[] = [];
  for (let page = 0; page < pageCount; page++) {
    const first = page * PAGE_MEMBERS + 1;
    const members = ordered.slice(first - 1, first - 1 + PAGE_MEMBERS);
    const kinds: string[] = [];
    const kindIndex = new Map<string, number>();
    const ext: Array<[string, number]> = [];
    const extIndex = new Map<number, number>();
    const ref = (p: number) => {
      if (p === 0) return 0;
      if (p >= first && p < first + members.length) return 1 + p - first;
      let i = extIndex.get(p);
      if (i === undefined) {
        extIndex.set(p, (i = ext.length));
        ext.push([(ordered[p - 1] as [string, number])[0], 0]);
      }
      return 1 + members.length + i;
    };
    const links: number[] = [];
    for (const [pf, kind, pt] of linksOf[page] ?? []) {
      let k = kindIndex.get(kind);
      if (k === undefined) {
        kindIndex.set(kind, (k = kinds.length));
        kinds.push(kind);
      }
      links.push(ref(pf), k, ref(pt));
    }
    const body: PageBody = {
      id: pageId(closure.dir, page),
      pk: closure.owner,
      docType: 'closure',
      dir: closure.dir,
      shape: CLOSURE_SHAPE,
      page,
      members: packRuns(members),
      kinds,
      links,
    };
    if (ext.length > 0) body.ext = packRuns(ext);
    if (page === 0) Object.assign(body, { pages: pageCount, counts: Array.from(counts, (c) => c ?? 0) });
    bodies.push(body);
  }
  return bodies;
}

/** What one page says: its members (in order, with distances) and its links (`from|kind|to`). */
export function decodePage(page: StoredClosurePage): { members: Array<[string, number]>; edges: string[] } {
  if (isLegacy(page))
    return { members: orderedMembers({ owner: page.pk, dir: page.dir, members: page.members, edges: [] }), edges: page.edges };
  const members = unpackRuns(page.members);
  const table = [page.pk, ...members.map(([id]) => id), ...unpackRuns(page.ext ?? []).map(([id]) => id)];
  const edges: string[] = [];
  for (let i = 0; i + 2 < page.links.length; i += 3) {
    const from = table[page.links[i] as number];
    const kind = page.kinds[page.links[i + 1] as number];
    const to = table[page.links[i + 2] as number];
    if (from !== undefined && kind !== undefined && to !== undefined) edges.push(edgeKey(from, kind, to));
  }
  return { members, edges };
}

/** The closure some pages describe: their union (pages of a write in progress included: each is true). */
export function decodeClosure(owner: string, dir: ClosureDir, pages: Iterable<StoredClosurePage>): Closure {
  const closure: Closure = { owner, dir, members: {}, edges: [] };
  const edges = new Set<string>();
  for (const page of pages) {
    const { members, edges: links } = decodePage(page);
    for (const [id, d] of members) if (id !== owner) closure.members[id] = Math.min(closure.members[id] ?? d, d);
    for (const e of links) edges.add(e);
  }
  closure.edges = [...edges].sort();
  return closure;
}

/**
 * The pages of a closure as read, with their ETags, by page number: page 0 and the pages it
 * names, and any page found beyond them (a write that stopped before its manifest).
 */
export type StoredPages = Map<number, { doc: StoredClosurePage; etag: string | undefined }>;

/** How many pages the manifest names (a legacy document is one page). */
export function manifestPages(stored: StoredPages): number {
  const head = stored.get(0)?.doc;
  if (!head) return 0;
  return isLegacy(head) ? 1 : (head.pages ?? 1);
}

/** True when every page read carries the revision page 0 names for it (no write in progress met). */
export function consistent(stored: StoredPages): boolean {
  const head = stored.get(0)?.doc;
  if (!head || isLegacy(head)) return true;
  for (const [page, { doc }] of stored) {
    if (page === 0 || page >= (head.pages ?? 1)) continue;
    if (isLegacy(doc) || doc.rev !== head.revs?.[page]) return false;
  }
  return true;
}

const bodyOf = (doc: StoredClosurePage): string => {
  if (isLegacy(doc)) return '';
  const { rev: _rev, revs: _revs, ...body } = doc;
  return canonicalJson(body);
};

/**
 * The writes that take the stored pages to `closure`, in the order to make them: changed pages
 * other than 0 from the last one back (a member only moves to a later page when others join
 * before it, so at every step it is on one of them), then page 0 with the new manifest. Each
 * write names the ETag it replaces (undefined: create). Nothing when nothing changed.
 */
export function planClosureWrite(closure: Closure, stored: StoredPages): Array<{ doc: ClosurePage; etag: string | undefined }> {
  const bodies = layoutClosure(closure);
  const head = stored.get(0)?.doc;
  const rev = (head && !isLegacy(head) ? head.rev : 0) + 1;
  const revs: number[] = [];
  const writes: Array<{ doc: ClosurePage; etag: string | undefined }> = [];
  for (let page = bodies.length - 1; page >= 1; page--) {
    const body = bodies[page] as PageBody;
    const was = stored.get(page);
    if (was && !isLegacy(was.doc) && bodyOf(was.doc) === canonicalJson(body)) {
      revs[page] = was.doc.rev;
      continue;
    }
    revs[page] = rev;
    writes.push({ doc: { ...body, rev }, etag: was?.etag });
  }
  const first = bodies[0] as PageBody;
  const unchangedHead =
    writes.length === 0 &&
    head !== undefined &&
    !isLegacy(head) &&
    bodyOf(head) === canonicalJson(first) &&
    canonicalJson((head.revs ?? []).slice(1)) === canonicalJson(revs.slice(1));
  if (unchangedHead) return [];
  revs[0] = rev;
  writes.push({ doc: { ...first, rev, revs: Array.from(revs, (r) => r ?? rev) }, etag: stored.get(0)?.etag });
  return writes;
}

/** The pages of a closure where none is stored, page 0 first (what the benches load). */
export function freshPages(closure: Closure): ClosurePage[] {
  return planClosureWrite(closure, new Map())
    .map((w) => w.doc)
    .sort((a, b) => a.page - b.page);
}
