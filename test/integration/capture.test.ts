import { beforeEach, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { nodeId, parseArmId } from '../../shared/graph/keys.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { contentHash } from '../../shared/util/canonicalJson.js';
import { fixture, firstEvent, WS } from '../helpers/fixtures.js';
import { modelDeployed, modelRegistered, runEvent } from '../helpers/events.js';
import { graphSnapshot } from '../helpers/graph.js';
import { freshServices } from '../helpers/stores.js';

/** Capture against the embedded Cosmos DB server and Azurite, through the real SDKs. */
let services: Services;
beforeEach(async () => {
  services = await freshServices();
});

const modelNodeId = (name: string, version: string) => {
  const ref = parseArmId(`${WS}/models/${name}/versions/${version}`)!;
  return nodeId(ref.kind, ref.key);
};

describe('capturing Azure ML events', () => {
  it('logs the raw event with its content hash before projecting it', async () => {
    const event = modelRegistered('credit', 3);
    const outcome = await captureEvent(services.capture, event);
    expect(outcome).toMatchObject({ status: 'projected', duplicate: false, writes: { created: 1 } });
    const logged = await services.eventLog.get(outcome.hash.replace('sha256:', ''));
    expect(logged?.body).toEqual(event);
    expect(contentHash(logged?.body)).toBe(logged?.hash); // anyone can re-check the hash
    const node = await services.graph.readNode(modelNodeId('credit', '3'));
    expect(node?.facts.tags?.value).toEqual({ team: 'risk' });
    expect(node?.provenance).toEqual([
      expect.objectContaining({ eventId: 'reg-credit-3', hash: outcome.hash, eventTime: '2024-03-01T10:00:00.0000000Z' }),
    ]);
  });

  it('a redelivered event writes nothing new', async () => {
    const event = modelDeployed('svc', 'credit:1,credit:2');
    await captureEvent(services.capture, event);
    const before = await graphSnapshot(services);
    const again = await captureEvent(services.capture, structuredClone(event));
    expect(again).toMatchObject({ status: 'projected', duplicate: true, writes: { created: 0, updated: 0 } });
    expect(await graphSnapshot(services)).toEqual(before);
  });

  it('a deployment that arrives before its model creates a placeholder that the registration completes', async () => {
    await captureEvent(services.capture, modelDeployed('svc', 'credit:3'));
    const placeholder = await services.graph.readNode(modelNodeId('credit', '3'));
    expect(placeholder).toMatchObject({ placeholder: true, facts: {} });

    await captureEvent(services.capture, modelRegistered('credit', 3));
    const completed = await services.graph.readNode(modelNodeId('credit', '3'));
    expect(completed).toMatchObject({ placeholder: false, label: 'credit:3' });
    const edges = await services.graph.edgesOf([modelNodeId('credit', '3')], 'out');
    expect(edges.map((e) => e.kind)).toEqual(['deployedTo']);
  });

  it('a fact from a newer event time is kept even when the older event arrives later', async () => {
    const newer = modelRegistered('credit', 3, { id: 'b', time: '2024-03-01T10:00:00.0000002Z', tags: { stage: 'prod' } });
    const older = modelRegistered('credit', 3, { id: 'a', time: '2024-03-01T10:00:00.0000001Z', tags: { stage: 'dev' } });
    await captureEvent(services.capture, newer);
    await captureEvent(services.capture, older);
    const node = await services.graph.readNode(modelNodeId('credit', '3'));
    expect(node?.facts.tags?.value).toEqual({ stage: 'prod' });
    expect(node?.provenance.map((p) => p.eventId)).toEqual(['a', 'b']);
  });

  it('keeps run status on the job, with its history', async () => {
    await captureEvent(services.capture, runEvent('RunCompleted', 'job-1', { time: '2024-03-01T09:30:00Z' }));
    await captureEvent(services.capture, runEvent('RunStatusChanged', 'job-1', { status: 'running', time: '2024-03-01T09:00:00Z' }));
    const ref = parseArmId(`${WS}/jobs/job-1`)!;
    const job = await services.graph.readNode(nodeId(ref.kind, ref.key));
    expect(job?.facts.status?.value).toBe('Completed');
    expect(job?.series.status?.map((s) => s.value)).toEqual(['Running', 'Completed']);
  });

  it('concurrent events about the same node lose no facts (ETag-guarded merges)', async () => {
    const events = Array.from({ length: 12 }, (_, i) =>
      modelRegistered('credit', 3, { id: `e${i}`, time: `2024-03-01T10:00:${String(i).padStart(2, '0')}Z`, tags: { n: String(i) } }),
    );
    await Promise.all(events.map((e) => captureEvent(services.capture, e)));
    const node = await services.graph.readNode(modelNodeId('credit', '3'));
    expect(node?.provenance).toHaveLength(12);
    expect(node?.facts.tags?.value).toEqual({ n: '11' });
  });

  it('dead-letters an invalid event with a readable reason, keeps it in the raw log, and completes', async () => {
    const bad = modelDeployed('svc', 'credit:1,oops');
    const outcome = await captureEvent(services.capture, bad);
    expect(outcome.status).toBe('dead-lettered');
    if (outcome.status !== 'dead-lettered') return;
    expect(outcome.reason).toContain('data.ModelIds.1');
    expect(outcome.reason).toContain('NAME:VERSION');
    const letters = [];
    for await (const l of services.deadLetters.pending()) letters.push(l.letter);
    expect(letters).toEqual([
      expect.objectContaining({ hash: outcome.hash, reason: outcome.reason, eventId: bad.id, body: bad, attempts: 1 }),
    ]);
    expect(await services.eventLog.get(outcome.hash.replace('sha256:', ''))).toBeDefined();
    expect(await graphSnapshot(services)).toEqual([]);
  });

  it('dead-letters what is not an event at all', async () => {
    const outcome = await captureEvent(services.capture, 'not an event');
    expect(outcome).toMatchObject({ status: 'dead-lettered', reason: expect.stringContaining('not a valid event envelope') });
    expect(await services.deadLetters.countPending()).toBe(1);
  });

  it('keeps unknown event types in the raw log without projecting them', async () => {
    const blob = fixture('azureml-eventgrid/eventgrid-Delivered-EventGridSchema-BlobCreated.json');
    const outcome = await captureEvent(services.capture, blob);
    expect(outcome).toMatchObject({ status: 'ignored', eventType: 'Microsoft.Storage.BlobCreated' });
    expect(await services.eventLog.get(outcome.hash.replace('sha256:', ''))).toBeDefined();
    expect(await graphSnapshot(services)).toEqual([]);
    expect(await services.deadLetters.countPending()).toBe(0);
  });

  it('captures every Azure ML fixture in both schemas', async () => {
    for (const schema of ['eventgrid', 'cloudevents']) {
      for (const type of ['ModelRegistered', 'ModelDeployed', 'RunCompleted', 'RunStatusChanged', 'DatasetDriftDetected']) {
        const outcome = await captureEvent(services.capture, firstEvent(`azureml-eventgrid/${schema}-${type}.json`));
        expect(outcome.status, `${schema}-${type}`).toBe('projected');
      }
    }
    const kinds = new Set(
      (await services.graph.all()).filter((d) => d.docType === 'node').map((d) => (d.docType === 'node' ? d.kind : '')),
    );
    expect([...kinds].sort()).toEqual(['dataset', 'drift', 'job', 'model', 'service']);
  });
});

describe('personal data and secrets are redacted at ingest', () => {
  it('nothing stored holds the value; equal values hash alike; near misses stay', async () => {
    const a = modelRegistered('credit', 11, {
      id: 'pii-a',
      tags: {
        owner: 'jane.doe@contoso.com',
        sas: 'https://acct.blob.core.windows.net/c/m.pkl?sv=2022-11-02&sp=r&se=2030-01-01&sig=AbCdEfGhIjKlMnOpQrSt%2B',
      },
    });
    const b = modelRegistered('credit', 12, { id: 'pii-b', tags: { owner: 'jane.doe@contoso.com', release: '1.2.3.4' } });
    await captureEvent(services.capture, a);
    await captureEvent(services.capture, b);
    const stored: string[] = [];
    for await (const r of services.eventLog.scan()) stored.push(JSON.stringify(r));
    stored.push(...(await graphSnapshot(services)));
    const text = stored.join('\n');
    expect(text).not.toContain('jane.doe');
    expect(text).not.toContain('AbCdEfGhIjKlMnOpQrSt');
    const node11 = await services.graph.readNode(modelNodeId('credit', '11'));
    const node12 = await services.graph.readNode(modelNodeId('credit', '12'));
    const tags11 = node11?.facts.tags?.value as Record<string, string>;
    const tags12 = node12?.facts.tags?.value as Record<string, string>;
    // owner names a person: an identity field, so a keyed hash with the value sealed in the identity vault.
    expect(tags11.owner).toMatch(/^identity:[0-9a-f]{24}$/);
    expect(tags12.owner).toBe(tags11.owner);
    expect(tags12.release).toBe('1.2.3.4');
  });
});
