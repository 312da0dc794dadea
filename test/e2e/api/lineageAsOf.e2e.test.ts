import { describe, expect, it } from 'vitest';
import { asOfAnswerSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  ENDPOINT,
  S,
  WS,
  endpointWrite,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  labels,
  until,
  type Api,
  type CallOptions,
  withSampleApi,
} from './harness.js';

/** GET /api/lineage/as-of: which deployments and model versions served an endpoint at a moment (Q2). */
let api: Api;
withSampleApi((started) => (api = started));

const asOf = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/lineage/as-of', params, options), asOfAnswerSchema);
const MAY_20 = '2024-05-20T00:00:00Z';

describe('happy', () => {
  it('on 2024-05-20 blue took all traffic with credit-default:2, and green was deployed at 0%', async () => {
    const a = await asOf({ endpoint: ENDPOINT, at: MAY_20 });
    expect(a.at).toBe(MAY_20);
    expect(a.endpoint).toMatchObject({ kind: 'endpoint', key: ENDPOINT.toLowerCase() });
    expect(a.serving).toHaveLength(1);
    const [blue] = a.serving;
    expect(blue).toMatchObject({
      deployment: { kind: 'deployment', label: 'credit-scoring/blue' },
      trafficShare: 100,
      model: { kind: 'model', label: 'credit-default:2' },
    });
    // The share was set by the endpoint write of 2 May; the model since the deployment's last change.
    expect(Date.parse(blue?.trafficSince ?? '')).toBe(Date.parse('2024-05-02T07:15:00Z'));
    expect(Date.parse(blue?.modelSince ?? '')).toBe(Date.parse('2024-04-16T08:58:03.1176654Z'));
    expect(labels(blue?.upstream?.nodes ?? [])).toEqual(
      expect.arrayContaining(['credit-default:2', 'credit-train-20240415', 'credit-src:6', 'lightgbm-env:5', 'credit-applications:2']),
    );
    expect(blue?.upstream?.partial).toBe(false);
    expect(a.notServing.map((d) => [d.deployment.label, d.trafficShare])).toEqual([['credit-scoring/green', 0]]);
  });

  it('a moment before anything was observed answers with no serving deployment', async () => {
    const a = await asOf({ endpoint: ENDPOINT, at: '2020-01-01T00:00:00Z' });
    expect(a.serving).toEqual([]);
    expect(a.notServing.map((d) => [d.deployment.label, d.trafficShare, d.trafficSince]).sort()).toEqual([
      ['credit-scoring/blue', null, null],
      ['credit-scoring/green', null, null],
    ]);
  });

  it('depth bounds the upstream of each served model', async () => {
    const a = await asOf({ endpoint: ENDPOINT, at: MAY_20, depth: '1' });
    expect(labels(a.serving[0]?.upstream?.nodes ?? [])).toEqual([
      // credit-default:2's production stage tag is an approval (the default APPROVAL_RULES), one hop upstream.
      'approval of credit-default:2 (tag)',
      'credit-default:2',
      'credit-train-20240415',
    ]);
  });

  it('accepts the endpoint ARM id in any casing, with or without the azureml: prefix, and any ISO 8601 offset', async () => {
    const base = await asOf({ endpoint: ENDPOINT, at: MAY_20 });
    for (const [endpoint, at] of [
      [ENDPOINT.toUpperCase(), MAY_20],
      [`azureml:${ENDPOINT}`, '2024-05-20T02:00:00+02:00'],
      [ENDPOINT.toLowerCase(), '2024-05-20T00:00:00.000Z'],
    ] as const) {
      const a = await asOf({ endpoint, at });
      expect(
        a.serving.map((s) => [s.deployment.id, s.model?.id]),
        endpoint,
      ).toEqual(base.serving.map((s) => [s.deployment.id, s.model?.id]));
    }
  });

  it('after traffic moves to green on 1 June, green serves credit-default:3; the earlier moment keeps its answer', async () => {
    await api.standInControl('setTraffic', {
      endpoint: 'credit-scoring',
      traffic: { blue: 0, green: 100 },
      at: '2024-06-01T00:00:00.0000000+00:00',
    });
    await api.eventHub([endpointWrite('2024-06-01T00:00:01Z')]);
    const after = await until(
      'green to serve after the traffic change',
      () => asOf({ endpoint: ENDPOINT, at: '2024-06-02T00:00:00Z' }),
      (a) => a.serving.some((s) => s.deployment.label === 'credit-scoring/green' && (s.upstream?.nodes.length ?? 0) > 1),
    );
    expect(after.serving.map((s) => [s.deployment.label, s.trafficShare, s.model?.label])).toEqual([
      ['credit-scoring/green', 100, 'credit-default:3'],
    ]);
    expect(labels(after.serving[0]?.upstream?.nodes ?? [])).toEqual(expect.arrayContaining(['credit-train-20240501', 'credit-src:7']));
    expect(after.notServing.map((d) => [d.deployment.label, d.trafficShare])).toEqual([['credit-scoring/blue', 0]]);
    const before = await asOf({ endpoint: ENDPOINT, at: MAY_20 });
    expect(before.serving.map((s) => [s.deployment.label, s.trafficShare, s.model?.label])).toEqual([
      ['credit-scoring/blue', 100, 'credit-default:2'],
    ]);
  });
});

