import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../infra/local/embeddedServices.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { modelRegistered } from '../helpers/events.js';
import { nested } from '../helpers/hostile.js';
import { spawnHost, type SpawnedHost } from '../helpers/localHost.js';

/**
 * The local host under hostile requests, as `npm start` runs it with keys switched on: nothing a
 * caller sends makes it answer 5xx while the stores are up.
 */
const FUNCTION_KEY = 'hostile-function-key-1b7e';
const ADMIN_KEY = 'hostile-admin-key-93ad';
const EVENTGRID_KEY = 'hostile-eventgrid-system-key-5c20';
const WEBHOOK = '/runtime/webhooks/eventgrid?functionName=captureEventGrid';

let host: SpawnedHost;
let blobs: BlobServiceClient;
beforeAll(async () => {
  host = await spawnHost({ LOCAL_FUNCTION_KEY: FUNCTION_KEY, LOCAL_ADMIN_KEY: ADMIN_KEY, LOCAL_EVENTGRID_KEY: EVENTGRID_KEY });
  const blobPort = /Azurite, in memory\): http:\/\/127\.0\.0\.1:(\d+)/.exec(host.output())?.[1];
  blobs = BlobServiceClient.fromConnectionString(
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT};`,
  );
});
afterAll(async () => {
  await host?.stop();
});

const deliver = (body: string, key: string | undefined = EVENTGRID_KEY) =>
  fetch(`${host.url}${WEBHOOK}${key ? `&code=${encodeURIComponent(key)}` : ''}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
  });

async function deadLetterReasons(): Promise<string[]> {
  const container = blobs.getContainerClient('deadletters');
  const reasons: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix: 'pending/' })) {
    const text = (await container.getBlockBlobClient(item.name).downloadToBuffer()).toString('utf8');
    reasons.push(/"reason":"([^"]*)"/.exec(text)?.[1] ?? '');
  }
  return reasons;
}

describe('Event Grid webhook with deeply nested events (hole 2)', () => {
  it('answers 202 for an event nested 10,000 levels and dead-letters it with a reason naming the depth', async () => {
    const event = modelRegistered('deep', 1, { id: 'deep-10000' });
    (event.data as Record<string, unknown>).ModelTags = nested(10_000);
    // JSON.stringify cannot write it either; canonicalJson can.
    const res = await deliver(canonicalJson([event]));
    expect(res.status, await res.text()).toBe(202);
    expect((await deadLetterReasons()).some((r) => /nested 10002 levels deep/.test(r))).toBe(true);
  });
});
