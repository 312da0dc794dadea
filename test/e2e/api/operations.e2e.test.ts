import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { reportSchema } from '../../../shared/compliance/report.js';
import { buildServices } from '../../../shared/composition.js';
import { loadSettings } from '../../../shared/config.js';
import { operationSchema, type Operation } from '../../../shared/store/operationStore.js';
import { contentHash } from '../../../shared/util/canonicalJson.js';
import { modelRegistered } from '../../helpers/events.js';
import { spawnHost, type SpawnedHost } from '../../helpers/localHost.js';
import { until } from '../../helpers/until.js';
import { ADMIN, AS, expectInvalidParameter, expectOk, expectProblem, startApi, withSampleApi, type Api } from './harness.js';

/**
 * Long operations through the local host: POST answers 202 with a Location, GET
 * /api/operations/{id} reports the run the queue-triggered worker does, `?wait` answers as the
 * synchronous route did, and a worker killed mid-run leaves the message for the next worker.
 */
let api: Api;
withSampleApi((started) => (api = started));

const RUN = '/api/compliance/run';
const operation = async (location: string): Promise<Operation> =>
  expectOk(await api.get(new URL(location).pathname, {}, ADMIN), operationSchema);

describe('202 and polling', () => {
  it('a compliance run answers 202 with Location and Retry-After; the operation reports the run, as latest does', async () => {
    const res = await api.post(RUN, JSON.stringify({ checks: ['lineage'] }), ADMIN);
    expect(res.status, res.text).toBe(202);
    expect(res.headers.get('retry-after')).toBe('2');
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`^${api.host.url}/api/operations/[0-9a-f-]{36}$`));
    const accepted = operationSchema.parse(res.body);
    expect(accepted).toMatchObject({ kind: 'compliance-run', state: 'queued', attempts: 0, request: { checks: ['lineage'] } });
    expect(location.endsWith(accepted.id)).toBe(true);

    const done = await until(
      'the run to finish',
      () => operation(location),
      (op) => op.state === 'succeeded' || op.state === 'failed',
    );
    expect(done).toMatchObject({ id: accepted.id, state: 'succeeded', attempts: 1 });
    const report = reportSchema.parse(done.result);
    expect(report.checksRun).toEqual(['lineage']);
    const latest = expectOk(await api.get('/api/compliance/latest', {}, ADMIN), reportSchema);
    expect(latest.runId).toBe(report.runId);
  });

  it('?wait answers with the result when the operation finishes in time', async () => {
    const res = await api.request('POST', '/api/replay', { wait: '200' }, { ...ADMIN, body: JSON.stringify({ events: false }) });
    const report = expectOk(res, z.object({ events: z.object({ replayed: z.number() }), deadLetters: z.object({ retried: z.number() }) }));
    expect(report.events.replayed).toBe(0);
  });

  it('?wait is a whole number of seconds up to 200', async () => {
    for (const wait of ['201', '-1', '1.5', 'soon'])
      expectInvalidParameter(await api.request('POST', RUN, { wait }, { ...ADMIN, body: '{}' }), 'wait');
  });

  it('an unknown operation is 404, a malformed id 400; the status route needs Lineage.Admin', async () => {
    expectProblem(await api.get(`/api/operations/${randomUUID()}`, {}, ADMIN), 404, 'not-found');
    expectInvalidParameter(await api.get('/api/operations/not-an-id', {}, ADMIN), 'id');
    expectProblem(await api.get(`/api/operations/${randomUUID()}`, {}, { key: 'function' }), 403, 'forbidden'); // no Lineage.Admin
    expectProblem(await api.get(`/api/operations/${randomUUID()}`, {}, { key: 'function', principal: AS.adminOfOther }), 403, 'forbidden');
  });
});

describe('without App Service authentication', () => {
  it('the admin key opens admin routes and polls their operations; a function key does not, whatever principal it shows', async () => {
    const plain = await startApi({ WEBSITE_AUTH_ENABLED: '' });
    try {
      expect((await plain.post('/api/replay', '{}', { key: 'function', principal: AS.admin })).status).toBe(401);
      const accepted = await plain.post('/api/replay', JSON.stringify({ events: false, deadLetters: false }), { key: 'admin' });
      expect(accepted.status, accepted.text).toBe(202);
      const path = new URL(accepted.headers.get('location') ?? '').pathname;
      expect((await plain.get(path, {}, { key: 'function' })).status).toBe(401);
      const done = await until(
        'the replay to finish',
        async () => expectOk(await plain.get(path, {}, { key: 'admin' }), operationSchema),
        (op) => op.state === 'succeeded' || op.state === 'failed',
      );
      expect(done).toMatchObject({ state: 'succeeded', result: { events: { replayed: 0 } } });
    } finally {
      await plain.stop();
    }
  });
});

