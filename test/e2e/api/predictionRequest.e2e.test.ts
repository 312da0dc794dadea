import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictionRequestAnswerSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  ENDPOINT,
  S,
  SAMPLE_REQUEST,
  SHA256,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  labels,
  scoringRequest,
  seedSample,
  startApi,
  until,
  type Api,
  type CallOptions,
} from './harness.js';

/** GET /api/requests/{requestId}: which deployment and model answered a prediction request (Q3). */
let api: Api;
const GREEN_REQUEST = '0c6f5d2e-9b1a-4e7c-8d3f-2a1b0c9d8e7f';

beforeAll(async () => {
  api = await startApi();
  await seedSample(api);
  // A request the green deployment answered while it was deployed at 0% (a direct call).
  await api.eventHub([scoringRequest(GREEN_REQUEST, 'green', '2024-05-21T09:30:00Z')]);
  await until(
    'the green request to be recorded',
    () => api.get(`/api/requests/${GREEN_REQUEST}`),
    (r) => r.status === 200,
  );
});
afterAll(async () => {
  await api?.stop();
});

const lookup = async (id: string, params: Record<string, string> = {}, options: CallOptions = {}) =>
  expectOk(await api.get(`/api/requests/${encodeURIComponent(id)}`, params, options), predictionRequestAnswerSchema);

describe('happy', () => {
  it('sample-request-0001 was answered by blue serving credit-default:2, with the traffic-log record behind the answer', async () => {
    const a = await lookup(SAMPLE_REQUEST);
    expect(a).toMatchObject({ requestId: SAMPLE_REQUEST, time: '2024-05-20T10:00:00Z', responseCode: 200, totalDurationMs: 38 });
    expect(a.endpointArmId.toLowerCase()).toBe(ENDPOINT.toLowerCase());
    expect(a.deploymentArmId.toLowerCase()).toBe(S.deployments.blue.toLowerCase());
    expect(a.deployment).toMatchObject({ kind: 'deployment', label: 'credit-scoring/blue' });
    expect(a.endpoint).toMatchObject({ kind: 'endpoint', key: ENDPOINT.toLowerCase() });
    expect(a.model).toMatchObject({ kind: 'model', label: 'credit-default:2' });
    expect(Date.parse(a.modelSince ?? '')).toBeLessThanOrEqual(Date.parse(a.time));
    expect(labels(a.upstream?.nodes ?? [])).toEqual(
      expect.arrayContaining(['credit-default:2', 'credit-train-20240415', 'credit-applications:2']),
    );
    expect(a.provenance).toMatchObject({
      source: 'eventhubs',
      eventType: 'AmlOnlineEndpointTrafficLog',
      eventTime: '2024-05-20T10:00:00Z',
      hash: expect.stringMatching(SHA256),
    });
  });

  it('a request to green is answered with the model green served at that moment, credit-default:3', async () => {
    const a = await lookup(GREEN_REQUEST);
    expect([a.deployment?.label, a.model?.label]).toEqual(['credit-scoring/green', 'credit-default:3']);
    expect(labels(a.upstream?.nodes ?? [])).toEqual(expect.arrayContaining(['credit-train-20240501', 'credit-src:7', 'lightgbm-env:5']));
  });

  it('depth bounds the upstream of the model', async () => {
    const a = await lookup(SAMPLE_REQUEST, { depth: '1' });
    expect(labels(a.upstream?.nodes ?? [])).toEqual([
      // credit-default:2's production stage tag is an approval (the default APPROVAL_RULES), one hop upstream.
      'approval of credit-default:2 (tag)',
      'credit-default:2',
      'credit-train-20240415',
    ]);
  });
});

describe('errors', () => {
  it('an unknown request id is 404 not-found', async () => {
    expectProblem(await api.get('/api/requests/never-seen'), 404, 'not-found');
    expectProblem(await api.get(`/api/requests/${encodeURIComponent('with space & ?query=1')}`), 404, 'not-found');
  });

  it('a request id over 256 characters is 400 naming requestId', async () => {
    expectInvalidParameter(await api.get(`/api/requests/${'r'.repeat(257)}`), 'requestId');
  });

  it('absurd depths are refused naming depth', async () => {
    for (const depth of ['0', '26', '1000', 'x'])
      expectInvalidParameter(await api.get(`/api/requests/${SAMPLE_REQUEST}`, { depth }), 'depth');
  });

  it('a missing request id is not a route (404 from the host)', async () => {
    expect((await api.get('/api/requests/')).status).toBe(404);
  });
});

describe('security', () => {
  it('without a key, or with a wrong one, the host answers 401; function and admin keys open it', async () => {
    expect((await api.get(`/api/requests/${SAMPLE_REQUEST}`, {}, { key: 'none' })).status).toBe(401);
    expect((await api.get(`/api/requests/${SAMPLE_REQUEST}`, {}, { key: { value: 'wrong' } })).status).toBe(401);
    await lookup(SAMPLE_REQUEST, {}, { key: 'function', keyIn: 'header' });
    await lookup(SAMPLE_REQUEST, {}, { key: 'admin' });
  });

  it('Entra: readers read it; no lineage role is 403; a malformed header is 401', async () => {
    for (const principal of [AS.reader, AS.readerOfSample])
      expect((await lookup(SAMPLE_REQUEST, {}, { principal })).requestId).toBe(SAMPLE_REQUEST);
    expectProblem(await api.get(`/api/requests/${SAMPLE_REQUEST}`, {}, { principal: AS.noRoles }), 403, 'forbidden');
    expectProblem(await api.get(`/api/requests/${SAMPLE_REQUEST}`, {}, { principal: AS.malformed }), 401, 'unauthorized');
  });

  it('a reader limited to another workspace gets the same 404 as for a request never seen', async () => {
    const hidden = expectProblem(await api.get(`/api/requests/${SAMPLE_REQUEST}`, {}, { principal: AS.readerOfOther }), 404, 'not-found');
    const missing = expectProblem(await api.get('/api/requests/never-seen', {}, { principal: AS.readerOfOther }), 404, 'not-found');
    expect(hidden.detail.replace(SAMPLE_REQUEST, 'X')).toBe(missing.detail.replace('never-seen', 'X'));
  });
});
