import { beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { closurePageSchema, manifestPages, PAGE_MEMBERS, pageOf, pagesFor, type LegacyClosure } from '../../shared/graph/closurePages.js';
import { namedResource, nodeId, parseWorkspaceId, registryAsset, versionedAsset, type NodeRef } from '../../shared/graph/keys.js';
import { assertedNode, edgePair } from '../../shared/graph/merge.js';
import type { EdgeKind, Provenance } from '../../shared/graph/model.js';
import { closureByBfs, maintainClosures } from '../../shared/usecases/closures.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { mapLimited } from '../../shared/util/mapLimited.js';
import { WS } from '../helpers/fixtures.js';
import { countRounds } from '../helpers/rounds.js';
import { cosmosContainers, freshServices } from '../helpers/stores.js';

/**
 * Hubs without truncation (issue 17 item 3): a shared dataset read by JOBS jobs, each producing a
 * model version. Its downstream closure has 2 x JOBS members: past the 5,000 the shape before pages
 * cut at, over several pages. Nodes and links are stored as bare documents, already propagated;
 * the closures the tests read are written by the product's closure write (`putClosure`), and the
 * closure stage then merges a new job into the hub.
 */
const JOBS = Number(process.env.CLOSURE_TEST_JOBS ?? 2_600);
const ws = parseWorkspaceId(WS)!;
const prov: Provenance = {
  source: 'eventgrid',
  eventId: '00000000-0000-4000-a000-000000000017',
  eventType: 'Microsoft.MachineLearningServices.RunCompleted',
  eventTime: '2024-06-01T00:00:00.0000000Z',
  instant: '2024-06-01T00:00:00.000000000Z',
  hash: `sha256:${'1'.repeat(64)}`,
  learnedAt: '2024-06-01T00:00:01.000Z',
};
const dataset = registryAsset('contoso-shared', 'data', 'customer-transactions', '4') as NodeRef;
const job = (i: number) => namedResource(ws, 'jobs', `train_${i}`);
const model = (i: number) => versionedAsset(ws, 'models', `credit-${i}`, '1');
const idOf = (ref: NodeRef) => nodeId(ref.kind, ref.key);
const HUB = idOf(dataset);

/** The links as stored, for closures computed from scratch. */
const out = new Map<string, Array<{ next: string; link: string }>>();
const inn = new Map<string, Array<{ next: string; link: string }>>();
const bfs = (owner: string, dir: 'up' | 'down') => closureByBfs(owner, dir, (n) => (dir === 'up' ? inn.get(n) : out.get(n)) ?? []);

let services: Services;
let rounds: () => number;
const slices: Array<{ owner: string; pages: number[] }> = [];

beforeAll(async () => {
  services = await freshServices();
  const { graph: container } = await cosmosContainers(services);
  const docs: object[] = [assertedNode(dataset, { name: 'customer-transactions' }, undefined, prov)];
  const link = (kind: EdgeKind, from: NodeRef, to: NodeRef) => {
    const [a, b] = edgePair(kind, from, to, undefined, prov);
    docs.push({ ...a, closurePending: false }, { ...b, closurePending: false });
    const key = `${idOf(from)}|${kind}|${idOf(to)}`;
    out.set(idOf(from), [...(out.get(idOf(from)) ?? []), { next: idOf(to), link: key }]);
    inn.set(idOf(to), [...(inn.get(idOf(to)) ?? []), { next: idOf(from), link: key }]);
  };
  for (let i = 0; i < JOBS; i++) {
    docs.push(assertedNode(job(i), { status: 'Completed' }, undefined, prov), assertedNode(model(i), { version: '1' }, undefined, prov));
    link('inputOf', dataset, job(i));
    link('produced', job(i), model(i));
  }
  await mapLimited(docs, 32, async (doc) => {
    await container.items.create(doc);
  });
  await Promise.all([services.graph.putClosure(bfs(HUB, 'down')), services.graph.putClosure(bfs(idOf(model(0)), 'up'))]);
  // Round trips as lookups make them: store calls that overlap in time are one.
  rounds = countRounds(services.graph, ['readDocs', 'pendingLinks', 'edgesOf', 'nodes', 'search']);
  const slice = services.graph.closureSlice.bind(services.graph);
  services.graph.closureSlice = (owner, dir, pages) => {
    slices.push({ owner, pages });
    return slice(owner, dir, pages);
  };
}, 600_000);

describe('a hub past 5,000 members', () => {
  it('is stored whole, over several pages of its partition, each well under the 2 MB item limit', async () => {
    const stored = await services.graph.closurePages(HUB, 'down');
    expect(manifestPages(stored)).toBe(Math.ceil((2 * JOBS) / PAGE_MEMBERS));
    for (const { doc } of stored.values()) {
      expect(closurePageSchema.parse(doc).pk).toBe(HUB);
      expect(Buffer.byteLength(JSON.stringify(doc))).toBeLessThan(256 * 1024);
    }
    const closure = await services.graph.closure(HUB, 'down');
    const expected = bfs(HUB, 'down');
    expect(Object.keys(closure?.members ?? {})).toHaveLength(2 * JOBS);
    expect(closure?.members).toEqual(expected.members);
    expect(closure?.edges).toEqual(expected.edges);
  }, 600_000);

  it('answers page by page from closures, 2 round trips a page, reading the closure pages up to each answer page and the nodes whose marks can change it; together exact', async () => {
    const maxNodes = 500;
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    let pages = 0;
    let lastDistance = 0;
    do {
      const [before, requestsBefore] = [rounds(), services.meter.storeRequests];
      slices.length = 0;
      const answer = await lineage(services.graph, {
        ref: HUB,
        direction: 'downstream',
        depth: 5,
        maxNodes,
        ...(cursor ? { cursor } : {}),
      });
      expect(answer.answeredFrom).toBe('closures');
      expect(rounds() - before).toBe(2);
      // The closure pages read: page 0 (the manifest) up to the ones holding this answer page's
      // positions (the members before it may carry marks that change it).
      const offset = pages * maxNodes;
      expect(slices).toEqual([{ owner: HUB, pages: pagesFor(1, offset + maxNodes - 1) }]);
      // Documents read: the root and those closure pages, then the page's nodes and links,
      // and the members whose marks can change the page that are not on it: those nearer than
      // its last node (on the models' pages, the jobs), and on the last page every member within
      // the depth (a link from any of them could add a node, and so a page).
      const closurePagesRead = slices[0]?.pages.length ?? 0;
      const last = answer.cursor ? (answer.nodes[answer.nodes.length - 1]?.distance ?? 0) : Infinity;
      const nearer =
        (last > 1 ? JOBS : 0) +
        (last > 2 ? JOBS : 0) -
        answer.nodes.filter((x) => (x.distance ?? 0) > 0 && (x.distance ?? 0) < last).length;
      // At most one request a document (bulk reads take up to 100 in one).
      expect(services.meter.storeRequests - requestsBefore).toBeLessThanOrEqual(
        1 + closurePagesRead + answer.nodes.length - (offset === 0 ? 1 : 0) + answer.edges.length + nearer,
      );
      for (const n of answer.nodes) {
        expect(seen.has(n.id)).toBe(false);
        seen.set(n.id, n.distance ?? -1);
        expect(n.distance ?? 0).toBeGreaterThanOrEqual(lastDistance);
        lastDistance = n.distance ?? 0;
      }
      cursor = answer.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil((2 * JOBS + 1) / maxNodes));
    expect(seen.size).toBe(2 * JOBS + 1);
    expect([...seen.values()].filter((d) => d === 1)).toHaveLength(JOBS);
    expect([...seen.values()].filter((d) => d === 2)).toHaveLength(JOBS);
  }, 600_000);

  it('answers a depth within the hub from the same pages: depth 1 is the jobs alone', async () => {
    const answer = await lineage(services.graph, {
      ref: HUB,
      direction: 'downstream',
      depth: 1,
      maxNodes: 500,
      cursor: cursorAt(JOBS - 100),
    });
    expect(answer.answeredFrom).toBe('closures');
    expect(answer.nodes).toHaveLength(101); // positions JOBS-100 .. JOBS
    expect(answer.nodes.every((n) => n.kind === 'job')).toBe(true);
    expect(answer.partial).toBe(false);
  }, 600_000);

  it('takes a new job through the closure stage, rewriting only the pages from its position on, page 0 last', async () => {
    const { graph: container } = await cosmosContainers(services);
    const extra = job(JOBS);
    const [a, b] = edgePair('inputOf', dataset, extra, undefined, prov);
    await Promise.all([
      container.items.create(assertedNode(extra, { status: 'Completed' }, undefined, prov)),
      container.items.create(a),
      container.items.create(b),
    ]);
    expect(await maintainClosures(services.graph)).toMatchObject({ links: 1 });
    const closure = await services.graph.closure(HUB, 'down');
    expect(Object.keys(closure?.members ?? {})).toHaveLength(2 * JOBS + 1);
    expect(closure?.members[idOf(extra)]).toBe(1);
    // Its position among the jobs (distance 1, by id) decides the first page that changed.
    const position = 1 + Object.entries(closure?.members ?? {}).filter(([id, d]) => d === 1 && id < idOf(extra)).length;
    const stored = await services.graph.closurePages(HUB, 'down');
    const manifest = closurePageSchema.parse(stored.get(0)?.doc);
    expect(manifest.rev).toBe(2);
    expect(manifest.revs).toEqual(Array.from({ length: manifestPages(stored) }, (_, p) => (p === 0 || p >= pageOf(position) ? 2 : 1)));
    for (const [p, { doc }] of stored) expect(closurePageSchema.parse(doc).rev).toBe(manifest.revs?.[p]);
  }, 600_000);
});

const cursorAt = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64url');

describe('closures stored in the shape before pages', () => {
  it('are read as they are, taken over by the stage on its next write; one cut at 5,000 is walked meanwhile and recomputed by the stage', async () => {
    const { graph: container } = await cosmosContainers(services);
    const target = idOf(model(0));
    const up = await services.graph.closure(target, 'up');
    const legacy = (truncated: boolean): LegacyClosure => ({
      id: 'closure~up',
      pk: target,
      docType: 'closure',
      dir: 'up',
      members: truncated ? {} : (up?.members ?? {}),
      edges: truncated ? [] : (up?.edges ?? []),
      truncated,
    });
    // The walk's time budget generous: the embedded server scans every document for each query page.
    const ask = () => lineage(services.graph, { ref: target, direction: 'upstream', depth: 5, maxNodes: 100, timeBudgetMs: 300_000 });
    const fromPages = await ask();

    await container.items.upsert(legacy(false));
    const fromLegacy = await ask();
    expect(fromLegacy.answeredFrom).toBe('closures');
    expect(fromLegacy.nodes.map((n) => n.id)).toEqual(fromPages.nodes.map((n) => n.id));

    // Cut (what a hub's closure was): not trusted, so walked; a new link into it brings the stage, which recomputes it whole.
    await container.items.upsert(legacy(true));
    const walked = await ask();
    expect(walked.answeredFrom).toBe('walk');
    expect(walked.nodes.map((n) => n.id).sort()).toEqual(fromPages.nodes.map((n) => n.id).sort());
    const deployment = namedResource(ws, 'onlineEndpoints', 'credit-ep');
    const [out, inn] = edgePair('deployedTo', model(0), deployment, undefined, prov);
    await Promise.all([
      container.items.create(assertedNode(deployment, { name: 'credit-ep' }, undefined, prov)),
      container.items.create(out),
      container.items.create(inn),
    ]);
    await maintainClosures(services.graph);
    const pages = await services.graph.closurePages(target, 'up');
    expect(closurePageSchema.safeParse(pages.get(0)?.doc).success).toBe(true);
    expect((await services.graph.closure(target, 'up'))?.members).toEqual(up?.members);
    const again = await ask();
    expect(again.answeredFrom).toBe('closures');
    expect(again.nodes.map((n) => n.id).sort()).toEqual(fromPages.nodes.map((n) => n.id).sort());
  }, 600_000);
});
