import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertedNode, edgePair, mergeEdges, mergeNodes, placeholderNode, PROVENANCE_CAP } from '../../shared/graph/merge.js';
import { parseWorkspaceId, versionedAsset, namedResource } from '../../shared/graph/keys.js';
import type { NodeDoc, Provenance } from '../../shared/graph/model.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';
import { WS } from '../helpers/fixtures.js';

const ws = parseWorkspaceId(WS)!;
const model = versionedAsset(ws, 'models', 'credit', '3');

const provenance: fc.Arbitrary<Provenance> = fc
  .record({
    second: fc.integer({ min: 0, max: 5 }),
    frac: fc.integer({ min: 0, max: 3 }),
    hash: fc.constantFrom('sha256:a', 'sha256:b', 'sha256:c', 'sha256:d'),
    learned: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ second, frac, hash, learned }) => ({
    source: 'eventgrid',
    eventId: `e-${hash}`,
    eventType: 'Microsoft.MachineLearningServices.ModelRegistered',
    eventTime: `2024-01-01T00:00:0${second}.${frac}000000Z`,
    instant: `2024-01-01T00:00:0${second}.${frac}00000000Z`,
    hash,
    learnedAt: `2024-02-0${learned + 1}T00:00:00.000Z`,
  }));

const nodeDoc: fc.Arbitrary<NodeDoc> = fc.oneof(
  fc.constant(placeholderNode({ ...model, label: 'Credit:3' })),
  fc
    .record({
      prov: provenance,
      facts: fc.dictionary(fc.constantFrom('tags', 'stage', 'version', 'name'), fc.jsonValue(), { maxKeys: 3 }),
      status: fc.option(fc.constantFrom('Running', 'Completed', 'Failed'), { nil: undefined }),
    })
    .map(({ prov, facts, status }) => assertedNode(model, facts, status ? { status } : undefined, prov)),
);

const same = (a: unknown, b: unknown): void => {
  expect(canonicalJson(a)).toBe(canonicalJson(b));
};

describe('document merge is a join: order, grouping and repetition do not matter', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(nodeDoc, nodeDoc, (a, b) => {
        same(mergeNodes(a, b), mergeNodes(b, a));
      }),
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(nodeDoc, nodeDoc, nodeDoc, (a, b, c) => {
        same(mergeNodes(mergeNodes(a, b), c), mergeNodes(a, mergeNodes(b, c)));
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(nodeDoc, (a) => {
        same(mergeNodes(a, a), a);
      }),
    );
  });
});

describe('merge semantics', () => {
  const at = (second: number, hash: string): Provenance => ({
    source: 'eventgrid',
    eventId: hash,
    eventType: 't',
    eventTime: `2024-01-01T00:00:0${second}Z`,
    instant: `2024-01-01T00:00:0${second}.000000000Z`,
    hash,
    learnedAt: '2024-02-01T00:00:00.000Z',
  });

  it('a fact from a newer event time wins whichever arrives last', () => {
    const older = assertedNode(model, { stage: 'Staging' }, undefined, at(1, 'sha256:x'));
    const newer = assertedNode(model, { stage: 'Production' }, undefined, at(2, 'sha256:y'));
    expect(mergeNodes(newer, older).facts.stage?.value).toBe('Production');
    expect(mergeNodes(older, newer).facts.stage?.value).toBe('Production');
  });

  it('an event about the node completes a placeholder and its label', () => {
    const placeholder = placeholderNode({ ...model, label: 'CREDIT:3' });
    const merged = mergeNodes(placeholder, assertedNode(model, { name: 'credit' }, undefined, at(1, 'sha256:x')));
    expect(merged.placeholder).toBe(false);
    expect(merged.label).toBe('credit:3');
  });

  it('keeps every status a job went through', () => {
    const job = namedResource(ws, 'jobs', 'j1');
    const running = assertedNode(job, { status: 'Running' }, { status: 'Running' }, at(1, 'sha256:r'));
    const done = assertedNode(job, { status: 'Completed' }, { status: 'Completed' }, at(2, 'sha256:c'));
    const merged = mergeNodes(done, running);
    expect(merged.facts.status?.value).toBe('Completed');
    expect(merged.series.status?.map((e) => e.value)).toEqual(['Running', 'Completed']);
  });

  it('the same event delivered twice keeps the first time we learned it', () => {
    const first = assertedNode(model, {}, undefined, { ...at(1, 'sha256:x'), learnedAt: '2024-02-01T00:00:00.000Z' });
    const again = assertedNode(model, {}, undefined, { ...at(1, 'sha256:x'), learnedAt: '2024-03-01T00:00:00.000Z' });
    expect(mergeNodes(again, first).provenance).toEqual([expect.objectContaining({ learnedAt: '2024-02-01T00:00:00.000Z' })]);
  });

  it('bounds provenance but keeps the first asserting event', () => {
    let doc = assertedNode(model, {}, undefined, at(0, 'sha256:first'));
    for (let i = 0; i < PROVENANCE_CAP + 20; i++) {
      doc = mergeNodes(
        doc,
        assertedNode(model, {}, undefined, {
          ...at(1, `sha256:${String(i).padStart(3, '0')}`),
          instant: `2024-01-01T00:00:01.${String(i).padStart(9, '0')}Z`,
        }),
      );
    }
    expect(doc.provenance).toHaveLength(PROVENANCE_CAP);
    expect(doc.provenance[0]?.hash).toBe('sha256:first');
    expect(doc.provenance.at(-1)?.hash).toBe(`sha256:${String(PROVENANCE_CAP + 19).padStart(3, '0')}`);
  });

  it('stores each edge with both of its ends', () => {
    const job = namedResource(ws, 'jobs', 'j1');
    const [out, inn] = edgePair('produced', job, model, undefined, at(1, 'sha256:x'));
    expect(out.pk).toBe(out.from);
    expect(inn.pk).toBe(inn.to);
    expect(mergeEdges(out, out)).toEqual(out);
  });
});
