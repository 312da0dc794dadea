import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { edgeKey, emptyClosure, joinClosures, mergeClosures, type Closure } from '../../shared/graph/closure.js';
import {
  consistent,
  decodeClosure,
  decodePage,
  freshPages,
  pageOf,
  pagesFor,
  PAGE_MEMBERS,
  planClosureWrite,
  type ClosurePage,
  type LegacyClosure,
  type StoredPages,
} from '../../shared/graph/closurePages.js';
import { sha256Hex } from '../../shared/util/canonicalJson.js';

const id = (kind: string, n: number) => `${kind}-${sha256Hex(String(n)).slice(0, 32)}`;
const KINDS = ['job', 'data', 'model', 'storage'];
/** A model id that sorts after every other. */
const LAST = `model-${'f'.repeat(32)}`;

/** A dataset read by `jobs` jobs, each producing a model: a hub's downstream closure. */
function hub(jobs: number): Closure {
  const owner = id('data', -1);
  const closure = emptyClosure(owner, 'down');
  const edges: string[] = [];
  for (let j = 0; j < jobs; j++) {
    const job = id('job', j);
    const model = id('model', j);
    closure.members[job] = 1;
    closure.members[model] = 2;
    edges.push(edgeKey(owner, 'inputOf', job), edgeKey(job, 'produced', model));
  }
  closure.edges = edges;
  return closure;
}

const stored = (pages: ClosurePage[]): StoredPages => new Map(pages.map((doc) => [doc.page, { doc, etag: `etag-${doc.page}` }]));
const canonical = (c: Closure) => ({ owner: c.owner, dir: c.dir, members: c.members, edges: [...c.edges].sort() });

/** A closure over ids of the packed form and a few that are not (tests' short ids). */
const closureArb: fc.Arbitrary<Closure> = fc
  .record({
    members: fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 9 }), fc.boolean()), { maxLength: 60 }),
    links: fc.array(fc.tuple(fc.nat(), fc.constantFrom('inputOf', 'produced', 'deployedTo'), fc.nat()), { maxLength: 80 }),
  })
  .map(({ members, links }) => {
    const owner = id('model', -1);
    const c = emptyClosure(owner, 'up');
    for (const [n, d, raw] of members) {
      const m = raw ? `node${n}` : id(KINDS[n % KINDS.length] as string, n);
      c.members[m] = Math.min(c.members[m] ?? d, d);
    }
    const ends = [owner, ...Object.keys(c.members)];
    c.edges = [...new Set(links.map(([a, kind, b]) => edgeKey(ends[a % ends.length] as string, kind, ends[b % ends.length] as string)))];
    return c;
  });

describe('closure pages: layout, encoding and decoding', () => {
  it('decodes to the closure it was laid out from, whatever its members and links', () => {
    fc.assert(
      fc.property(closureArb, (c) => {
        expect(canonical(decodeClosure(c.owner, c.dir, freshPages(c)))).toEqual(canonical(c));
      }),
    );
  });

  it('pages a hub past 5,000 members without cutting it: nearest first, every page under 2 MB, each page decodable alone', () => {
    const c = hub(6000); // 12,000 members
    const pages = freshPages(c);
    expect(pages).toHaveLength(Math.ceil(12_000 / PAGE_MEMBERS));
    expect(pages[0]).toMatchObject({ id: 'closure~down', pages: pages.length, counts: [6000, 6000] });
    expect(pages[1]?.id).toBe('closure~down~p1');
    for (const page of pages) expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(512 * 1024);
    // Positions are answer order: the 6,000 jobs (distance 1) fill pages 0-2, the models follow.
    const [first, fourth] = [decodePage(pages[0] as ClosurePage), decodePage(pages[3] as ClosurePage)];
    expect(first.members.every(([, d]) => d === 1)).toBe(true);
    expect(fourth.members.every(([, d]) => d === 2)).toBe(true);
    // A link sits on the page of its later end: job -> model with the model on page 3, the job named in `ext`.
    expect(fourth.edges.length).toBe(PAGE_MEMBERS);
    expect(fourth.edges.every((e) => e.includes('|produced|'))).toBe(true);
    expect(canonical(decodeClosure(c.owner, 'down', pages))).toEqual(canonical(c));
  });

  it('stores ids packed (22 characters for 32 hex digits) and links as integers', () => {
    const c = hub(100);
    const [page] = freshPages(c);
    const json = JSON.stringify(page);
    expect(json).not.toContain(id('job', 0)); // no id spelled out
    expect(page?.links.every((n) => Number.isInteger(n))).toBe(true);
    expect(page?.kinds.sort()).toEqual(['inputOf', 'produced']);
    // Against the shape before pages (members as a record, links as `from|kind|to` strings): under a third.
    const legacy = JSON.stringify({ members: c.members, edges: c.edges });
    expect(json.length).toBeLessThan(legacy.length / 3);
  });

  it('knows which pages hold an answer page without reading any', () => {
    expect(pageOf(0)).toBe(0);
    expect(pageOf(PAGE_MEMBERS)).toBe(0);
    expect(pageOf(PAGE_MEMBERS + 1)).toBe(1);
    expect(pagesFor(0, 499)).toEqual([0]);
    expect(pagesFor(PAGE_MEMBERS - 10, PAGE_MEMBERS + 489)).toEqual([0, 1]);
    expect(pagesFor(5 * PAGE_MEMBERS + 1, 5 * PAGE_MEMBERS + 500)).toEqual([0, 5]);
  });
});