describe('errors', () => {
  it('a missing or blank endpoint is 400 naming endpoint', async () => {
    expectInvalidParameter(await api.get('/api/lineage/as-of', { at: MAY_20 }), 'endpoint');
    expectInvalidParameter(await api.get('/api/lineage/as-of', { endpoint: ' ', at: MAY_20 }), 'endpoint');
    expectInvalidParameter(await api.get('/api/lineage/as-of', { endpoint: `${ENDPOINT}/${'x'.repeat(2100)}`, at: MAY_20 }), 'endpoint');
  });

  it('a missing, oversized or unreadable moment is 400 naming at', async () => {
    expectInvalidParameter(await api.get('/api/lineage/as-of', { endpoint: ENDPOINT }), 'at');
    expectInvalidParameter(
      await api.get('/api/lineage/as-of', { endpoint: ENDPOINT, at: `2024-05-20T00:00:00Z${' '.repeat(10)}${'0'.repeat(60)}` }),
      'at',
    );
    for (const at of ['yesterday', '2024-02-30T00:00:00Z', '20.05.2024'])
      expectInvalidParameter(await api.get('/api/lineage/as-of', { endpoint: ENDPOINT, at }), 'at');
  });

  it('absurd depths are refused naming depth', async () => {
    for (const depth of ['0', '26', '1000', 'deep'])
      expectInvalidParameter(await api.get('/api/lineage/as-of', { endpoint: ENDPOINT, at: MAY_20, depth }), 'depth');
  });

  it('something other than an online endpoint is 400 invalid-ref', async () => {
    for (const endpoint of [S.models.v3, S.deployments.blue, 'credit scoring', `${WS}/jobs/credit-train-20240501`]) {
      expectProblem(await api.get('/api/lineage/as-of', { endpoint, at: MAY_20 }), 400, 'invalid-ref');
    }
  });

  it('an endpoint with no recorded lineage is 404 not-found', async () => {
    expectProblem(await api.get('/api/lineage/as-of', { endpoint: `${WS}/onlineEndpoints/fraud-scoring`, at: MAY_20 }), 404, 'not-found');
  });
});

describe('security', () => {
  const q = { endpoint: ENDPOINT, at: MAY_20 };

  it('without a key, or with a wrong one, the host answers 401; function and admin keys open it', async () => {
    expect((await api.get('/api/lineage/as-of', q, { key: 'none' })).status).toBe(401);
    expect((await api.get('/api/lineage/as-of', q, { key: { value: 'wrong' }, keyIn: 'header' })).status).toBe(401);
    await asOf(q, { key: 'function', keyIn: 'header' });
    await asOf(q, { key: 'admin' });
  });

  it('Entra: a reader (any workspace or the sample one) reads it; no lineage role is 403; a malformed header is 401', async () => {
    for (const principal of [AS.reader, AS.readerOfSample, AS.auditor]) expect((await asOf(q, { principal })).serving).toHaveLength(1);
    expectProblem(await api.get('/api/lineage/as-of', q, { principal: AS.noRoles }), 403, 'forbidden');
    expectProblem(await api.get('/api/lineage/as-of', q, { principal: AS.malformed }), 401, 'unauthorized');
  });

  it('a reader limited to another workspace gets the same 404 as for an endpoint that does not exist', async () => {
    const hidden = expectProblem(await api.get('/api/lineage/as-of', q, { principal: AS.readerOfOther }), 404, 'not-found');
    const missing = expectProblem(
      await api.get('/api/lineage/as-of', { ...q, endpoint: `${WS}/onlineEndpoints/fraud-scoring` }, { principal: AS.readerOfOther }),
      404,
      'not-found',
    );
    expect(Object.keys(hidden).sort()).toEqual(Object.keys(missing).sort());
    expect(hidden.detail.replace(/credit-scoring/g, 'X')).toBe(missing.detail.replace(/fraud-scoring/g, 'X'));
  });
});
