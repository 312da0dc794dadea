import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { replayRoute } from '../../../functions/replay.js';
import { lineageAnswerSchema } from '../../../shared/api/schemas.js';
import { ADMIN, AS, S, expectInvalidParameter, expectOk, expectProblem, type Api, type CallOptions, withSampleApi } from './harness.js';

/** POST /api/replay: re-project the raw event log and re-process dead letters. Admin key, admin role. */
let api: Api;
withSampleApi((started) => (api = started));

const reportSchema = replayRoute.spec.responses[200].schema as z.ZodType<{
  events: { replayed: number; projected: number; ignored: number; deadLettered: number; integrityFailures: number };
  deadLetters: { retried: number; resolved: number; stillFailing: number };
}>;
const NOTHING = JSON.stringify({ events: false, deadLetters: false });
const replay = async (body: string, options: CallOptions = {}) =>
  // ?wait: the replay is queued (202 otherwise); test/e2e/api/operations.e2e.test.ts covers polling.
  expectOk(await api.request('POST', '/api/replay', { wait: '200' }, { ...ADMIN, ...options, body }), reportSchema);

/** What the graph says about the sample, without when it was learned. */
async function snapshot(): Promise<string> {
  const answers = await Promise.all(
    [S.models.v3, S.models.v2].map(async (ref) =>
      expectOk(await api.get('/api/lineage', { ref, direction: 'both', depth: '25' }), lineageAnswerSchema),
    ),
  );
  return JSON.stringify(answers, (k, v: unknown) => (k === 'learnedAt' ? undefined : v));
}

describe('happy', () => {
  it('with nothing asked, replays nothing', async () => {
    expect(await replay(NOTHING)).toEqual({
      events: { replayed: 0, projected: 0, ignored: 0, deadLettered: 0, integrityFailures: 0 },
      deadLetters: { retried: 0, resolved: 0, stillFailing: 0 },
    });
  });

  it('dead letters alone: events false replays no event', async () => {
    const lettersOnly = await replay(JSON.stringify({ events: false }));
    expect(lettersOnly.events).toEqual({ replayed: 0, projected: 0, ignored: 0, deadLettered: 0, integrityFailures: 0 });
    expect(lettersOnly.deadLetters).toEqual({ retried: 0, resolved: 0, stillFailing: 0 });
  });

  it('an empty body replays the whole event log and the dead letters, projecting every event', async () => {
    const report = await replay('');
    // Six Event Grid events, two resource-log records, and the REST observations enrichment stored.
    expect(report.events.replayed).toBeGreaterThanOrEqual(8);
    expect(report.events.projected + report.events.ignored + report.events.deadLettered).toBe(report.events.replayed);
    expect(report.events.deadLettered).toBe(0);
    expect(report.deadLetters).toEqual({ retried: 0, resolved: 0, stillFailing: 0 });
  });

  // Regression guard (was a bug): replay passes the stored body, already redacted, back through captureEvent, which redacts
  // it again (shared/usecases/replay.ts:25 -> shared/usecases/captureEvent.ts:53). pseudonym() is
  // not idempotent (shared/privacy/identity.ts:35-47: "redacted:…" is hashed into a new value), so
  // every REST observation with systemData.createdBy gets a new content hash: its facts are
  // re-attributed to an event that was never received, and status/model history entries repeat.
  it('replaying leaves the graph as it was: same provenance hashes, no repeated history entries', async () => {
    const before = await snapshot();
    await replay('{}');
    expect(await snapshot()).toBe(before);
  });

  // Same cause: the re-redacted bodies get new content hashes, so each replay appends them to the
  // raw event log as new events and the next replay has more to replay.
  it('replaying again replays the same log: the raw event log does not grow', async () => {
    const first = await replay(JSON.stringify({ deadLetters: false }));
    expect(first.deadLetters.retried).toBe(0); // events only
    const second = await replay(JSON.stringify({ deadLetters: false }));
    expect(second.events).toEqual(first.events);
  });
});

describe('errors', () => {
  it('a body that is not JSON is 400 invalid-request', async () => {
    for (const body of ['{events: false', 'events=false', '{"events": false,}']) {
      const p = expectProblem(await api.post('/api/replay', body, ADMIN), 400, 'invalid-request');
      expect(p.detail).toMatch(/JSON/);
    }
  });

  it('unknown fields, wrong types and non-objects are 400 naming what is wrong', async () => {
    expectInvalidParameter(
      await api.post('/api/replay', JSON.stringify({ events: false, deadLetters: false, everything: true }), ADMIN),
      'body',
    );
    expectInvalidParameter(await api.post('/api/replay', JSON.stringify({ events: 'yes' }), ADMIN), 'events');
    expectInvalidParameter(await api.post('/api/replay', JSON.stringify({ deadLetters: 1 }), ADMIN), 'deadLetters');
    for (const body of ['[]', '"replay"', 'null', '42']) expectInvalidParameter(await api.post('/api/replay', body, ADMIN), 'body');
  });

  it('a body over 64 KiB is 413 payload-too-large', async () => {
    expectProblem(
      await api.post('/api/replay', JSON.stringify({ events: false, padding: 'x'.repeat(70_000) }), ADMIN),
      413,
      'payload-too-large',
    );
  });

  it('GET is not served (405 with Allow: POST)', async () => {
    const res = await api.get('/api/replay', {}, ADMIN);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('security', () => {
  it('behind Entra a key without Lineage.Admin is 403, the admin key alone included; a missing or wrong key is 401', async () => {
    for (const keyIn of ['query', 'header'] as const)
      expectProblem(await api.post('/api/replay', NOTHING, { key: 'function', keyIn }), 403, 'forbidden');
    expectProblem(await api.post('/api/replay', NOTHING, { key: 'admin' }), 403, 'forbidden');
    expect((await api.post('/api/replay', NOTHING, { key: 'none' })).status).toBe(401);
    expect((await api.post('/api/replay', NOTHING, { key: { value: 'wrong' }, keyIn: 'header' })).status).toBe(401);
  });

  it('a function key with Lineage.Admin opens it, the key in the query or the x-functions-key header', async () => {
    await replay(NOTHING, { keyIn: 'query' });
    await replay(NOTHING, { keyIn: 'header' });
  });

  it('Entra: readers and auditors get 403; admins replay', async () => {
    for (const principal of [AS.reader, AS.auditor, AS.readerOfSample]) {
      const p = expectProblem(await api.post('/api/replay', NOTHING, { key: 'function', principal }), 403, 'forbidden');
      expect(p.detail).toMatch(/admin/i);
    }
    await replay(NOTHING, { principal: AS.admin });
  });

  it('Entra: a malformed principal is 401 unauthorized', async () => {
    expectProblem(await api.post('/api/replay', NOTHING, { key: 'function', principal: AS.malformed }), 401, 'unauthorized');
  });

  // Regression guard (was a bug): replay runs over every workspace's event log and dead letters, but functions/replay.ts
  // accepts any admin grant: an admin limited to one workspace (Lineage.Admin.other-ws) replays
  // the sample workspace's events and learns how many there are. requireRole returns the scope
  // (shared/api/route.ts:63) and the handler (functions/replay.ts:30-34) ignores it.
  it('Entra: an admin limited to one workspace cannot replay every workspace (403)', async () => {
    expectProblem(await api.post('/api/replay', NOTHING, { key: 'function', principal: AS.adminOfOther }), 403, 'forbidden');
  });
});
