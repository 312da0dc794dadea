import type { OperationInput, OperationResponse } from '@azure/cosmos';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { namedResource, nodeId, parseWorkspaceId, versionedAsset, type NodeRef } from '../../shared/graph/keys.js';
import { assertedNode, edgePair } from '../../shared/graph/merge.js';
import type { GraphDoc, NodeDoc, Provenance } from '../../shared/graph/model.js';
import { TransientStoreError } from '../../shared/errors.js';
import { GraphWriter } from '../../shared/store/graphWrites.js';
import { BULK_MAX_OPERATIONS } from '../../shared/store/reads.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { WS } from '../helpers/fixtures.js';
import { modelDeployed } from '../helpers/events.js';
import { graphSnapshot } from '../helpers/graph.js';
import { cosmosContainers, freshServices } from '../helpers/stores.js';

/**
 * The capture write path against the embedded Cosmos DB server through the real SDK: one bulk read
 * fetches what an event touches, one bulk call writes what changed, whatever partitions it is in.
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
async function requestsOf(run: () => Promise<unknown>, meter = services.meter): Promise<Record<string, number>> {
  const before = new Map(meter.byOperation);
  await run();
  return Object.fromEntries(
    [...meter.byOperation].map(([op, n]) => [op, n - (before.get(op) ?? 0)]).filter(([, n]) => (n as number) > 0),
  ) as Record<string, number>;
}

/** Without the one-off metadata reads the SDK makes before a client's first bulk call to a container. */
function withoutMetadata(requests: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(requests).filter(([op]) => !op.startsWith('metadata ')));
}

/** A job reading three datasets: the job and its `out` links in its partition, each link's `in` copy in its dataset's. */
function jobReading(name: string, n: number): GraphDoc[] {
  const job = namedResource(ws, 'jobs', name);
  const docs: GraphDoc[] = [assertedNode(job, { status: 'Completed' }, undefined, prov(n))];
  for (const d of ['a', 'b', 'c'])
    docs.push(...edgePair('inputOf', job, versionedAsset(ws, 'data', `${name}-${d}`, '1'), undefined, prov(n)));
  return docs;
}

const isWrite = (operations: readonly OperationInput[]) => operations.some((o) => o.operationType !== 'Read');