describe('closure pages: what a write changes', () => {
  it('writes nothing when nothing changed, and only the changed pages, page 0 (the manifest) last', () => {
    const c = hub(5999); // 11,998 members: 6 pages, room for 2 more on the last
    const pages = freshPages(c);
    expect(planClosureWrite(c, stored(pages))).toEqual([]);
    // A new model at distance 2 that sorts last: the last page changes, then the manifest.
    const grown = mergeClosures(c, { ...emptyClosure(c.owner, 'down'), members: { [LAST]: 2 } });
    const writes = planClosureWrite(grown, stored(pages));
    expect(writes.map((w) => w.doc.page)).toEqual([pages.length - 1, 0]);
    expect(writes.map((w) => w.etag)).toEqual([`etag-${pages.length - 1}`, 'etag-0']);
    const manifest = writes[1]?.doc as ClosurePage;
    expect(manifest.rev).toBe(2);
    expect(manifest.revs).toEqual([2, 1, 1, 1, 1, 2]);
    // A new job at distance 1 shifts every later member: every page from it on changes, last first.
    const shifted = mergeClosures(c, { ...emptyClosure(c.owner, 'down'), members: { [id('job', 999_999)]: 1 } });
    const order = planClosureWrite(shifted, stored(pages)).map((w) => w.doc.page);
    expect(order[order.length - 1]).toBe(0);
    expect(order.slice(0, -1)).toEqual([...order.slice(0, -1)].sort((a, b) => b - a));
    // A page past the stored ones is created (no ETag).
    const bigger = joinClosures(c, hub(7001)).closure;
    expect(planClosureWrite(bigger, stored(pages)).find((w) => w.doc.page === pages.length)?.etag).toBeUndefined();
  });

  it('says when the pages read are not the ones the manifest names (a write in progress)', () => {
    const c = hub(2999);
    const pages = freshPages(c);
    expect(consistent(stored(pages))).toBe(true);
    const grown = mergeClosures(c, { ...emptyClosure(c.owner, 'down'), members: { [LAST]: 2 } });
    const [last] = planClosureWrite(grown, stored(pages));
    // The last page written, the manifest not yet: a reader sees a revision the manifest does not name.
    const midWrite = stored(pages);
    midWrite.set((last as { doc: ClosurePage }).doc.page, { doc: (last as { doc: ClosurePage }).doc, etag: 'x' });
    expect(consistent(midWrite)).toBe(false);
    // Yet every page holds true facts: their union loses nothing the closure had.
    const union = decodeClosure(
      c.owner,
      'down',
      [...midWrite.values()].map((p) => p.doc),
    );
    for (const [m, d] of Object.entries(c.members)) expect(union.members[m]).toBe(d);
  });

  it('reads the shape before pages and replaces it in place on the next write', () => {
    const c = hub(10);
    const legacy: LegacyClosure = {
      id: 'closure~down',
      pk: c.owner,
      docType: 'closure',
      dir: 'down',
      members: c.members,
      edges: c.edges,
      truncated: false,
    };
    const old: StoredPages = new Map([[0, { doc: legacy, etag: 'old' }]]);
    expect(canonical(decodeClosure(c.owner, 'down', [legacy]))).toEqual(canonical(c));
    const writes = planClosureWrite(c, old);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ etag: 'old', doc: { id: 'closure~down', shape: 2, rev: 1 } });
  });
});

describe('closure merge', () => {
  it('is a union with minimum distances: commutative, idempotent, and says whether it grew', () => {
    fc.assert(
      fc.property(closureArb, closureArb, (a, b) => {
        const ab = canonical(mergeClosures(a, b));
        expect(canonical(mergeClosures(b, a))).toEqual(ab);
        expect(joinClosures(mergeClosures(a, b), b).grew).toBe(false);
        expect(canonical(mergeClosures(mergeClosures(a, b), b))).toEqual(ab);
      }),
    );
  });

  it('keeps no link with an end outside the closure', () => {
    const a = emptyClosure('model-x', 'up');
    const { closure, grew } = joinClosures(a, { ...a, members: { j: 1 }, edges: ['j|produced|model-x', 'k|inputOf|j'] });
    expect(grew).toBe(true);
    expect(closure.edges).toEqual(['j|produced|model-x']);
  });
});
