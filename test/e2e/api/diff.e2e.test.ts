import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { diffAnswerSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  REGISTRY_MODEL_URI,
  S,
  SHA256,
  WS,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  type Api,
  type CallOptions,
  withSampleApi,
} from './harness.js';

/** GET /api/diff: what differs between two model versions, each side with its provenance (Q4). */
let api: Api;
withSampleApi((started) => (api = started));

type Diff = z.infer<typeof diffAnswerSchema>;
const diff = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/diff', params, options), diffAnswerSchema);
const ASPECTS = [
  'approvals',
  'code',
  'commits',
  'compute',
  'data',
  'deployments',
  'environment',
  'job',
  'metrics',
  'parameters',
  'parentModels',
  'properties',
  'tags',
];
const aspect = (d: Diff, name: string) => d.differences.find((x) => x.aspect === name);

describe('happy', () => {
  it('credit-default:2 vs :3 lists data and code differences with provenance hashes on both sides', async () => {
    const d = await diff({ from: 'azureml:credit-default:2', to: 'azureml:credit-default:3', workspace: WS });
    expect([d.from.label, d.to.label]).toEqual(['credit-default:2', 'credit-default:3']);
    expect(d.partial).toBe(false);

    const data = aspect(d, 'data');
    expect(data?.from.value).toEqual(['credit-applications:2']);
    expect(data?.to.value).toEqual(expect.arrayContaining(['credit-applications:3', 'credit-bureau-features:2']));
    const code = aspect(d, 'code');
    expect([code?.from.value, code?.to.value]).toEqual([['credit-src:6'], ['credit-src:7']]);
    expect(aspect(d, 'commits')?.to.value).toEqual(['github.com/contoso/credit-models@9c1e4f7a2b3d']);
    expect(aspect(d, 'job')).toMatchObject({ from: { value: ['credit-train-20240415'] }, to: { value: ['credit-train-20240501'] } });

    for (const name of ['data', 'code', 'commits', 'job']) {
      const x = aspect(d, name);
      for (const side of [x?.from, x?.to]) {
        expect(side?.provenance.length, name).toBeGreaterThan(0);
        for (const p of side?.provenance ?? []) {
          expect(p.hash, name).toMatch(SHA256);
          expect(Number.isNaN(Date.parse(p.eventTime)), name).toBe(false);
        }
      }
    }
    // Each side names the node its provenance comes from, and it is a different node on each side.
    expect(aspect(d, 'code')?.from.provenance[0]?.node).not.toBe(aspect(d, 'code')?.to.provenance[0]?.node);
  });

  it('parameters, tags, properties and metrics differ with the values each side asserted; environment and compute are the same', async () => {
    const d = await diff({ from: S.models.v2, to: S.models.v3 });
    expect(aspect(d, 'parameters')).toMatchObject({
      from: { value: { learning_rate: '0.1', n_estimators: '200' } },
      to: { value: { learning_rate: '0.05', n_estimators: '400' } },
    });
    expect(aspect(d, 'parameters')?.from.provenance[0]).toMatchObject({ fact: 'parameters', hash: expect.stringMatching(SHA256) });
    expect(aspect(d, 'tags')).toMatchObject({
      from: { value: { team: 'risk', stage: 'production' } },
      to: { value: { team: 'risk', stage: 'candidate' } },
    });
    expect(aspect(d, 'metrics')).toMatchObject({ from: { value: { 'model.properties.auc': '0.781' } }, to: { value: {} } });
    expect(aspect(d, 'parentModels')).toMatchObject({ from: { value: [] }, to: { value: ['credit-baseline:1'] } });
    expect(aspect(d, 'deployments')?.from.value).toContain('credit-scoring/blue');
    expect(aspect(d, 'deployments')?.to.value).toContain('credit-scoring/green');
    expect(d.same).toEqual(expect.arrayContaining(['environment', 'compute']));
    // Every aspect is reported exactly once, as a difference or as the same.
    expect([...d.same, ...d.differences.map((x) => x.aspect)].sort()).toEqual(ASPECTS);
  });

  it('swapping the sides swaps from and to', async () => {
    const [ab, ba] = await Promise.all([diff({ from: S.models.v2, to: S.models.v3 }), diff({ from: S.models.v3, to: S.models.v2 })]);
    expect(ba.same.sort()).toEqual(ab.same.sort());
    for (const x of ab.differences) expect(aspect(ba, x.aspect)).toEqual({ aspect: x.aspect, from: x.to, to: x.from });
  });

  it('a model version against itself has no differences', async () => {
    const d = await diff({ from: S.models.v3, to: S.models.v3.toUpperCase() });
    expect(d.differences).toEqual([]);
    expect(d.same.sort()).toEqual(ASPECTS);
  });
});

describe('errors', () => {
  it('a missing from or to is 400 naming it', async () => {
    expectInvalidParameter(await api.get('/api/diff', { to: S.models.v3 }), 'from');
    expectInvalidParameter(await api.get('/api/diff', { from: S.models.v2 }), 'to');
    expectInvalidParameter(await api.get('/api/diff', { from: S.models.v2, to: ' ' }), 'to');
    expectInvalidParameter(await api.get('/api/diff', { from: 'm'.repeat(2049), to: S.models.v3 }), 'from');
  });

  it('a job, a data version or a deployment is 400 invalid-ref: diff compares model versions', async () => {
    for (const other of [S.jobs.train, S.data.v3, S.deployments.green]) {
      const p = expectProblem(await api.get('/api/diff', { from: other, to: S.models.v3 }), 400, 'invalid-ref');
      expect(p.detail).toMatch(/model version/);
      expectProblem(await api.get('/api/diff', { from: S.models.v3, to: other }), 400, 'invalid-ref');
    }
  });

  it('an unknown model version is 404 not-found; a malformed ref 400 invalid-ref', async () => {
    expectProblem(await api.get('/api/diff', { from: S.models.v2, to: `${WS}/models/credit-default/versions/42` }), 404, 'not-found');
    expectProblem(await api.get('/api/diff', { from: 'credit-default:2', to: S.models.v3 }), 400, 'invalid-ref');
    expectProblem(await api.get('/api/diff', { from: 'azureml:credit-default:2', to: S.models.v3 }), 400, 'invalid-ref');
  });
});

describe('security', () => {
  const q = { from: S.models.v2, to: S.models.v3 };

  it('without a key, or with a wrong one, the host answers 401; function and admin keys open it', async () => {
    expect((await api.get('/api/diff', q, { key: 'none' })).status).toBe(401);
    expect((await api.get('/api/diff', q, { key: { value: 'wrong' } })).status).toBe(401);
    await diff(q, { key: 'function', keyIn: 'header' });
    await diff(q, { key: 'admin', keyIn: 'header' });
  });

  it('Entra: readers read it; no lineage role is 403; a malformed header is 401', async () => {
    expect((await diff(q, { principal: AS.readerOfSample })).differences.length).toBeGreaterThan(0);
    expectProblem(await api.get('/api/diff', q, { principal: AS.noRoles }), 403, 'forbidden');
    expectProblem(await api.get('/api/diff', q, { principal: AS.malformed }), 401, 'unauthorized');
  });

  it('a reader limited to another workspace gets 404 for either side', async () => {
    expectProblem(await api.get('/api/diff', q, { principal: AS.readerOfOther }), 404, 'not-found');
    // Even paired with a registry model it may see, the sample side stays unknown.
    expectProblem(
      await api.get('/api/diff', { from: REGISTRY_MODEL_URI, to: S.models.v3 }, { principal: AS.readerOfOther }),
      404,
      'not-found',
    );
  });
});
