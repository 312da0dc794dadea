import { BlobServiceClient } from '@azure/storage-blob';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../infra/local/embeddedServices.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { modelRegistered } from '../helpers/events.js';
import { nested } from '../helpers/hostile.js';
import { ROOT, spawnHost, type SpawnedHost } from '../helpers/localHost.js';
import { until } from '../helpers/until.js';

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

const deliver = (body: string, key: string | null = EVENTGRID_KEY) =>
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

/**
 * POSTs a body that never ends: a first chunk, then a kilobyte every 100 ms. Resolves with the
 * answer if one comes while the client is still sending (a host that buffers the body first
 * never answers).
 */
function endlessPost(path: string, first: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${host.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    const drip = setInterval(() => req.write(Buffer.alloc(1024, 0x61)), 100);
    const timeout = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer from ${path} within 10 s while the body was still being sent`));
    }, 10_000);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        clearInterval(drip);
        clearTimeout(timeout);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', () => undefined); // the host may close the connection once it has answered
    req.on('close', () => clearInterval(drip));
    req.write(first);
  });
}

describe('local host: keys, escapes and body limits (hole 12)', () => {
  it('the Event Grid webhook needs the eventgrid_extension system key (or the admin key) when keys are on', async () => {
    const body = JSON.stringify([modelRegistered('keyed', 1, { id: 'keyed-1' })]);
    for (const key of [null, FUNCTION_KEY, 'wrong', `${EVENTGRID_KEY}x`]) expect((await deliver(body, key)).status, String(key)).toBe(401);
    expect((await deliver(body, EVENTGRID_KEY)).status).toBe(202);
    expect((await deliver(body, ADMIN_KEY)).status).toBe(202);
    const handshake = (code?: string) =>
      fetch(`${host.url}${WEBHOOK}${code ? `&code=${code}` : ''}`, {
        method: 'OPTIONS',
        headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' },
      });
    expect((await handshake()).status).toBe(401);
    expect((await handshake(EVENTGRID_KEY)).status).toBe(200);
  });

  it('malformed percent-escapes answer 400 problem JSON, not 500', async () => {
    for (const [path, key] of [
      ['/api/requests/%zz', FUNCTION_KEY],
      ['/api/requests/%C0%AF', FUNCTION_KEY],
      ['/api/requests/%ED%A0%80', FUNCTION_KEY],
      ['/api/requests/abc%', FUNCTION_KEY],
      ['/admin/functions/%zz', ADMIN_KEY],
    ] as const) {
      const res = await fetch(`${host.url}${path}?code=${key}`, { method: path.startsWith('/admin') ? 'POST' : 'GET' });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 400, title: expect.stringMatching(/percent/i) });
    }
  });

  it('an anonymous route stops reading at its 64 KB limit: 413 arrives while the client is still sending', async () => {
    const res = await endlessPost('/api/chatops/slack', Buffer.alloc(70 * 1024, 0x61));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ status: 413 });
  });

  it('a declared Content-Length past the limit is refused before any of the body is read', async () => {
    const res = await endlessPost('/api/chatops/slack', Buffer.from('text=help'), { 'content-length': String(100 * 1024 * 1024) });
    expect(res.status).toBe(413);
  });

  it('a keyed route without its key answers 401 before reading the body', async () => {
    expect((await endlessPost('/api/replay', Buffer.from('{'))).status).toBe(401);
    expect((await endlessPost(WEBHOOK, Buffer.from('['))).status).toBe(401);
  });
});

describe('local host queue triggers (hole 12)', () => {
  let queueHost: SpawnedHost;
  beforeAll(async () => {
    queueHost = await spawnHost({
      LOCAL_HOST_ENTRY: join(ROOT, 'test', 'e2e', 'queue-app.mjs'),
      LOCAL_QUEUE_MESSAGE_TIMEOUT_MS: '3000',
      LOCAL_SHUTDOWN_GRACE_MS: '1000',
    });
  });
  afterAll(async () => {
    if (queueHost?.child.exitCode === null) await queueHost.stop();
  });
  const enqueue = (messages: unknown[]) => fetch(`${queueHost.url}/api/enqueue`, { method: 'POST', body: JSON.stringify(messages) });
  const progress = async () => (await (await fetch(`${queueHost.url}/api/progress`)).json()) as { started: string[]; finished: string[] };

  it('a slow message neither blocks the others nor stalls shutdown; past its timeout it is released for redelivery', async () => {
    expect((await enqueue([{ id: 'slow', sleepMs: 120_000 }])).status).toBe(202);
    await until('the slow message to start', progress, (p) => p.started.includes('slow'), 10_000);
    const queuedAt = Date.now();
    expect((await enqueue(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, sleepMs: 10 })))).status).toBe(202);
    const done = await until(
      'the fast messages to finish',
      progress,
      (p) => ['a', 'b', 'c', 'd', 'e'].every((id) => p.finished.includes(id)),
      10_000,
    );
    expect(Date.now() - queuedAt).toBeLessThan(10_000);
    expect(done.finished).not.toContain('slow');
    // Past LOCAL_QUEUE_MESSAGE_TIMEOUT_MS the delivery counts as failed and the message comes back.
    await until('the slow message to be delivered again', progress, (p) => p.started.filter((id) => id === 'slow').length >= 2, 15_000);
    const stopping = Date.now();
    expect(await queueHost.stop('SIGINT')).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(8_000);
    expect(queueHost.output()).toMatch(/work: .*timed out after 3000 ms/);
  });
});
