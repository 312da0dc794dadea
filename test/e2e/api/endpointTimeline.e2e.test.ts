import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { asOfAnswerSchema, lineageAnswerSchema, timelineAnswerSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  ENDPOINT,
  S,
  WS,
  endpointWrite,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  playSampleRollout,
  until,
  type Api,
  type CallOptions,
  withSampleApi,
} from './harness.js';

/** GET /api/endpoints/timeline: what served an endpoint over time, the last good version and the rollback command. */
let api: Api;
withSampleApi((started) => (api = started));
// credit-default:3 rolled out on green, breached its monitor and was rolled back (SAMPLE_ROLLOUT).
beforeAll(() => playSampleRollout(api), 180_000);

const timeline = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/endpoints/timeline', params, options), timelineAnswerSchema);

describe('happy', () => {
  it('the sample: blue serves credit-default:2 at 100 %, green waits at 0 % with credit-default:3; blue is the last good version', async () => {
    const t = await timeline({ endpoint: ENDPOINT });
    expect(t.endpoint).toMatchObject({ label: 'credit-scoring', type: 'online' });
    expect(t.current).toEqual([
      { deployment: 'credit-scoring/blue', share: 100, model: 'credit-default:2' },
      { deployment: 'credit-scoring/green', share: 0, model: 'credit-default:3' },
    ]);
    expect(t.lastGood).toMatchObject({ model: 'credit-default:2', deployment: 'credit-scoring/blue', servedUntil: null });
    expect(t.rollback?.alreadyServing).toBe(true);
    expect(t.rollback?.steps[0]?.command).toBe(
      'az ml online-endpoint update --name credit-scoring --traffic "blue=100 green=0" --resource-group rg-ml-prod --workspace-name ws-credit',
    );
  });

  it('the rollout: green took 10 %, then all traffic, breached its monitor and was rolled back; credit-default:3 is not good', async () => {
    const t = await timeline({ endpoint: 'credit-scoring' });
    const green = t.changes.filter((c) => c.kind === 'traffic' && c.deployment === 'credit-scoring/green');
    expect(green.map((c) => [c.at.slice(0, 10), c.from, c.to])).toEqual([
      ['2024-05-02', null, 0],
      ['2024-05-21', 0, 10],
      ['2024-05-22', 10, 100],
      ['2024-05-23', 100, 0],
    ]);
    const v3 = t.versions.find((v) => v.model.label === 'credit-default:3');
    expect(v3?.maxShare).toBe(100);
    expect(v3?.driftSignals).toEqual([
      expect.objectContaining({ source: 'model-monitor', deployment: 'credit-scoring/green', attributed: expect.any(Boolean) }),
    ]);
    expect(v3?.driftSignals[0]?.label).toBe('scoring-monitor-20240523');
    expect(v3).toMatchObject({ good: false, notGoodBecause: ['1 drift signal(s) while it served'] });
    expect(t.lastGood?.model).toBe('credit-default:2');
  });

  it('as of the breach, before the rollback: green serves credit-default:3 and the rollback command returns traffic to blue', async () => {
    const t = await timeline({ endpoint: ENDPOINT, until: '2024-05-23T09:45:00Z' });
    expect(t.current.filter((c) => c.share > 0)).toEqual([{ deployment: 'credit-scoring/green', share: 100, model: 'credit-default:3' }]);
    expect(t.lastGood).toMatchObject({ model: 'credit-default:2', deployment: 'credit-scoring/blue' });
    expect(Date.parse(t.lastGood?.servedUntil ?? '')).toBe(Date.parse('2024-05-22T08:00:00Z'));
    expect(t.rollback?.alreadyServing).toBe(false);
    expect(t.rollback?.steps.map((s) => s.command)).toEqual([
      'az ml online-endpoint update --name credit-scoring --traffic "blue=100 green=0" --resource-group rg-ml-prod --workspace-name ws-credit',
    ]);
  });

  it('a bare endpoint name resolves with the workspace ARM id, its short name, or none', async () => {
    for (const workspace of [WS, 'ws-credit', undefined])
      expect((await timeline({ endpoint: 'credit-scoring', ...(workspace ? { workspace } : {}) })).endpoint.key).toBe(
        ENDPOINT.toLowerCase(),
      );
    expectProblem(await api.get('/api/endpoints/timeline', { endpoint: 'credit-scoring', workspace: 'ws-other' }), 404, 'not-found');
  });

  it('after traffic moves from blue to green, the timeline shows the switch and green serving', async () => {
    await api.standInControl('setTraffic', {
      endpoint: 'credit-scoring',
      traffic: { blue: 0, green: 100 },
      at: '2024-06-01T00:00:00.0000000+00:00',
    });
    await api.eventHub([endpointWrite('2024-06-01T00:00:01Z')]);
    const t = await until(
      'the traffic switch in the timeline',
      () => timeline({ endpoint: ENDPOINT }),
      (a) => a.current[0]?.deployment === 'credit-scoring/green',
    );
    const switched = t.changes.filter((c) => c.kind === 'traffic' && Date.parse(c.at) === Date.parse('2024-06-01T00:00:00Z'));
    expect(switched.map((c) => [c.deployment, c.from, c.to])).toEqual([
      ['credit-scoring/blue', 100, 0],
      ['credit-scoring/green', 0, 100],
    ]);
    const v2 = t.versions.find((v) => v.model.label === 'credit-default:2');
    expect(Date.parse(v2?.periods.at(-1)?.until ?? '')).toBe(Date.parse('2024-06-01T00:00:00Z'));
    expect(t.versions.find((v) => v.model.label === 'credit-default:3')?.periods.at(-1)?.until).toBeNull();
    // As of before the switch, the answer is the one it was then.
    const before = await timeline({ endpoint: ENDPOINT, until: '2024-05-20T00:00:00Z' });
    expect(before.current[0]).toEqual({ deployment: 'credit-scoring/blue', share: 100, model: 'credit-default:2' });
  });
});

