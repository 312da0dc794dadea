import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { nodeSchema } from '../../../shared/api/schemas.js';
import { AS, S, SHA256, expectOk, expectProblem, type Api, withSampleApi } from './harness.js';

/**
 * GET /api/metrics/history: a metric's every logged value from the workspace's MLflow tracking
 * server (the stand-in's metrics/get-history), through the local host with the sample workspace.
 */
let api: Api;
withSampleApi((started) => (api = started));

const history = z.object({
  job: nodeSchema,
  metric: z.string(),
  values: z.array(z.object({ value: z.number(), step: z.number().optional(), timestamp: z.number().optional() })),
  hash: z.string(),
  fetched: z.boolean(),
});

describe('happy', () => {
  it("a model version's producing run: every step, fetched once, then answered from the graph with the same evidence", async () => {
    const first = expectOk(await api.get('/api/metrics/history', { ref: S.models.v2, metric: 'log_loss' }), history);
    expect(first).toMatchObject({ job: { label: 'credit-train-20240415' }, metric: 'log_loss', fetched: true });
    expect(first.hash).toMatch(SHA256);
    expect(first.values.map((v) => [v.step, v.value])).toEqual([
      [0, 0.468],
      [1, 0.437],
      [2, 0.421],
      [3, 0.412],
    ]);

    const again = expectOk(await api.get('/api/metrics/history', { ref: S.models.v2, metric: 'log_loss' }), history);
    expect(again).toEqual({ ...first, fetched: false });

    // The raw answer is evidence of the job, like any REST observation.
    const evidence = await api.get('/api/evidence', { ref: S.models.v2 }, { principal: AS.auditor });
    expect(evidence.status, evidence.text).toBe(200);
    expect((evidence.body as { rawEvents: Array<{ hash: string }> }).rawEvents).toContainEqual(
      expect.objectContaining({ hash: first.hash }),
    );
  });

  it('a job by its ARM id; another run has its own values', async () => {
    const h = expectOk(await api.get('/api/metrics/history', { ref: S.jobs.train, metric: 'auc' }), history);
    expect(h.job.label).toBe('credit-train-20240501');
    expect(h.values.map((v) => v.value)).toEqual([0.761, 0.784, 0.797, 0.803]);
  });
});

describe('errors', () => {
  it('a metric the finished run never logged is 404; a data asset has no metrics (400); metric is required', async () => {
    expectProblem(await api.get('/api/metrics/history', { ref: S.models.v3, metric: 'ks' }), 404, 'not-found');
    expectProblem(await api.get('/api/metrics/history', { ref: S.data.v3, metric: 'auc' }), 400, 'invalid-ref');
    expect((await api.get('/api/metrics/history', { ref: S.models.v3 })).status).toBe(400);
  });

  it('readers only', async () => {
    expectProblem(await api.get('/api/metrics/history', { ref: S.models.v3, metric: 'auc' }, { principal: AS.noRoles }), 403, 'forbidden');
    expect((await api.get('/api/metrics/history', { ref: S.models.v3, metric: 'auc' }, { key: 'none' })).status).toBe(401);
  });
});
