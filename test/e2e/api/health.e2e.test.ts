import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AS, expectOk, startApi, type Api } from './harness.js';

/** GET /api/health: liveness, anonymous even when keys are required elsewhere. */
let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.stop();
});

const healthy = z.object({ status: z.literal('ok') }).strict();

describe('happy', () => {
  it('answers 200 {"status":"ok"} once the store answers, not cached', async () => {
    const res = await api.get('/api/health', {}, { key: 'none' });
    expect(expectOk(res, healthy)).toEqual({ status: 'ok' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('errors', () => {
  it('only GET is served (405 with Allow: GET)', async () => {
    const res = await api.post('/api/health', '{}', { key: 'none' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    expect(res.contentType).toMatch(/^application\/problem\+json/);
  });

  it('a path no function serves is a 404 problem from the host', async () => {
    const res = await api.get('/api/healthz', {}, { key: 'admin' });
    expect(res.status).toBe(404);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404 });
  });
});

describe('security', () => {
  it('needs no key while keys are required elsewhere, and ignores wrong keys and principal headers', async () => {
    expect((await api.get('/api/lineage', { ref: 'x' }, { key: 'none' })).status).toBe(401); // keys are on
    for (const options of [
      { key: 'none' as const },
      { key: { value: 'wrong' } },
      { key: 'function' as const },
      { key: 'none' as const, principal: AS.malformed },
      { key: 'none' as const, principal: AS.noRoles },
    ]) {
      expect(expectOk(await api.get('/api/health', {}, options), healthy)).toEqual({ status: 'ok' });
    }
  });
});
