import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { closureByBfs, maintainClosures } from '../../shared/usecases/closures.js';
import { runClosureStage } from '../../shared/usecases/closureStage.js';
import type { Services } from '../../shared/composition.js';
import { edgeKey } from '../../shared/graph/closure.js';
import { firstEvent } from '../helpers/fixtures.js';
import { driftDetected, modelDeployed, modelRegistered, runEvent } from '../helpers/events.js';
import { graphSnapshot } from '../helpers/graph.js';
import { freshServices } from '../helpers/stores.js';

/**
 * Any permutation of an event stream, with any duplicates, delivered one by one or all at once,
 * yields the identical graph. The clock is fixed because "when we learned it" legitimately
 * depends on arrival time; everything else must not.
 */
const STREAM: Array<Record<string, unknown>> = [
  runEvent('RunStatusChanged', 'train-1', { status: 'Running', time: '2024-03-01T09:00:00.0000001Z' }),
  runEvent('RunStatusChanged', 'train-1', { status: 'Finalizing', time: '2024-03-01T09:05:00Z' }),
  runEvent('RunCompleted', 'train-1', { time: '2024-03-01T09:10:00+00:00', git: true }),
  runEvent('RunCompleted', 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5', { git: true }),
  modelRegistered('credit', 3, { id: 'r1', time: '2024-03-01T10:00:00.0000001Z', tags: { stage: 'dev' } }),
  modelRegistered('credit', '3', { id: 'r2', time: '2024-03-01T10:00:00.0000002Z', tags: { stage: 'prod' }, schema: 'cloudevents' }),
  // Same event time, different content: the tie is broken by content, not arrival.
  modelRegistered('credit', 3, { id: 'r3', time: '2024-03-01T10:00:00.0000002Z', tags: { stage: 'canary' } }),
  modelRegistered('credit', 4),
  modelDeployed('svc', 'credit:3,credit:4'),
  modelDeployed('svc', 'credit:4', { time: '2024-03-05T00:00:00Z' }),
  driftDetected('mon-1', 'mon-1_1'),
  firstEvent('azureml-eventgrid/cloudevents-DatasetDriftDetected.json'),
  modelDeployed('svc', 'broken'), // dead-lettered, must not disturb the graph
];

const FIXED_NOW = () => new Date('2024-06-01T00:00:00.000Z');

/**
 * Captures `events`, with the closure stage (batches of `batch` pending links) running alongside:
 * concurrently with every capture, or after each event in turn; then drained, as the queue would.
 */
async function captureWithStage(
  services: Services,
  events: Array<Record<string, unknown>>,
  concurrent: boolean,
  batch: number,
): Promise<void> {
  if (concurrent)
    await Promise.all([
      ...events.map((e) => captureEvent(services.capture, structuredClone(e))),
      // As the queue trigger runs it: one run at a time, the other turned away or after it.
      runClosureStage(services.graph, services.compliance.blobs, { batchSize: batch }),
      runClosureStage(services.graph, services.compliance.blobs, { batchSize: batch }),
    ]);
  else
    for (const [i, e] of events.entries()) {
      await captureEvent(services.capture, structuredClone(e));
      if (i % 3 === 0) await maintainClosures(services.graph, batch);
    }
  await maintainClosures(services.graph, batch);
  expect(await services.graph.pendingLinks(1)).toEqual([]);
}

async function graphOf(events: Array<Record<string, unknown>>, concurrent: boolean, batch = 500): Promise<string[]> {
  const services = await freshServices({}, FIXED_NOW);
  await captureWithStage(services, events, concurrent, batch);
  return graphSnapshot(services);
}

describe('order and duplicates do not change the graph', () => {
  it('any permutation with duplicates, sequential or concurrent, gives the reference graph', async () => {
    const reference = await graphOf(STREAM, false);
    expect(reference.length).toBeGreaterThan(15);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(
          STREAM.map((_, i) => i),
          { minLength: STREAM.length, maxLength: STREAM.length },
        ),
        fc.array(fc.integer({ min: 0, max: STREAM.length - 1 }), { maxLength: 6 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        async (order, duplicates, concurrent, batch) => {
          const events = [...order, ...duplicates].map((i) => STREAM[i] as Record<string, unknown>);
          // Duplicates go in at random positions too.
          const stream = fc.sample(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), 1)[0] ?? events;
          expect(await graphOf(stream, concurrent, batch)).toEqual(reference);
        },
      ),
      { numRuns: 12 },
    );
    // Thirteen fresh stores and about 250 captures: 20-30 s on a quiet machine, over 60 s on a busy one.
  }, 180_000);
});

describe('closures kept current by the closure stage equal closures computed from scratch', () => {
  it('for any arrival order and stage batch size, the stage running alongside capture or after it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(
          STREAM.map((_, i) => i),
          { minLength: STREAM.length, maxLength: STREAM.length },
        ),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        async (order, concurrent, batch) => {
          const services = await freshServices({}, FIXED_NOW);
          const events = order.map((i) => STREAM[i] as Record<string, unknown>);
          await captureWithStage(services, events, concurrent, batch);
          const docs = await services.graph.all();
          const out = new Map<string, Array<{ next: string; link: string }>>();
          const inn = new Map<string, Array<{ next: string; link: string }>>();
          for (const d of docs) {
            if (d.docType !== 'edge' || d.dir !== 'out') continue;
            const link = edgeKey(d.from, d.kind, d.to);
            out.set(d.from, [...(out.get(d.from) ?? []), { next: d.to, link }]);
            inn.set(d.to, [...(inn.get(d.to) ?? []), { next: d.from, link }]);
          }
          for (const node of docs.filter((d) => d.docType === 'node')) {
            for (const dir of ['up', 'down'] as const) {
              const expected = closureByBfs(node.id, dir, (n) => (dir === 'up' ? inn.get(n) : out.get(n)) ?? []);
              const stored = await services.graph.closure(node.id, dir);
              const actual = stored ?? { ...expected, members: {}, edges: [] };
              expect({ node: node.label, dir, members: actual.members, edges: actual.edges }).toEqual({
                node: node.label,
                dir,
                members: expected.members,
                edges: expected.edges,
              });
            }
          }
        },
      ),
      { numRuns: 6 },
    );
  }, 180_000); // six fresh stores with the closure stage: over 60 s on a busy machine
});