describe('batch', () => {
  it('the batch scoring job brings its batch endpoint: as-of answers name the default deployment, the timeline its model', async () => {
    const asOf = await until(
      'the batch endpoint to be enriched from its scoring job',
      async () => api.get('/api/lineage/as-of', { endpoint: S.batchEndpoint, at: '2024-06-01T02:00:00Z' }),
      (a) => a.status === 200 && (a.body as z.infer<typeof asOfAnswerSchema>).serving.some((s) => s.model !== null),
    );
    const served = expectOk(asOf, asOfAnswerSchema).serving;
    expect(served.map((s) => [s.deployment.label, s.trafficShare, s.model?.label])).toEqual([
      ['credit-batch/monthly', 100, 'credit-default:2'],
    ]);
    const job = expectOk(await api.get('/api/lineage', { ref: S.jobs.batchScore, direction: 'upstream', depth: '2' }), lineageAnswerSchema);
    expect(job.edges.some((e) => e.kind === 'deploymentOf')).toBe(true);
    const t = await timeline({ endpoint: 'credit-batch', workspace: WS });
    expect(t.endpoint.type).toBe('batch');
    expect(t.current).toEqual([{ deployment: 'credit-batch/monthly', share: 100, model: 'credit-default:2' }]);
    expect(t.rollback?.steps[0]?.command).toContain(
      'az ml batch-endpoint update --name credit-batch --set defaults.deployment_name=monthly',
    );
  });
});

describe('errors', () => {
  it('a missing endpoint is 400 naming endpoint; an unreadable moment is 400', async () => {
    expectInvalidParameter(await api.get('/api/endpoints/timeline', {}), 'endpoint');
    expectProblem(await api.get('/api/endpoints/timeline', { endpoint: ENDPOINT, since: 'yesterday' }), 400, 'invalid-request');
  });

  it('something other than an endpoint is 400 invalid-ref', async () => {
    expectProblem(await api.get('/api/endpoints/timeline', { endpoint: S.models.v3 }), 400, 'invalid-ref');
    expectProblem(await api.get('/api/endpoints/timeline', { endpoint: 'credit scoring' }), 400, 'invalid-ref');
  });

  it('an endpoint with no recorded lineage is 404', async () => {
    expectProblem(await api.get('/api/endpoints/timeline', { endpoint: `${WS}/onlineEndpoints/fraud-scoring` }), 404, 'not-found');
  });
});

describe('security', () => {
  it('needs a key; a reader of another workspace gets 404; no role is 403', async () => {
    expect((await api.get('/api/endpoints/timeline', { endpoint: ENDPOINT }, { key: 'none' })).status).toBe(401);
    expectProblem(await api.get('/api/endpoints/timeline', { endpoint: ENDPOINT }, { principal: AS.readerOfOther }), 404, 'not-found');
    expectProblem(await api.get('/api/endpoints/timeline', { endpoint: ENDPOINT }, { principal: AS.noRoles }), 403, 'forbidden');
    await timeline({ endpoint: ENDPOINT }, { principal: AS.readerOfSample });
  });
});
