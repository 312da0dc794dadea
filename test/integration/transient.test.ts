import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { TransientStoreError } from '../../shared/errors.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { isTransient, withRetry } from '../../shared/store/retry.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { startCosmos } from '../../infra/local/embeddedServices.js';
import { inject } from 'vitest';
import { modelRegistered } from '../helpers/events.js';

/**
 * Store outages: a real one (the Cosmos server stops) and, where a server cannot be made to
 * answer 429/503 on demand, mocked errors, named as such.
 */
describe('when the store is unavailable', () => {
  let cosmos: Awaited<ReturnType<typeof startCosmos>>;
  beforeAll(async () => {
    cosmos = await startCosmos(0);
  });
  afterAll(async () => {
    await cosmos.stop().catch(() => undefined);
  });

  it('retries, then fails the invocation so the platform redelivers; the redelivery then lands', async () => {
    const port = Number(new URL(cosmos.url).port);
    const settings = loadSettings({
      COSMOS_ENDPOINT: cosmos.url,
      COSMOS_KEY: cosmos.key,
      COSMOS_DATABASE: 'outage',
      STORAGE_CONNECTION_STRING: inject('storageConnectionString'),
      DEADLETTER_CONTAINER: 'deadletters-outage',
      ENRICHMENT_QUEUE: 'enrichment-outage',
    });
    const client = await createCosmosClient(settings);
    await ensureCosmos(client, settings.COSMOS_DATABASE);
    const services = await buildServices(settings);
    await services.ensureStorage();
    await cosmos.stop();

    const event = modelRegistered('credit', 9);
    await expect(captureEvent(services.capture, event)).rejects.toBeInstanceOf(TransientStoreError);

    // The server comes back (in-memory, so empty): recreate the stores and redeliver.
    cosmos = await startCosmos(port);
    await ensureCosmos(client, settings.COSMOS_DATABASE);
    await expect(captureEvent(services.capture, event)).resolves.toMatchObject({ status: 'projected' });
    client.dispose();
  });
});

describe('transient error classification (mocked faults)', () => {
  it('treats 429, 503, timeouts and refused connections as transient, 400/404/409 as not', () => {
    for (const e of [
      { code: 429 },
      { code: 503 },
      { statusCode: 408 },
      { code: 'ECONNREFUSED' },
      { name: 'TimeoutError' },
      { cause: { code: 'ECONNRESET' } },
    ]) {
      expect(isTransient(e), JSON.stringify(e)).toBe(true);
    }
    for (const e of [{ code: 400 }, { code: 404 }, { code: 409 }, new Error('boom')]) expect(isTransient(e), JSON.stringify(e)).toBe(false);
  });

  // The Cosmos SDK rejects with plain objects carrying `code`; the mocks do the same.
  /* eslint-disable @typescript-eslint/prefer-promise-reject-errors */
  it('retries a mocked 503 and succeeds, gives up on a persistent one with TransientStoreError', async () => {
    let calls = 0;
    const flaky = () => (++calls < 3 ? Promise.reject({ code: 503 }) : Promise.resolve('ok'));
    await expect(withRetry(flaky, 'op', { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 })).resolves.toBe('ok');
    expect(calls).toBe(3);
    await expect(
      withRetry(() => Promise.reject({ code: 429 }), 'op', { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 }),
    ).rejects.toBeInstanceOf(TransientStoreError);
    await expect(withRetry(() => Promise.reject({ code: 400 }), 'op', { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 })).rejects.toEqual({
      code: 400,
    });
  });
  /* eslint-enable @typescript-eslint/prefer-promise-reject-errors */
});
