import { beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { buildServices } from '../../shared/composition.js';
import type { OperationMessage } from '../../shared/store/operationStore.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { runOperation, startOperation, waitForOperation, type OperationDeps } from '../../shared/operations/operations.js';
import { replay } from '../../shared/usecases/replay.js';
import { modelRegistered } from '../helpers/events.js';
import { freshServices } from '../helpers/stores.js';

/**
 * Long operations over real stores (Cosmos DB, Blob and Queue on Azurite): the record a start
 * writes, the message it queues, the worker's outcome on first, repeated and last deliveries.
 * The local host's queue trigger running them is tested end to end (test/e2e/api/operations).
 */
let services: Services;
let deps: OperationDeps;
const logs: string[] = [];
const delivery = (dequeueCount = 1, maxAttempts = 3) => ({ dequeueCount, maxAttempts, log: (line: string) => logs.push(line) });

beforeAll(async () => {
  services = await freshServices();
  deps = services.operations;
  for (const v of [1, 2, 3]) expect((await captureEvent(services.capture, modelRegistered('ops-model', v))).status).toBe('projected');
});

async function queued(): Promise<OperationMessage[]> {
  const peeked = await deps.queue.client.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as OperationMessage);
}

describe('operations', () => {
  it('start records the operation as queued and queues a message naming it', async () => {
    const op = await startOperation(deps, 'replay', { events: false, deadLetters: true });
    expect(op).toMatchObject({ kind: 'replay', state: 'queued', attempts: 0, request: { events: false, deadLetters: true } });
    expect(await deps.operations.get(op.id)).toEqual(op);
    expect(await queued()).toContainEqual({ kind: 'operation', id: op.id });
  });

  it('the worker runs a replay to the same report a direct replay gives, and a second delivery changes nothing', async () => {
    const op = await startOperation(deps, 'replay', { events: true, deadLetters: false });
    await runOperation(deps, op.id, delivery());
    const done = await deps.operations.get(op.id);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(done?.finishedAt).toBeDefined();
    expect(done?.result).toEqual(await replay(services.capture, { events: true, deadLetters: false }));
    expect((done?.result as { events: { replayed: number } }).events.replayed).toBe(3);

    await runOperation(deps, op.id, delivery(2));
    expect(await deps.operations.get(op.id)).toEqual(done);
  });

  it('a redelivery after a worker died mid-run runs the work again and counts the attempt', async () => {
    const op = await startOperation(deps, 'compliance-run', { mode: 'incremental', checks: ['lineage'] });
    // What a worker recycled mid-run leaves behind: the record says running, the message comes back.
    await deps.operations.put({ ...op, state: 'running', attempts: 1, startedAt: op.createdAt, progress: { done: 7, unit: 'events' } });
    await runOperation(deps, op.id, delivery(2));
    const done = await deps.operations.get(op.id);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 2, startedAt: op.createdAt });
    expect(done?.progress).toBeUndefined();
    expect(done?.result).toMatchObject({ checksRun: ['lineage'], trigger: 'http:compliance/run', mode: 'incremental' });
  });

  it('a request the worker cannot run fails at once with problem details, without a retry', async () => {
    const op = await startOperation(deps, 'replay', { events: true, deadLetters: false });
    await deps.operations.put({ ...op, request: { events: 'all' } });
    await runOperation(deps, op.id, delivery(1));
    const failed = await deps.operations.get(op.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1, error: { status: 400, code: 'invalid-request' } });
    expect(failed?.error?.detail).toMatch(/events/);
  });

  it('a store failure is thrown for the queue to deliver again, and recorded as failed on the last delivery', async () => {
    // The raw event log in a database that does not exist: Cosmos answers 404 to the replay's scan.
    const broken = await buildServices({ ...services.settings, COSMOS_DATABASE: `${services.settings.COSMOS_DATABASE}-missing` });
    const brokenDeps: OperationDeps = { ...deps, capture: broken.capture };
    const op = await startOperation(deps, 'replay', { events: true, deadLetters: false });

    await expect(runOperation(brokenDeps, op.id, delivery(1, 2))).rejects.toThrow();
    const retrying = await deps.operations.get(op.id);
    expect(retrying).toMatchObject({ state: 'running', attempts: 1 });
    expect(retrying?.lastError).toBeTruthy();

    await runOperation(brokenDeps, op.id, delivery(2, 2));
    const failed = await deps.operations.get(op.id);
    expect(failed).toMatchObject({ state: 'failed', attempts: 2 });
    expect(failed?.error?.status).toBeGreaterThanOrEqual(500);
    expect(logs.some((l) => l.includes(op.id) && l.includes('failed'))).toBe(true);
  });

  it('wait returns as soon as the operation finishes, or as it stands when the time is up', async () => {
    const op = await startOperation(deps, 'replay', { events: false, deadLetters: false });
    const stillQueued = await waitForOperation(deps.operations, op, 0.3);
    expect(stillQueued.state).toBe('queued');

    const waiting = waitForOperation(deps.operations, op, 20);
    await runOperation(deps, op.id, delivery());
    const started = Date.now();
    expect((await waiting).state).toBe('succeeded');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('an operation unknown to the store is logged and left alone', async () => {
    await runOperation(deps, '00000000-0000-4000-8000-000000000000', delivery());
    expect(logs).toContain('operation 00000000-0000-4000-8000-000000000000: no record; nothing to run');
  });
});
