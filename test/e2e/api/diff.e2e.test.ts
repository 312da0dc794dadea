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

    // Data by version and by the digest the training runs logged (MLflow dataset inputs).
    const data = aspect(d, 'data');
    expect(data?.from.value).toEqual({ 'credit-applications': { version: '2', digests: ['5f0e2a91'] } });
    expect(Object.keys(data?.to.value as object)).toEqual(expect.arrayContaining(['credit-applications', 'credit-bureau-features']));
    expect(data?.changes).toContainEqual({
      name: 'credit-applications',
      from: { version: '2', digests: ['5f0e2a91'] },
      to: { version: '3', digests: ['8e3b11d4'] },
    });
    const code = aspect(d, 'code');
    expect([code?.from.value, code?.to.value]).toEqual([['credit-src:6'], ['credit-src:7']]);
    // Code by commit, per repository.
    expect(aspect(d, 'commits')?.changes).toEqual([
      {
        name: 'github.com/contoso/credit-models',
        from: '4b7d2e91c0a35f6e8d1b2c3a4f5e6d7c8b9a0f1e',
        to: '9c1e4f7a2b3d5e6f8091a2b3c4d5e6f708192a3b',
      },
    ]);
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
      from: { value: { learning_rate: '0.1', n_estimators: '200', num_leaves: '31' } },
      to: { value: { learning_rate: '0.05', n_estimators: '400', num_leaves: '63' } },
    });
    expect(aspect(d, 'parameters')?.changes).toContainEqual({ name: 'num_leaves', from: '31', to: '63' });
    // The job's literal inputs and its MLflow run's params, each named with the event behind it.
    expect(
      aspect(d, 'parameters')
        ?.from.provenance.map((p) => p.fact)
        .sort(),
    ).toEqual(['mlflowParams', 'parameters']);
    for (const p of aspect(d, 'parameters')?.from.provenance ?? []) expect(p.hash).toMatch(SHA256);
    expect(aspect(d, 'tags')).toMatchObject({
      from: { value: { team: 'risk', stage: 'production' } },
      to: { value: { team: 'risk', stage: 'candidate' } },
    });
    // Metrics from each producing job's MLflow run: values, deltas and which way is better.
    const metrics = aspect(d, 'metrics');
    expect(metrics).toMatchObject({ from: { value: { auc: 0.781, f1: 0.611 } }, to: { value: { auc: 0.803, f1: 0.598 } } });
    expect(metrics?.changes).toEqual([
      { name: 'accuracy', from: 0.842, to: 0.851, delta: 0.009, direction: 'higher', verdict: 'better' },
      { name: 'auc', from: 0.781, to: 0.803, delta: 0.022, direction: 'higher', verdict: 'better' },
      { name: 'f1', from: 0.611, to: 0.598, delta: -0.013, direction: 'higher', verdict: 'worse' },
      { name: 'log_loss', from: 0.412, to: 0.395, delta: -0.017, direction: 'lower', verdict: 'better' },
      { name: 'training_time_s', from: 2273.4, to: 2411.9, delta: 138.5, direction: null, verdict: 'changed' },
    ]);
    expect(metrics?.to.provenance).toEqual([expect.objectContaining({ fact: 'metrics', eventTime: '2024-05-01T08:41:12.006Z' })]);
    // credit-default:2's production stage tag is an approval (the default rules); :3 has none.
    expect(aspect(d, 'approvals')).toMatchObject({
      from: { value: [expect.objectContaining({ decision: 'approved', source: 'tag' })] },
      to: { value: [] },
    });
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
    for (const x of ab.differences) {
      const y = aspect(ba, x.aspect);
      expect({ aspect: y?.aspect, from: y?.from, to: y?.to }).toEqual({ aspect: x.aspect, from: x.to, to: x.from });
      // Each changed value swaps too; a metric's delta changes sign and better becomes worse.
      expect(y?.changes?.map((c) => [c.name, c.from, c.to, c.delta])).toEqual(
        x.changes?.map((c) => [c.name, c.to, c.from, typeof c.delta === 'number' ? -c.delta || 0 : c.delta]),
      );
    }
    expect(aspect(ba, 'metrics')?.changes?.find((c) => c.name === 'auc')?.verdict).toBe('worse');
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
    expectProblem(await api.get('/api/diff', { from: 'credit-default', to: S.models.v3 }), 400, 'invalid-ref');
    expectProblem(await api.get('/api/diff', { from: 'azureml:credit-default:42', to: S.models.v3 }), 404, 'not-found');
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
