import { beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { createCosmosClient, CONTAINERS } from '../../shared/store/cosmosClient.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { replay } from '../../shared/usecases/replay.js';
import { letterName } from '../../shared/store/deadLetters.js';
import { maintainClosures, rebuildClosures } from '../../shared/usecases/closures.js';
import { contentHash } from '../../shared/util/canonicalJson.js';
import { driftDetected, modelDeployed, modelRegistered, runEvent } from '../helpers/events.js';
import { graphSnapshot } from '../helpers/graph.js';
import { freshServices } from '../helpers/stores.js';

let services: Services;
beforeEach(async () => {
  services = await freshServices();
});

async function wipeGraph(): Promise<void> {
  const client = await createCosmosClient(services.settings);
  const db = client.database(services.settings.COSMOS_DATABASE);
  await db.container(CONTAINERS.graph).delete();
  await db.containers.createIfNotExists({ id: CONTAINERS.graph, partitionKey: { paths: ['/pk'] } });
  client.dispose();
}

describe('replay', () => {
  it('rebuilds the identical graph from the raw event log', async () => {
    const events = [
      runEvent('RunCompleted', 'train-1', { git: true }),
      modelRegistered('credit', 3),
      modelDeployed('svc', 'credit:3,credit:2'),
      driftDetected('mon-1', 'mon-1_1'),
      modelDeployed('svc', 'credit:1,oops'), // refused: stays a dead letter
    ];
    for (const e of events) await captureEvent(services.capture, e);
    const before = await graphSnapshot(services);
    expect(before.length).toBeGreaterThan(10);

    await wipeGraph();
    expect(await graphSnapshot(services)).toEqual([]);
    const report = await replay(services.capture);
    expect(report.events).toEqual({ replayed: 5, projected: 4, ignored: 0, deadLettered: 1, integrityFailures: 0 });
    expect(report.deadLetters).toEqual({ retried: 1, resolved: 0, stillFailing: 1 });
    expect(await graphSnapshot(services)).toEqual(before);
  });

  it('re-processes dead letters after a fix and moves the ones that now project to resolved/', async () => {
    // A letter written by an older version that refused this (valid) event, e.g. before a rule was relaxed.
    const event = modelRegistered('credit', 7);
    await services.deadLetters.put({
      hash: contentHash(event),
      channel: 'eventgrid',
      receivedAt: '2024-03-01T00:00:00.000Z',
      reason: 'refused by an older version',
      issues: [{ path: 'data', message: 'old rule' }],
      body: event,
    });
    const stillBad = modelDeployed('svc', 'nope');
    await captureEvent(services.capture, stillBad);
    expect(await services.deadLetters.countPending()).toBe(2);

    const report = await replay(services.capture, { events: false });
    expect(report.deadLetters).toEqual({ retried: 2, resolved: 1, stillFailing: 1 });
    expect(await services.deadLetters.countPending()).toBe(1);
    const [remaining] = await (async () => {
      const out = [];
      for await (const l of services.deadLetters.pending()) out.push(l.letter);
      return out;
    })();
    expect(remaining).toMatchObject({ eventId: stillBad.id, attempts: 2 });
    const resolved = await services.deadLetters.read(letterName('resolved', 'eventgrid', contentHash(event)));
    expect(resolved).toMatchObject({ reason: 'refused by an older version', resolvedAt: expect.any(String) });
    expect((await services.graph.all()).some((d) => d.docType === 'node' && d.label === 'credit:7')).toBe(true);
  });

  it('refuses an event whose stored body does not hash to its id: dead-lettered as an integrity failure, never logged again', async () => {
    const honest = modelRegistered('credit', 3);
    const { hash } = await captureEvent(services.capture, honest);
    const id = hash.slice(7);
    // An insider rewrites the stored body under its original id.
    const events = (await createCosmosClient(services.settings)).database(services.settings.COSMOS_DATABASE).container(CONTAINERS.events);
    const { resource } = await events.item(id, id).read<{ body: { data: { ModelName: string } } }>();
    const forged = { ...resource, body: { ...resource?.body, data: { ...resource?.body.data, ModelName: 'credix' } } };
    await events.item(id, id).replace(forged);
    await wipeGraph();

    const report = await replay(services.capture);
    expect(report.events).toMatchObject({ replayed: 1, projected: 0, integrityFailures: 1 });
    // Not projected, and not logged again under the forged content's hash.
    expect(await services.graph.all()).toEqual([]);
    expect(await services.eventLog.get(contentHash(forged.body).slice(7))).toBeUndefined();
    const letter = await services.deadLetters.read(letterName('pending', 'eventgrid', hash));
    expect(letter).toMatchObject({ hash, integrityFailure: true, reason: expect.stringMatching(/^Integrity failure/) });

    // Replaying the dead letters never lets it through either.
    const again = await replay(services.capture);
    expect(again.deadLetters).toMatchObject({ retried: 1, resolved: 0, stillFailing: 1 });
    expect(await services.eventLog.get(contentHash(forged.body).slice(7))).toBeUndefined();
  });

  it('is safe to run twice', async () => {
    await captureEvent(services.capture, modelDeployed('svc', 'credit:3'));
    await replay(services.capture);
    const once = await graphSnapshot(services);
    await replay(services.capture);
    expect(await graphSnapshot(services)).toEqual(once);
  });
});

describe('closure migration', () => {
  it('rebuilds closures from stored links, equal to those the closure stage keeps', async () => {
    for (const e of [
      runEvent('RunCompleted', 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5', { git: true }),
      modelDeployed('svc', 'credit:3,credit:2'),
      driftDetected('mon-1', 'mon-1_1'),
    ]) {
      await captureEvent(services.capture, e);
    }
    expect((await maintainClosures(services.graph)).links).toBeGreaterThan(0);
    const docs = await services.graph.all();
    const nodes = docs.filter((d) => d.docType === 'node');
    const before = await Promise.all(nodes.flatMap((n) => [services.graph.closure(n.id, 'up'), services.graph.closure(n.id, 'down')]));
    expect(await rebuildClosures(services.graph)).toBe(nodes.length * 2);
    const after = await Promise.all(nodes.flatMap((n) => [services.graph.closure(n.id, 'up'), services.graph.closure(n.id, 'down')]));
    before.forEach((c, i) => {
      // A node no link touched in a direction has no closure there (an empty one); rebuilt, it is empty.
      if (c) expect(after[i]).toEqual(c);
      else expect(after[i]).toMatchObject({ members: {}, edges: [] });
    });
    // The stage wrote a closure for each end of each link, in the link's direction.
    const linked = new Set(docs.flatMap((d) => (d.docType === 'edge' && d.dir === 'out' ? [`${d.from}|down`, `${d.to}|up`] : [])));
    expect(before.filter(Boolean).length).toBe(linked.size);
  });
});
