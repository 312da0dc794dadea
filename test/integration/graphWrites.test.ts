import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { namedResource, nodeId, parseWorkspaceId, versionedAsset, type NodeRef } from '../../shared/graph/keys.js';
import { assertedNode, edgePair } from '../../shared/graph/merge.js';
import type { GraphDoc, NodeDoc, Provenance } from '../../shared/graph/model.js';
import { BATCH_MAX_OPERATIONS, GraphWriter } from '../../shared/store/graphWrites.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { WS } from '../helpers/fixtures.js';
import { modelDeployed } from '../helpers/events.js';
import { graphSnapshot } from '../helpers/graph.js';
import { cosmosContainers, freshServices } from '../helpers/stores.js';

/**
 * The capture write path against the embedded Cosmos DB server through the real SDK: point reads
 * (all in flight) fetch what an event touches, one transactional batch per partition writes what changed.
 */
let services: Services;
beforeEach(async () => {
  services = await freshServices();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const ws = parseWorkspaceId(WS)!;
const prov = (n: number): Provenance => ({
  source: 'test',
  eventId: `e${n}`,
  eventType: 'test',
  eventTime: `2024-01-0${n}T00:00:00Z`,
  instant: `2024-01-0${n}T00:00:00.000000000Z`,
  hash: `sha256:${String(n).repeat(64)}`,
  learnedAt: `2024-01-0${n}T00:00:00.000Z`,
});
const idOf = (ref: NodeRef) => nodeId(ref.kind, ref.key);

/** Requests the meter counted while `run` ran, by operation. */
async function requestsOf(run: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = new Map(services.meter.byOperation);
  await run();
  return Object.fromEntries(
    [...services.meter.byOperation].map(([op, n]) => [op, n - (before.get(op) ?? 0)]).filter(([, n]) => (n as number) > 0),
  ) as Record<string, number>;
}

describe('writing an event’s graph documents', () => {
  it('costs the log append, a point read per document, and one write per partition that changed; delivered again, the append and the reads', async () => {
    const event = modelDeployed('svc', 'credit:1,credit:2');
    const first = await requestsOf(() => captureEvent(services.capture, event));
    // The deployment with its `out` links, each model (a placeholder) with its `in` link: a
    // partition of several documents is one batch, a partition of one a plain create.
    const perPartition = new Map<string, number>();
    const touched = await services.graph.all();
    for (const doc of touched) perPartition.set(doc.pk, (perPartition.get(doc.pk) ?? 0) + 1);
    const batches = [...perPartition.values()].filter((n) => n > 1).length;
    expect(batches).toBeGreaterThanOrEqual(3);
    const singles = perPartition.size - batches;
    // Every document was absent: each read answers 404.
    expect(first).toEqual({ create: 1 + singles, 'read 404': touched.length, batch: batches });

    const before = await graphSnapshot(services);
    const again = await requestsOf(() => captureEvent(services.capture, structuredClone(event)));
    expect(again).toEqual({ 'create 409': 1, read: touched.length });
    expect(await graphSnapshot(services)).toEqual(before);
  });

  it('a partition with more documents than one batch holds is written in as many batches, every document landing', async () => {
    const job = namedResource(ws, 'jobs', 'wide');
    const models = Array.from({ length: 150 }, (_, i) => versionedAsset(ws, 'models', 'wide', String(i + 1)));
    // The job and its 150 `out` links share the job's partition: 151 documents, two batches.
    const writes: GraphDoc[] = [assertedNode(job, { status: 'Completed' }, undefined, prov(1))];
    for (const model of models) writes.push(edgePair('produced', job, model, undefined, prov(1))[0]);
    const meter = new StoreMeter();
    const writer = new GraphWriter((await cosmosContainers(services)).graph, meter);
    const results = await writer.write(writes.map((doc) => ({ doc, ensure: false })));
    expect(results.every((r) => r === 'created')).toBe(true);
    expect(meter.byOperation.get('batch')).toBe(Math.ceil(writes.length / BATCH_MAX_OPERATIONS));
    expect((await services.graph.all()).filter((d) => d.pk === idOf(job))).toHaveLength(151);

    // Written again, nothing changed: the reads alone.
    const again = new StoreMeter();
    const unchanged = await new GraphWriter((await cosmosContainers(services)).graph, again).write(
      writes.map((doc) => ({ doc, ensure: false })),
    );
    expect(unchanged.every((r) => r === 'unchanged')).toBe(true);
    expect([...again.byOperation]).toEqual([['read', writes.length]]);
  });

  it('a batch that loses a race to another writer (412) reads again and joins into its version: no fact is lost', async () => {
    const job = namedResource(ws, 'jobs', 'raced');
    const data = versionedAsset(ws, 'data', 'raced', '1');
    const { graph } = await cosmosContainers(services);
    const store = new GraphWriter(graph, new StoreMeter());
    await store.write([{ doc: assertedNode(job, { status: 'Running' }, undefined, prov(1)), ensure: false }]);

    // Another writer stores a fact of its own between this writer's read and its batch: the
    // interleaving is forced by running that write first when the batch is sent; the server's
    // answer (412 for the stale ETag) is real.
    const batch = graph.items.batch.bind(graph.items);
    const spy = vi.spyOn(graph.items, 'batch').mockImplementationOnce(async (...args) => {
      await new GraphWriter(graph, new StoreMeter()).write([
        { doc: assertedNode(job, { owner: 'team-a' }, undefined, prov(2)), ensure: false },
      ]);
      return batch(...args);
    });
    const [node, link] = [
      assertedNode(job, { status: 'Completed' }, undefined, prov(3)),
      edgePair('inputOf', job, data, undefined, prov(3))[0],
    ];
    expect(await store.write([node, link].map((doc) => ({ doc, ensure: false })))).toEqual(['updated', 'created']);
    expect(spy).toHaveBeenCalledTimes(2);

    const stored = (await services.graph.readNode(idOf(job))) as NodeDoc;
    expect(stored.facts.status?.value).toBe('Completed');
    expect(stored.facts.owner?.value).toBe('team-a');
    expect(stored.provenance.map((p) => p.eventId).sort()).toEqual(['e1', 'e2', 'e3']);
    expect((await services.graph.all()).filter((d) => d.docType === 'edge')).toHaveLength(1);
  });

  it('mocked batch failure before the service answered: the documents are written one by one, and land', async () => {
    const job = namedResource(ws, 'jobs', 'reset');
    const data = versionedAsset(ws, 'data', 'reset', '1');
    const { graph } = await cosmosContainers(services);
    await new GraphWriter(graph, new StoreMeter()).write([
      { doc: assertedNode(job, { status: 'Running' }, undefined, prov(1)), ensure: false },
    ]);
    const meter = new StoreMeter();
    // What the SDK throws for a batch whose request failed on the wire: a plain error, no status.
    vi.spyOn(graph.items, 'batch').mockImplementationOnce((operations) => {
      // As the SDK does before sending: each operation's partition key rewritten to its wire form.
      for (const o of operations) o.partitionKey = JSON.stringify([o.partitionKey]);
      return Promise.reject(new Error('Batch request error: socket hang up'));
    });
    const docs = [assertedNode(job, { status: 'Completed' }, undefined, prov(2)), edgePair('inputOf', job, data, undefined, prov(2))[0]];
    expect(await new GraphWriter(graph, meter).write(docs.map((doc) => ({ doc, ensure: false })))).toEqual(['updated', 'created']);
    expect(meter.byOperation.get('replace')).toBe(1);
    expect(meter.byOperation.get('create')).toBe(1);
    expect(((await services.graph.readNode(idOf(job))) as NodeDoc).facts.status?.value).toBe('Completed');
    expect((await services.graph.all()).filter((d) => d.pk === idOf(job))).toHaveLength(2);
  });
});
