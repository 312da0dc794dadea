import { describe, expect, it } from 'vitest';
import { dueForReconcile } from '../../shared/compliance/reconcile.js';
import {
  compareEnvironments,
  freshnessSection,
  imageDigest,
  percentile,
  servingMatchesTrainingSection,
  type ServingEntry,
  type ServingState,
} from '../../shared/compliance/servingCheck.js';
import type { NodeSummary } from '../../shared/store/graphStore.js';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

function entry(overrides: Partial<ServingEntry>): ServingEntry {
  return {
    label: 'credit/blue',
    workspace: 'ws',
    serving: true,
    lastObservedAt: '2024-05-01T10:00:00.000Z',
    model: 'credit:1',
    trainingJob: 'train-1',
    comparisons: [
      {
        aspect: 'environment',
        verdict: 'match',
        serving: { asset: 'env:1', image: 'img:1', digest: null },
        training: { asset: 'env:1', image: 'img:1', digest: null },
      },
      { aspect: 'code', verdict: 'match', serving: { asset: 'src:1' }, training: { asset: 'src:1' } },
    ],
    dependsOn: [],
    ...overrides,
  };
}

describe('freshness', () => {
  const at = '2024-05-02T10:00:00.000Z';
  const state: ServingState = {
    deployments: {
      a: entry({ label: 'a', lastObservedAt: '2024-05-02T09:50:00.000Z' }), // 10 min
      b: entry({ label: 'b', lastObservedAt: '2024-05-02T08:00:00.000Z' }), // 2 h
      c: entry({ label: 'c', lastObservedAt: '2024-04-30T10:00:00.000Z' }), // 2 d: stale
      d: entry({ label: 'd', lastObservedAt: null }), // never observed itself: stale, no age
      idle: entry({ label: 'idle', serving: false, lastObservedAt: '2020-01-01T00:00:00.000Z' }),
    },
  };

  it('reports the ages of serving deployments at p50, p95 and max as of the check, and lists the stale ones', () => {
    const s = freshnessSection(state, at, 24);
    expect(s).toMatchObject({
      numerator: 2,
      denominator: 4,
      ratio: 0.5,
      staleAfterHours: 24,
      p50Seconds: 7200,
      p95Seconds: 172_800,
      maxSeconds: 172_800,
    });
    expect(s.items).toEqual([
      { node: 'c', label: 'c', workspace: 'ws', lastObservedAt: '2024-04-30T10:00:00.000Z', ageSeconds: 172_800 },
      { node: 'd', label: 'd', workspace: 'ws', lastObservedAt: null, ageSeconds: null },
    ]);
  });

  it('takes the stale threshold from the setting', () => {
    expect(freshnessSection(state, at, 1).items.map((i) => i.node)).toEqual(['b', 'c', 'd']);
    expect(freshnessSection(state, at, 100).items.map((i) => i.node)).toEqual(['d']);
  });

  it('has nothing to measure without serving deployments', () => {
    expect(freshnessSection({ deployments: {} }, at, 24)).toMatchObject({ ratio: null, p50Seconds: null, maxSeconds: null });
  });

  it('uses nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('serving versus training', () => {
  it('reads the digest an image reference pins, and none from a tag', () => {
    expect(imageDigest(`mcr.microsoft.com/azureml/sklearn@${DIGEST_A.toUpperCase().replace('SHA256', 'sha256')}`)).toBe(DIGEST_A);
    expect(imageDigest('mcr.microsoft.com/azureml/sklearn:latest')).toBeNull();
    expect(imageDigest(null)).toBeNull();
  });

  it('matches environments by asset version, else by image, with digests deciding wherever both are known', () => {
    const side = (asset: string | null, image: string | null, digest: string | null = null) => ({ asset, image, digest });
    expect(compareEnvironments(side('env:1', null), side('env:1', null), true)).toBe('match');
    expect(compareEnvironments(side('env:2', 'img:1'), side('env:1', 'img:1'), false)).toBe('match');
    expect(compareEnvironments(side('env:2', 'img:2'), side('env:1', 'img:1'), false)).toBe('mismatch');
    expect(compareEnvironments(side('env:2', `img@${DIGEST_A}`, DIGEST_A), side('env:1', `img@${DIGEST_B}`, DIGEST_B), false)).toBe(
      'mismatch',
    );
    expect(compareEnvironments(side('env:2', `r1/img@${DIGEST_A}`, DIGEST_A), side('env:1', `r2/img@${DIGEST_A}`, DIGEST_A), false)).toBe(
      'match',
    );
    expect(compareEnvironments(side('env:2', null), side('env:1', null), false)).toBe('mismatch');
    expect(compareEnvironments(side(null, null), side('env:1', 'img:1'), false)).toBe('unknown');
  });

  it('lists serving deployments with a mismatch or an unknown side, with both sides; idle ones are not counted', () => {
    const mismatch = entry({
      label: 'green',
      comparisons: [
        {
          aspect: 'environment',
          verdict: 'mismatch',
          serving: { asset: 'env:2', image: 'img:2', digest: null },
          training: { asset: 'env:1', image: 'img:1', digest: null },
        },
        { aspect: 'code', verdict: 'unknown', serving: { asset: null }, training: { asset: 'src:1' } },
      ],
    });
    const s = servingMatchesTrainingSection({
      deployments: { blue: entry({ label: 'blue' }), green: mismatch, idle: { ...mismatch, label: 'idle', serving: false } },
    });
    expect(s).toMatchObject({ numerator: 1, denominator: 2, ratio: 0.5 });
    expect(s.items).toEqual([
      { node: 'green', label: 'green', workspace: 'ws', model: 'credit:1', trainingJob: 'train-1', comparisons: mismatch.comparisons },
    ]);
  });
});

describe('reconcile', () => {
  const now = new Date('2024-05-02T10:00:00Z');
  const node = (overrides: Partial<NodeSummary>): NodeSummary => ({
    id: 'x',
    kind: 'job',
    key: '/subscriptions/s/x',
    placeholder: false,
    deleted: false,
    status: undefined,
    lastLearnedAt: '2024-05-02T09:00:00Z',
    ...overrides,
  });

  it('reads every endpoint and deployment not deleted, whatever its age', () => {
    expect(dueForReconcile(node({ kind: 'endpoint' }), now, 24)).toBe(true);
    expect(dueForReconcile(node({ kind: 'deployment' }), now, 24)).toBe(true);
    expect(dueForReconcile(node({ kind: 'deployment', deleted: true }), now, 24)).toBe(false);
  });

  it('reads unfinished jobs and never-fetched nodes only once our latest observation is older than the setting', () => {
    const old = '2024-04-30T10:00:00Z';
    expect(dueForReconcile(node({ status: 'Running' }), now, 24)).toBe(false);
    expect(dueForReconcile(node({ status: 'Running', lastLearnedAt: old }), now, 24)).toBe(true);
    expect(dueForReconcile(node({ status: 'Completed', lastLearnedAt: old }), now, 24)).toBe(false);
    expect(dueForReconcile(node({ kind: 'model', lastLearnedAt: old }), now, 24)).toBe(false);
    expect(dueForReconcile(node({ kind: 'model', placeholder: true, lastLearnedAt: null }), now, 24)).toBe(true);
  });
});