describe('a worker stopped mid-run', () => {
  const EVENTS = 100;

  it('leaves the message on the queue: the next worker runs the operation again to the end', { timeout: 300_000 }, async () => {
    // Two hosts, one after the other, on the same stores (the test run's Cosmos DB and Azurite).
    const suffix = randomUUID().slice(0, 8);
    const env = {
      COSMOS_ENDPOINT: inject('cosmosEndpoint'),
      COSMOS_KEY: inject('cosmosKey'),
      COSMOS_DATABASE: `ops-e2e-${suffix}`,
      STORAGE_CONNECTION_STRING: inject('storageConnectionString'),
      DEADLETTER_CONTAINER: `deadletters-${suffix}`,
      ENRICHMENT_QUEUE: `enrichment-${suffix}`,
      OPERATIONS_QUEUE: `operations-${suffix}`,
      OPERATIONS_CONTAINER: `operations-${suffix}`,
      COMPLIANCE_CONTAINER: `compliance-${suffix}`,
      // The local host keeps a received message invisible for 60 s (with the holes branch: this
      // timeout plus 30 s); Azure's queue trigger holds it for 10 minutes and renews that while running.
      LOCAL_QUEUE_MESSAGE_TIMEOUT_MS: '60000',
    };
    let first: SpawnedHost | undefined = await spawnHost(env);
    let second: SpawnedHost | undefined;
    try {
      // A raw event log long enough that a replay is still running when the worker is killed.
      const services = await buildServices(loadSettings(env));
      const bodies = Array.from({ length: EVENTS }, (_, i) => modelRegistered(`stop-model-${i}`, 1, { id: `stop-${i}` }));
      for (let i = 0; i < bodies.length; i += 50) {
        await Promise.all(
          bodies.slice(i, i + 50).map((body) => {
            const hash = contentHash(body);
            const id = hash.replace(/^sha256:/, '');
            return services.eventLog.append({ id, pk: id, hash, channel: 'eventgrid', receivedAt: new Date().toISOString(), body });
          }),
        );
      }
      const started = await fetch(`${first.url}/api/replay`, { method: 'POST', body: '{"deadLetters": false}' });
      expect(started.status).toBe(202);
      const path = new URL(started.headers.get('location') ?? '').pathname;
      const read = async (host: SpawnedHost) => {
        const body: unknown = await (await fetch(`${host.url}${path}`)).json();
        const op = operationSchema.safeParse(body);
        if (!op.success) throw new Error(`not an operation: ${JSON.stringify(body)}\n${host.output().slice(-3000)}`);
        return op.data;
      };
      const running = await until(
        'the replay to be under way',
        () => read(first as SpawnedHost),
        (op) => (op.progress?.done ?? 0) > 0,
      );
      expect(running).toMatchObject({ state: 'running', attempts: 1 });
      await first.stop('SIGKILL'); // a worker recycled without warning
      first = undefined;
      const orphaned = await services.operations.operations.get(running.id);
      expect(orphaned?.state).toBe('running');
      expect(orphaned?.progress?.done ?? 0).toBeLessThan(EVENTS);

      second = await spawnHost(env);
      const done = await until(
        'the next worker to finish the replay',
        () => read(second as SpawnedHost),
        (op) => op.state !== 'running' && op.state !== 'queued',
        240_000,
      );
      expect(done).toMatchObject({ state: 'succeeded', attempts: 2 });
      expect(done.result).toMatchObject({ events: { replayed: EVENTS, projected: EVENTS, deadLettered: 0 } });
      // The graph holds every model the log names.
      const found = (await (await fetch(`${second.url}/api/search?q=stop-model-${EVENTS - 1}`)).json()) as { nodes: unknown[] };
      expect(found.nodes.length).toBeGreaterThan(0);
    } finally {
      await first?.stop('SIGKILL');
      await second?.stop();
    }
  });
});