describe('writing an event’s graph documents', () => {
  it('costs the log append, one bulk read and one bulk write, whatever partitions it touches; delivered again, the append and the read', async () => {
    const event = modelDeployed('svc', 'credit:1,credit:2');
    const first = await requestsOf(() => captureEvent(services.capture, event));
    const touched = await services.graph.all();
    // The deployment with its `out` links, each model (a placeholder) with its `in` link: three partitions.
    expect(new Set(touched.map((d) => d.pk)).size).toBeGreaterThanOrEqual(3);
    expect(withoutMetadata(first)).toEqual({ create: 1, 'bulk read': 1, 'bulk write': 1 });
    // The client's first bulk call to the container looked up its partition key ranges, once.
    expect(first['metadata pkranges']).toBe(1);

    const before = await graphSnapshot(services);
    const again = await requestsOf(() => captureEvent(services.capture, structuredClone(event)));
    expect(again).toEqual({ 'create 409': 1, 'bulk read': 1 });
    expect(await graphSnapshot(services)).toEqual(before);

    // Another event, the metadata cached: three requests in all.
    expect(await requestsOf(() => captureEvent(services.capture, modelDeployed('svc2', 'credit:3')))).toEqual({
      create: 1,
      'bulk read': 1,
      'bulk write': 1,
    });
  });

  it('an event touching more documents than one bulk call takes is read and written in as many calls, every document landing', async () => {
    const job = namedResource(ws, 'jobs', 'wide');
    const models = Array.from({ length: 150 }, (_, i) => versionedAsset(ws, 'models', 'wide', String(i + 1)));
    // The job, its 150 `out` links and their 150 `in` copies: 301 documents, four calls each way.
    const writes: GraphDoc[] = [assertedNode(job, { status: 'Completed' }, undefined, prov(1))];
    for (const model of models) writes.push(...edgePair('produced', job, model, undefined, prov(1)));
    const meter = new StoreMeter();
    const writer = new GraphWriter((await cosmosContainers(services)).graph, meter);
    const requests = await requestsOf(() => writer.write(writes.map((doc) => ({ doc, ensure: false }))), meter);
    const calls = Math.ceil(writes.length / BULK_MAX_OPERATIONS);
    expect(withoutMetadata(requests)).toEqual({ 'bulk read': calls, 'bulk write': calls });
    expect((await services.graph.all()).filter((d) => d.pk === idOf(job))).toHaveLength(151);
    expect(await services.graph.all()).toHaveLength(writes.length);

    // Written again, nothing changed: the reads alone.
    const unchanged = await requestsOf(async () => {
      const results = await writer.write(writes.map((doc) => ({ doc, ensure: false })));
      expect(results.every((r) => r === 'unchanged')).toBe(true);
    }, meter);
    expect(unchanged).toEqual({ 'bulk read': calls });
  });

  it('a write that loses a race to another writer (412) reads that document again and joins into its version: no fact is lost', async () => {
    const job = namedResource(ws, 'jobs', 'raced');
    const data = versionedAsset(ws, 'data', 'raced', '1');
    const { graph } = await cosmosContainers(services);
    const store = new GraphWriter(graph, new StoreMeter());
    await store.write([{ doc: assertedNode(job, { status: 'Running' }, undefined, prov(1)), ensure: false }]);

    // Another writer stores a fact of its own between this writer's read and its write: the
    // interleaving is forced by running that write first when the bulk write is sent; the
    // server's answer (412 for the stale ETag) is real.
    const bulk = graph.items.bulk.bind(graph.items);
    let raced = false;
    const writeCalls: OperationInput[][] = [];
    vi.spyOn(graph.items, 'bulk').mockImplementation(async (operations, ...rest) => {
      if (isWrite(operations)) {
        writeCalls.push(structuredClone(operations));
        if (!raced) {
          raced = true;
          await new GraphWriter(graph, new StoreMeter()).write([
            { doc: assertedNode(job, { owner: 'team-a' }, undefined, prov(2)), ensure: false },
          ]);
        }
      }
      return bulk(operations, ...rest);
    });
    const [node, out, inCopy] = [
      assertedNode(job, { status: 'Completed' }, undefined, prov(3)),
      ...edgePair('inputOf', job, data, undefined, prov(3)),
    ];
    expect(await store.write([node, out, inCopy].map((doc) => ({ doc, ensure: false })))).toEqual(['updated', 'created', 'created']);
    // This writer's three documents, the other writer's node, then only the document that lost
    // (this writer's links landed in its first write).
    expect(writeCalls.map((ops) => ops.map((o) => o.operationType))).toEqual([['Replace', 'Create', 'Create'], ['Replace'], ['Replace']]);

    const stored = (await services.graph.readNode(idOf(job))) as NodeDoc;
    expect(stored.facts.status?.value).toBe('Completed');
    expect(stored.facts.owner?.value).toBe('team-a');
    expect(stored.provenance.map((p) => p.eventId).sort()).toEqual(['e1', 'e2', 'e3']);
    expect((await services.graph.all()).filter((d) => d.docType === 'edge')).toHaveLength(2);
  });

  it('mocked bulk failure before the service answered: the documents are written one by one, and land', async () => {
    const job = namedResource(ws, 'jobs', 'reset');
    const data = versionedAsset(ws, 'data', 'reset', '1');
    const { graph } = await cosmosContainers(services);
    await new GraphWriter(graph, new StoreMeter()).write([
      { doc: assertedNode(job, { status: 'Running' }, undefined, prov(1)), ensure: false },
    ]);
    const meter = new StoreMeter();
    // What the SDK throws for a bulk call whose request failed on the wire: a plain error, no status.
    const bulk = graph.items.bulk.bind(graph.items);
    vi.spyOn(graph.items, 'bulk').mockImplementation((operations, ...rest) =>
      isWrite(operations) ? Promise.reject(new Error('Bulk request errored with: socket hang up')) : bulk(operations, ...rest),
    );
    const docs = [assertedNode(job, { status: 'Completed' }, undefined, prov(2)), edgePair('inputOf', job, data, undefined, prov(2))[0]];
    expect(await new GraphWriter(graph, meter).write(docs.map((doc) => ({ doc, ensure: false })))).toEqual(['updated', 'created']);
    expect(meter.byOperation.get('replace')).toBe(1);
    expect(meter.byOperation.get('create')).toBe(1);
    expect(((await services.graph.readNode(idOf(job))) as NodeDoc).facts.status?.value).toBe('Completed');
    expect((await services.graph.all()).filter((d) => d.pk === idOf(job))).toHaveLength(2);
  });

  it('mocked per-operation throttling (429) in a bulk answer: that read and that write are done again on their own, never dropped', async () => {
    const { graph } = await cosmosContainers(services);
    const docs = jobReading('throttled', 1);
    const bulk = graph.items.bulk.bind(graph.items);
    // The service answers each operation of a bulk request on its own; a throttled one comes back
    // 429 without having been done. Here the second operation of every bulk call is not sent and
    // answered so.
    vi.spyOn(graph.items, 'bulk').mockImplementation(async (operations, ...rest) => {
      const answered = await bulk([operations[0] as OperationInput, ...operations.slice(2)], ...rest);
      const throttled: OperationResponse = { statusCode: 429, requestCharge: 0 };
      return Object.assign([answered[0] as OperationResponse, throttled, ...answered.slice(1)], { diagnostics: answered.diagnostics });
    });
    const meter = new StoreMeter();
    expect(await new GraphWriter(graph, meter).write(docs.map((doc) => ({ doc, ensure: false })))).toEqual(docs.map(() => 'created'));
    expect(meter.byOperation.get('read 404')).toBe(1);
    expect(meter.byOperation.get('create')).toBe(1);
    vi.restoreAllMocks();
    const clean = await freshServices();
    await new GraphWriter((await cosmosContainers(clean)).graph, new StoreMeter()).write(docs.map((doc) => ({ doc, ensure: false })));
    expect(await graphSnapshot(services)).toEqual(await graphSnapshot(clean));
  });

  it('mocked crash halfway through a bulk write: the event fails, part of it stored; redelivered, the graph is the one a clean write gives', async () => {
    const { graph } = await cosmosContainers(services);
    const docs = jobReading('halfway', 1);
    const clean = await freshServices();
    await new GraphWriter((await cosmosContainers(clean)).graph, new StoreMeter()).write(docs.map((doc) => ({ doc, ensure: false })));

    // The bulk write applies its first three operations and the call then fails; writing the rest
    // one by one fails too (the store went away), so the event fails as the platform sees it.
    const bulk = graph.items.bulk.bind(graph.items);
    vi.spyOn(graph.items, 'bulk').mockImplementation(async (operations, ...rest) => {
      if (!isWrite(operations)) return bulk(operations, ...rest);
      await bulk(operations.slice(0, 3), ...rest);
      throw new Error('Bulk request errored with: socket hang up');
    });
    vi.spyOn(graph.items, 'create').mockRejectedValue(Object.assign(new Error('Service Unavailable'), { code: 503 }));
    await expect(new GraphWriter(graph, new StoreMeter()).write(docs.map((doc) => ({ doc, ensure: false })))).rejects.toBeInstanceOf(
      TransientStoreError,
    );
    expect(await services.graph.all()).toHaveLength(3);
    vi.restoreAllMocks();

    // The redelivery: what landed joins to itself, the rest is written.
    const results = await new GraphWriter(graph, new StoreMeter()).write(docs.map((doc) => ({ doc, ensure: false })));
    expect(results.filter((r) => r === 'unchanged')).toHaveLength(3);
    expect(results.filter((r) => r === 'created')).toHaveLength(docs.length - 3);
    expect(await graphSnapshot(services)).toEqual(await graphSnapshot(clean));
  });

  it('property, mocked crash: a write that crashed after any number of its bulk operations, creates and replaces alike, converges on redelivery to the graph a clean write gives', async () => {
    // A first event, then a second touching some of the same documents (replaces) and new ones (creates).
    const before = [...jobReading('prop-a', 1), ...jobReading('prop-b', 1)];
    const event = [...jobReading('prop-a', 2), ...jobReading('prop-c', 2)];
    const clean = await freshServices();
    const cleanGraph = (await cosmosContainers(clean)).graph;
    await new GraphWriter(cleanGraph, new StoreMeter()).write(before.map((doc) => ({ doc, ensure: false })));
    await new GraphWriter(cleanGraph, new StoreMeter()).write(event.map((doc) => ({ doc, ensure: false })));
    const reference = await graphSnapshot(clean);

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: event.length }),
        fc.array(fc.integer({ min: 0, max: event.length - 1 }), { maxLength: 3 }),
        async (landed, shuffle) => {
          const run = await freshServices();
          const { graph: target } = await cosmosContainers(run);
          await new GraphWriter(target, new StoreMeter()).write(before.map((doc) => ({ doc, ensure: false })));
          // The event's documents in another order each run, so a different mix of creates and replaces lands.
          const docs = [...event];
          for (const i of shuffle) docs.push(...docs.splice(i, 1));
          const bulk = target.items.bulk.bind(target.items);
          const unavailable = Object.assign(new Error('Service Unavailable'), { code: 503 });
          vi.spyOn(target.items, 'bulk').mockImplementation(async (operations, ...rest) => {
            if (!isWrite(operations)) return bulk(operations, ...rest);
            if (landed > 0) await bulk(operations.slice(0, landed), ...rest);
            throw new Error('Bulk request errored with: socket hang up');
          });
          vi.spyOn(target.items, 'create').mockRejectedValue(unavailable);
          const item = target.item.bind(target);
          vi.spyOn(target, 'item').mockImplementation((id, pk) =>
            Object.assign(item(id, pk), { replace: () => Promise.reject(unavailable) }),
          );
          await expect(new GraphWriter(target, new StoreMeter()).write(docs.map((doc) => ({ doc, ensure: false })))).rejects.toBeInstanceOf(
            TransientStoreError,
          );
          vi.restoreAllMocks();
          await new GraphWriter(target, new StoreMeter()).write(docs.map((doc) => ({ doc, ensure: false })));
          expect(await graphSnapshot(run)).toEqual(reference);
        },
      ),
      { numRuns: 8 },
    );
  });
});
