import { beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { edgeKey } from '../../shared/graph/closure.js';
import { nodeId, parseWorkspaceId, versionedAsset, namedResource, type NodeRef } from '../../shared/graph/keys.js';
import type { EdgeKind, GraphDelta, Provenance } from '../../shared/graph/model.js';
import { applyDelta } from '../../shared/usecases/applyDelta.js';
import { maintainClosures } from '../../shared/usecases/closures.js';
import { lineage, type LineageQuery } from '../../shared/usecases/lineage.js';
import { WS } from '../helpers/fixtures.js';
import { countRounds } from '../helpers/rounds.js';
import { freshServices } from '../helpers/stores.js';

/**
 * Lookups learn whether a closure is current from marks on the nodes they read (the root in round
 * trip 1, the page's members and the ones before them in round trip 2), not from a query: a
 * pending link that can change the answer makes the lookup walk, and say so.
 *
 * The graph: a dataset read by six jobs, each producing a model version, propagated. Downstream
 * of the dataset: the jobs at distance 1, the models at distance 2.
 */
const ws = parseWorkspaceId(WS)!;
const dataset = versionedAsset(ws, 'data', 'marks', '1');
const jobs = Array.from({ length: 6 }, (_, i) => namedResource(ws, 'jobs', `marks_${i}`));
const models = Array.from({ length: 6 }, (_, i) => versionedAsset(ws, 'models', `marks-${i}`, '1'));
const idOf = (ref: NodeRef) => nodeId(ref.kind, ref.key);

let n = 0;
function prov(): Provenance {
  n++;
  return {
    source: 'test',
    eventId: `marks-${n}`,
    eventType: 'test',
    eventTime: `2024-01-01T00:00:${String(n).padStart(2, '0')}Z`,
    instant: `2024-01-01T00:00:${String(n).padStart(2, '0')}.000000000Z`,
    hash: `sha256:marks-${n}`,
    learnedAt: '2024-01-01T00:00:00.000Z',
  };
}

/** Links as an event states them (its nodes asserted, so placeholders are not what is tested). */
function linking(...links: Array<[EdgeKind, NodeRef, NodeRef]>): GraphDelta {
  const ends = new Map(links.flatMap(([, from, to]) => [from, to]).map((ref) => [idOf(ref), ref]));
  return {
    nodes: [...ends.values()].map((ref) => ({ ref, facts: {} })),
    references: [],
    edges: links.map(([kind, from, to]) => ({ kind, from, to })),
  };
}

let services: Services;
let rounds: () => number;
const shape = (a: Awaited<ReturnType<typeof lineage>>) => ({
  nodes: a.nodes.map((x) => `${x.id}@${x.distance}`),
  edges: a.edges.map((e) => e.id).sort(),
  partial: a.partial,
});
/** The same page, answered by the closures and by walking: for comparison. */
async function both(query: LineageQuery) {
  const before = rounds();
  const answer = await lineage(services.graph, query);
  const used = rounds() - before;
  const walked = await lineage(services.graph, { ...query, walk: true });
  return { answer, used, walked };
}
const marksOf = async (ref: NodeRef) => (await services.graph.readNode(idOf(ref)))?.closurePending;

beforeAll(async () => {
  services = await freshServices();
  await applyDelta(
    services.graph,
    linking(
      ...jobs.flatMap((job, i): Array<[EdgeKind, NodeRef, NodeRef]> => [
        ['inputOf', dataset, job],
        ['produced', job, models[i] as NodeRef],
      ]),
    ),
    prov(),
  );
  await maintainClosures(services.graph);
  rounds = countRounds(services.graph, ['readDocs', 'pendingLinks', 'edgesOf', 'nodes', 'search']);
});

describe('marks: what a lookup reads instead of querying for pending links', () => {
  it('a new link marks both its ends in the batches that store its copies; the stage clears them; delivered again or asserted again, it marks nothing', async () => {
    const job = namedResource(ws, 'jobs', 'marks_new');
    const link = edgeKey(idOf(dataset), 'inputOf', idOf(job));
    const meter = services.meter.storeRequests;
    await applyDelta(services.graph, linking(['inputOf', dataset, job]), prov());
    // The log append is not part of applyDelta: one bulk read and one bulk write, the marks in it.
    expect(services.meter.storeRequests - meter).toBe(2);
    expect(await marksOf(dataset)).toEqual([link]);
    expect(await marksOf(job)).toEqual([link]);
    expect(await services.graph.pendingLinks(10)).toEqual([{ from: idOf(dataset), kind: 'inputOf', to: idOf(job) }]);

    await maintainClosures(services.graph);
    expect(await marksOf(dataset)).toBeUndefined();
    expect(await marksOf(job)).toBeUndefined();
    expect(await services.graph.pendingLinks(10)).toEqual([]);

    // The same link again, in a new event and in the same one delivered twice: the copies are
    // propagated for good, so nothing is marked and nothing is pending.
    const again = prov();
    for (const p of [prov(), again, again]) await applyDelta(services.graph, linking(['inputOf', dataset, job]), p);
    expect(await marksOf(dataset)).toBeUndefined();
    expect(await marksOf(job)).toBeUndefined();
    expect(await services.graph.pendingLinks(10)).toEqual([]);
  });

  it('downstream: a pending link leaving a member the page depends on makes the lookup walk; one beyond the page does not; after the stage, closures again', async () => {
    const query: LineageQuery = { ref: idOf(dataset), direction: 'downstream', depth: 5, maxNodes: 4 };
    const cursorAt = (offset: number) => Buffer.from(JSON.stringify({ offset })).toString('base64url');
    const page = async (offset: number) => both(offset === 0 ? query : { ...query, cursor: cursorAt(offset) });
    // Answer pages of 4: the dataset and 3 jobs; 4 jobs (7 jobs by now); 4 models; 2 models.
    const kindsAt = async (offset: number) => (await page(offset)).answer.nodes.map((x) => x.kind);
    expect(await kindsAt(4)).toEqual(['job', 'job', 'job', 'job']);
    expect(await kindsAt(8)).toEqual(['model', 'model', 'model', 'model']);
    for (const offset of [0, 4, 8, 12]) {
      const settled = await page(offset);
      expect(settled.answer.answeredFrom).toBe('closures');
      expect(settled.used).toBe(2);
      expect(shape(settled.answer)).toEqual(shape(settled.walked));
    }

    // A job (distance 1) produces a new model (distance 2).
    const extra = versionedAsset(ws, 'models', 'marks-extra', '1');
    await applyDelta(services.graph, linking(['produced', jobs[5] as NodeRef, extra]), prov());

    // The pages of jobs: a model, wherever it lands, lands after them.
    for (const offset of [0, 4]) {
      const jobsPage = await page(offset);
      expect(jobsPage.answer.answeredFrom).toBe('closures');
      expect(shape(jobsPage.answer)).toEqual(shape(jobsPage.walked));
    }
    // The models' pages: the new model lands among them, and the job whose link it is lies on an
    // earlier page, read for its marks (2 round trips still). Trusting the closure would be wrong.
    for (const offset of [8, 12]) {
      const modelsPage = await page(offset);
      expect(modelsPage.answer.answeredFrom).toBe('walk');
      expect(shape(modelsPage.answer)).toEqual(shape(modelsPage.walked));
    }
    const all = async () => (await Promise.all([0, 4, 8, 12].map(page))).flatMap((p) => p.answer.nodes.map((x) => x.id));
    expect(await all()).toContain(idOf(extra));

    await maintainClosures(services.graph);
    for (const offset of [0, 4, 8, 12]) {
      const current = await page(offset);
      expect(current.answer.answeredFrom).toBe('closures');
      expect(current.used).toBe(2);
      expect(shape(current.answer)).toEqual(shape(current.walked));
    }
    expect(await all()).toContain(idOf(extra));
  });

  it('downstream: a pending link leaving the root makes the lookup walk', async () => {
    const job = namedResource(ws, 'jobs', 'marks_root');
    await applyDelta(services.graph, linking(['inputOf', dataset, job]), prov());
    const query: LineageQuery = { ref: idOf(dataset), direction: 'downstream', depth: 1, maxNodes: 100 };
    const { answer, walked } = await both(query);
    expect(answer.answeredFrom).toBe('walk');
    expect(answer.nodes.map((x) => x.id)).toContain(idOf(job));
    expect(shape(answer)).toEqual(shape(walked));
    await maintainClosures(services.graph);
    const after = await both(query);
    expect(after.answer.answeredFrom).toBe('closures');
    expect(shape(after.answer)).toEqual(shape(after.walked));
  });

  it('upstream: a pending link entering a member makes the lookup walk; the downstream closures it cannot change stay in use', async () => {
    const other = versionedAsset(ws, 'data', 'marks-other', '1');
    await applyDelta(services.graph, linking(['inputOf', other, jobs[0] as NodeRef]), prov());
    // Upstream of the first model: its job (distance 1), which the new link enters, and the dataset.
    const up = await both({ ref: idOf(models[0] as NodeRef), direction: 'upstream', depth: 5, maxNodes: 100 });
    expect(up.answer.answeredFrom).toBe('walk');
    expect(up.answer.nodes.map((x) => x.id)).toContain(idOf(other));
    expect(shape(up.answer)).toEqual(shape(up.walked));
    const bothWays = await lineage(services.graph, { ref: idOf(jobs[0] as NodeRef), direction: 'both', depth: 5, maxNodes: 100 });
    expect(bothWays.answeredFrom).toBe('walk');
    // Downstream of the dataset: the job carries a mark, but for a link entering it, which changes no downstream closure.
    const down = await both({ ref: idOf(dataset), direction: 'downstream', depth: 5, maxNodes: 100 });
    expect(down.answer.answeredFrom).toBe('closures');
    expect(down.used).toBe(2);
    expect(shape(down.answer)).toEqual(shape(down.walked));

    await maintainClosures(services.graph);
    const after = await both({ ref: idOf(models[0] as NodeRef), direction: 'upstream', depth: 5, maxNodes: 100 });
    expect(after.answer.answeredFrom).toBe('closures');
    expect(after.used).toBe(2);
    expect(after.answer.nodes.map((x) => x.id)).toContain(idOf(other));
    expect(shape(after.answer)).toEqual(shape(after.walked));
  });

  it('upstream at depth 1: a pending link entering a member at the edge of the depth cannot change the answer', async () => {
    const other = versionedAsset(ws, 'data', 'marks-far', '1');
    await applyDelta(services.graph, linking(['inputOf', other, jobs[1] as NodeRef]), prov());
    // Depth 1 from the model: its job only; what enters the job is at distance 2.
    const near = await both({ ref: idOf(models[1] as NodeRef), direction: 'upstream', depth: 1, maxNodes: 100 });
    expect(near.answer.answeredFrom).toBe('closures');
    expect(shape(near.answer)).toEqual(shape(near.walked));
    const far = await both({ ref: idOf(models[1] as NodeRef), direction: 'upstream', depth: 2, maxNodes: 100 });
    expect(far.answer.answeredFrom).toBe('walk');
    expect(shape(far.answer)).toEqual(shape(far.walked));
    await maintainClosures(services.graph);
  });
});
