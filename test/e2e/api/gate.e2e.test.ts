import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gateAnswerSchema } from '../../../shared/api/schemas.js';
import { AS, S, WS, expectInvalidParameter, expectOk, expectProblem, type Api, type CallOptions, withSampleApi } from './harness.js';

/** GET /api/gate: is a model version traceable enough to promote (Q7). 200 passed, 422 what is missing. */
let api: Api;
withSampleApi((started) => (api = started));

const gate = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/gate', params, options), gateAnswerSchema);
const failure = z.object({
  missing: z.array(z.string()),
  checks: gateAnswerSchema.shape.checks,
  model: z.object({ id: z.string(), key: z.string(), label: z.string() }),
});

describe('happy', () => {
  it('credit-default:3 passes the default policy (data, code, environment, job) with the evidence for each', async () => {
    const g = await gate({ ref: 'azureml:credit-default:3', workspace: WS });
    expect(g).toMatchObject({ passed: true, missing: [], model: { label: 'credit-default:3' } });
    expect(g.required).toEqual(['data', 'code', 'environment', 'job']);
    expect(g.checks.job).toEqual({ present: true, evidence: ['credit-train-20240501'] });
    expect(g.checks.data?.evidence).toEqual(expect.arrayContaining(['credit-applications:3', 'credit-bureau-features:2']));
    expect(g.checks.code?.evidence).toEqual(expect.arrayContaining(['credit-src:7', 'github.com/contoso/credit-models@9c1e4f7a2b3d']));
    expect(g.checks.environment).toEqual({ present: true, evidence: ['lightgbm-env:5'] });
    expect(g.checks.metrics?.present).toBe(true);
    expect(g.checks.metrics?.evidence).toEqual(expect.arrayContaining(['auc=0.803', 'log_loss=0.395']));
    expect(g.checks.approval).toEqual({ present: false, evidence: [] });
  });

  it('credit-default:3 fails require=metrics,approval with 422 naming the approval: its run logged metrics', async () => {
    const res = await api.get('/api/gate', { ref: S.models.v3, require: 'metrics,approval' });
    const p = expectProblem(res, 422, 'gate-failed');
    const f = failure.parse(p);
    expect(f.missing).toEqual(['approval']);
    expect(f.model).toMatchObject({ label: 'credit-default:3', key: S.models.v3.toLowerCase() });
    expect(f.checks.data?.present).toBe(true);
    expect(p.detail).toBe('credit-default:3 does not meet approval.');
  });

  it('credit-default:2 is approved by its production stage tag (the default rules) and has metrics', async () => {
    const g = await gate({ ref: S.models.v2, require: 'data,code,environment,job,metrics,approval' });
    expect(g.passed).toBe(true);
    expect(g.checks.approval?.evidence).toEqual([expect.stringMatching(/^approved by unknown at 2024-04-1\d\S+ \(tag\)$/)]);
    const loose = await gate({ ref: S.models.v2, require: ' metrics , job ' });
    expect(loose).toMatchObject({ passed: true, required: ['metrics', 'job'], missing: [] });
  });
});

describe('thresholds', () => {
  it('pass when the run met them, fail with 422 naming each unmet threshold with the observed value', async () => {
    const ok = await gate({ ref: S.models.v3, require: 'metric:auc>=0.8,metric:log_loss<0.4' });
    expect(ok.passed).toBe(true);
    expect(ok.checks['metric:auc>=0.8']).toEqual({ present: true, evidence: ['auc=0.803 (credit-train-20240501)'], observed: 0.803 });

    const p = expectProblem(
      await api.get('/api/gate', { ref: S.models.v2, require: 'data,metric:auc>=0.8,metric:log_loss<0.4,metric:ks>0.3' }),
      422,
      'gate-failed',
    );
    const f = failure.extend({ unmet: z.array(z.string()) }).parse(p);
    expect(f.missing).toEqual(['metric:auc>=0.8', 'metric:log_loss<0.4', 'metric:ks>0.3']);
    expect(f.unmet).toEqual([
      'metric:auc>=0.8 (observed 0.781)',
      'metric:log_loss<0.4 (observed 0.412)',
      'metric:ks>0.3 (observed no such metric)',
    ]);
    expect(f.checks['metric:auc>=0.8']).toMatchObject({ present: false, observed: 0.781 });
    expect(f.checks['metric:ks>0.3']).toMatchObject({ present: false, observed: null });
    expect(p.detail).toBe(
      'credit-default:2 does not meet metric:auc>=0.8 (observed 0.781); metric:log_loss<0.4 (observed 0.412); metric:ks>0.3 (observed no such metric).',
    );
  });

  it('a malformed threshold is 400 naming require', async () => {
    for (const bad of ['metric:auc', 'metric:auc=>0.8', 'metric:auc>=high']) {
      expectInvalidParameter(await api.get('/api/gate', { ref: S.models.v3, require: bad }), 'require');
    }
  });
});

describe('errors', () => {
  it('a missing, blank or oversized ref is 400 naming ref', async () => {
    expectInvalidParameter(await api.get('/api/gate'), 'ref');
    expectInvalidParameter(await api.get('/api/gate', { ref: '  ' }), 'ref');
    expectInvalidParameter(await api.get('/api/gate', { ref: 'r'.repeat(2049) }), 'ref');
  });

  it('an unknown requirement, or an oversized require, is 400 naming require', async () => {
    expectInvalidParameter(await api.get('/api/gate', { ref: S.models.v3, require: 'data,vibes' }), 'require');
    expectInvalidParameter(await api.get('/api/gate', { ref: S.models.v3, require: 'data,'.repeat(50) }), 'require');
  });

  it('a job or a data version is 400 invalid-ref: the gate checks model versions', async () => {
    for (const ref of [S.jobs.train, S.data.v3]) expectProblem(await api.get('/api/gate', { ref }), 400, 'invalid-ref');
  });

  it('an unknown model version is 404 not-found', async () => {
    expectProblem(await api.get('/api/gate', { ref: `${WS}/models/credit-default/versions/4` }), 404, 'not-found');
    expectProblem(await api.get('/api/gate', { ref: 'azureml:credit-default:4', workspace: WS }), 404, 'not-found');
  });
});

describe('security', () => {
  const q = { ref: S.models.v3 };

  it('without a key, or with a wrong one, the host answers 401; function and admin keys open it', async () => {
    expect((await api.get('/api/gate', q, { key: 'none' })).status).toBe(401);
    expect((await api.get('/api/gate', q, { key: { value: 'wrong' }, keyIn: 'header' })).status).toBe(401);
    await gate(q, { key: 'function', keyIn: 'header' });
    await gate(q, { key: 'admin' });
  });

  it('Entra: readers read it; no lineage role is 403; a malformed header is 401', async () => {
    expect((await gate(q, { principal: AS.reader })).passed).toBe(true);
    expectProblem(await api.get('/api/gate', q, { principal: AS.noRoles }), 403, 'forbidden');
    expectProblem(await api.get('/api/gate', q, { principal: AS.malformed }), 401, 'unauthorized');
  });

  it('a reader limited to another workspace gets 404, never a pass or a list of what is missing', async () => {
    expectProblem(await api.get('/api/gate', q, { principal: AS.readerOfOther }), 404, 'not-found');
    expectProblem(await api.get('/api/gate', { ...q, require: 'metrics' }, { principal: AS.readerOfOther }), 404, 'not-found');
  });
});
