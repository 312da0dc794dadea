import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { impactAnswerSchema, lineageAnswerSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  ENDPOINT,
  REGISTRY_DATA_URI,
  S,
  WS,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  mentionsSampleWorkspace,
  type Api,
  type CallOptions,
  withSampleApi,
} from './harness.js';

/** GET /api/impact: what depends on a data version, environment, code, commit or model now (Q5). */
let api: Api;
withSampleApi((started) => (api = started));

type Impact = z.infer<typeof impactAnswerSchema>;
const impact = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/impact', params, options), impactAnswerSchema);
const items = (a: Impact) => [...a.models, ...a.deployments, ...a.endpoints, ...a.jobs, ...a.other];

/** Each path starts at the root, ends at the item and follows downstream edges of the graph. */
async function expectPathsFollowEdges(a: Impact, ref: string): Promise<void> {
  const graph = expectOk(await api.get('/api/lineage', { ref, direction: 'downstream', depth: '25' }), lineageAnswerSchema);
  const edges = new Set(graph.edges.map((e) => `${e.from}>${e.to}`));
  for (const item of items(a)) {
    expect(item.path[0], item.node.label).toBe(a.root.id);
    expect(item.path.at(-1), item.node.label).toBe(item.node.id);
    for (let i = 1; i < item.path.length; i++)
      expect(edges.has(`${item.path[i - 1]}>${item.path[i]}`), `${item.node.label}: hop ${i}`).toBe(true);
  }
}

describe('happy', () => {
  it('credit-applications:3 reaches model credit-default:3, both pipeline jobs, the batch job scoring it, the green deployment and the endpoint', async () => {
    const a = await impact({ ref: 'azureml:credit-applications:3', workspace: WS });
    expect(a.root).toMatchObject({ kind: 'data', label: 'credit-applications:3' });
    expect(a.partial).toBe(false);
    expect(a.models.map((m) => m.node.label)).toEqual(['credit-default:3']);
    expect(a.jobs.map((j) => j.node.label).sort()).toEqual([
      'credit-batch-score-20240601',
      'credit-prep-20240501',
      'credit-train-20240501',
    ]);
    // Green serves credit-default:3 but takes no traffic; blue serves credit-default:2, built from credit-applications:2.
    expect(a.deployments.map((d) => [d.node.label, d.servingNow, d.trafficShare])).toEqual([['credit-scoring/green', false, 0]]);
    expect(a.deployments[0]?.model).toBe(S.models.v3.toLowerCase());
    expect(a.endpoints.map((e) => [e.node.key, e.servingDeployments])).toEqual([[ENDPOINT.toLowerCase(), []]]);
    const model = a.models[0];
    expect(model?.path).toHaveLength(5); // data -> prep -> prepared_data -> train -> model
    const greenPath = a.deployments[0]?.path ?? [];
    expect(greenPath.slice(0, model?.path.length)).toEqual(model?.path);
    await expectPathsFollowEdges(a, S.data.v3);
  });

  it('credit-applications:2 reaches credit-default:2, blue and the batch default deployment, which serve it now, and the batch job', async () => {
    const a = await impact({ ref: S.data.v2 });
    expect(a.models.map((m) => m.node.label)).toEqual(['credit-default:2']);
    expect(a.jobs.map((j) => j.node.label).sort()).toEqual(['credit-batch-score-20240601', 'credit-train-20240415']);
    expect(a.deployments.map((d) => [d.node.label, d.servingNow, d.trafficShare]).sort()).toEqual([
      ['credit-batch/monthly', true, 100],
      ['credit-scoring/blue', true, 100],
    ]);
    const serving = a.deployments.map((d) => d.node.id).sort();
    expect(a.endpoints.flatMap((e) => e.servingDeployments).sort()).toEqual(serving);
    await expectPathsFollowEdges(a, S.data.v2);
  });

  it('a model version as the root: credit-default:2 is served now by blue through the endpoint', async () => {
    const a = await impact({ ref: S.models.v2 });
    expect(a.models).toEqual([]);
    expect(a.deployments.map((d) => [d.node.label, d.servingNow]).sort()).toEqual([
      ['credit-batch/monthly', true],
      ['credit-scoring/blue', true],
    ]);
    expect(a.endpoints.flatMap((e) => e.servingDeployments).sort()).toEqual(a.deployments.map((d) => d.node.id).sort());
  });

  it('a shared environment reaches every job and model built with it', async () => {
    const a = await impact({ ref: S.environments.v5 });
    expect(a.jobs.map((j) => j.node.label).sort()).toEqual([
      'credit-batch-score-20240601',
      'credit-prep-20240501',
      'credit-train-20240415',
      'credit-train-20240501',
    ]);
    expect(a.models.map((m) => m.node.label).sort()).toEqual(['credit-default:2', 'credit-default:3']);
    expect(a.deployments.map((d) => d.node.label).sort()).toEqual(['credit-batch/monthly', 'credit-scoring/blue', 'credit-scoring/green']);
  });

  it('depth bounds the walk', async () => {
    const a = await impact({ ref: S.data.v3, depth: '1' });
    expect(a.jobs.map((j) => j.node.label).sort()).toEqual(['credit-batch-score-20240601', 'credit-prep-20240501']);
    expect([a.models, a.deployments, a.endpoints, a.other]).toEqual([[], [], [], []]);
  });
});

describe('errors', () => {
  it('a missing, blank or oversized ref is 400 naming ref', async () => {
    expectInvalidParameter(await api.get('/api/impact'), 'ref');
    expectInvalidParameter(await api.get('/api/impact', { ref: '' }), 'ref');
    expectInvalidParameter(await api.get('/api/impact', { ref: `${S.data.v3}${'/x'.repeat(1100)}` }), 'ref');
  });

  it('absurd depths are refused naming depth: 0, 51, 1000, fractional', async () => {
    for (const depth of ['0', '51', '1000', '0.5'])
      expectInvalidParameter(await api.get('/api/impact', { ref: S.data.v3, depth }), 'depth');
  });

  it('a ref in no accepted form is 400 invalid-ref; an unknown one 404 not-found', async () => {
    expectProblem(await api.get('/api/impact', { ref: 'credit-applications' }), 400, 'invalid-ref');
    expectProblem(await api.get('/api/impact', { ref: 'azureml:credit-applications:99' }), 404, 'not-found');
    expectProblem(await api.get('/api/impact', { ref: `${WS}/data/credit-applications/versions/9` }), 404, 'not-found');
  });
});

describe('security', () => {
  const q = { ref: S.data.v3 };

  it('without a key, or with a wrong one, the host answers 401; function and admin keys open it', async () => {
    expect((await api.get('/api/impact', q, { key: 'none' })).status).toBe(401);
    expect((await api.get('/api/impact', q, { key: { value: 'wrong' }, keyIn: 'header' })).status).toBe(401);
    await impact(q, { key: 'function', keyIn: 'header' });
    await impact(q, { key: 'admin' });
  });

  it('Entra: readers read it; no lineage role is 403; a malformed header is 401', async () => {
    expect((await impact(q, { principal: AS.reader })).models).toHaveLength(1);
    expectProblem(await api.get('/api/impact', q, { principal: AS.noRoles }), 403, 'forbidden');
    expectProblem(await api.get('/api/impact', q, { principal: AS.malformed }), 401, 'unauthorized');
  });

  it('a reader limited to another workspace gets 404 for the sample refs', async () => {
    for (const ref of [S.data.v3, S.models.v2, S.environments.v5])
      expectProblem(await api.get('/api/impact', { ref }, { principal: AS.readerOfOther }), 404, 'not-found');
  });

  it('a reader limited to another workspace sees a registry asset, and nothing of the sample workspace that depends on it', async () => {
    const a = await impact({ ref: REGISTRY_DATA_URI }, { principal: AS.readerOfOther });
    expect(a.root).toMatchObject({ label: 'credit-bureau-features:2', workspace: null });
    expect(items(a)).toEqual([]);
    expect(a.hidden).toBeGreaterThan(0);
    expect(mentionsSampleWorkspace(a)).toBe(false);
    // An unrestricted reader sees what the registry asset feeds.
    expect((await impact({ ref: REGISTRY_DATA_URI }, { principal: AS.reader })).models.map((m) => m.node.label)).toEqual([
      'credit-default:3',
    ]);
  });
});
