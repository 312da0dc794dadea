import { beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { gitCommit, namedResource, nodeId, parseArmId, parseWorkspaceId, versionedAsset } from '../../shared/graph/keys.js';
import { applyDelta } from '../../shared/usecases/applyDelta.js';
import { placeholderNode } from '../../shared/graph/merge.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { lineage } from '../../shared/usecases/lineage.js';
import { maintainClosures } from '../../shared/usecases/closures.js';
import { WS } from '../helpers/fixtures.js';
import { driftDetected, modelDeployed, modelRegistered, runEvent } from '../helpers/events.js';
import { freshServices } from '../helpers/stores.js';

let services: Services;
const idOf = (arm: string) => {
  const r = parseArmId(arm)!;
  return nodeId(r.kind, r.key);
};
const CHILD = 'AutoML_ad912b2d-6467-4f32-a616-dbe4af6dd8fc_5';

beforeAll(async () => {
  services = await freshServices();
  for (const e of [
    runEvent('RunCompleted', CHILD, { git: true }),
    modelRegistered('credit', 3),
    modelRegistered('credit', 4),
    modelDeployed('svc-a', 'credit:3,credit:4'),
    driftDetected('mon-1', 'mon-1_1'),
  ]) {
    await captureEvent(services.capture, e);
  }
});

const ask = (ref: string, extra: Partial<Parameters<typeof lineage>[1]> = {}) =>
  lineage(services.graph, { ref, direction: 'upstream', depth: 3, maxNodes: 100, ...extra });

describe('lineage lookups', () => {
  it('walk while the closure stage is behind, answer from closures once it has run, and say which; the answers agree', async () => {
    const fresh = await freshServices();
    const closureQueue = fresh.closureQueue.client;
    for (const e of [runEvent('RunCompleted', CHILD, { git: true }), modelRegistered('credit', 3), modelDeployed('svc-a', 'credit:3')])
      await captureEvent(fresh.capture, e);
    // Capture stored links and nudged the stage; it wrote no closure.
    expect((await closureQueue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.length).toBeGreaterThan(0);
    expect(await fresh.graph.closure(idOf(`${WS}/jobs/${CHILD}`), 'up')).toBeUndefined();
    const ref = `${WS}/services/svc-a`;
    const query = { ref, direction: 'upstream' as const, depth: 5, maxNodes: 100 };
    const behind = await lineage(fresh.graph, query);
    expect(behind.answeredFrom).toBe('walk');

    const run = await maintainClosures(fresh.graph);
    expect(run.links).toBeGreaterThan(0);
    expect(await fresh.graph.pendingLinks(10)).toEqual([]);
    const current = await lineage(fresh.graph, query);
    expect(current.answeredFrom).toBe('closures');
    const shape = (a: typeof current) => ({
      nodes: a.nodes.map((n) => `${n.label}@${n.distance}`).sort(),
      edges: a.edges.map((e) => e.id).sort(),
    });
    expect(shape(current)).toEqual(shape(behind));
    expect(current.nodes.map((n) => n.label).sort()).toEqual(['credit:3', 'svc-a']);
    expect(current.edges).toHaveLength(1);

    // A new link into the service puts its upstream closure behind again; the downstream closure
    // of credit:3, which that link cannot change, stays current.
    await captureEvent(fresh.capture, modelDeployed('svc-a', 'credit:3,credit:5', { id: 'second-deploy' }));
    expect((await fresh.graph.pendingLinks(10)).length).toBeGreaterThan(0);
    const again = await lineage(fresh.graph, query);
    expect(again.answeredFrom).toBe('walk');
    expect(again.nodes.map((n) => n.label)).toContain('credit:5');
    const down = await lineage(fresh.graph, { ...query, ref: `${WS}/models/credit/versions/3`, direction: 'downstream' });
    expect(down.answeredFrom).toBe('closures');
    expect(down.nodes.map((n) => n.label).sort()).toEqual(['credit:3', 'svc-a']);
    // A second run is idempotent: nothing left, nothing written.
    await maintainClosures(fresh.graph);
    expect(await maintainClosures(fresh.graph)).toEqual({ batches: 0, links: 0, written: 0 });
  });

  it('walks upstream of a job to its git commit and parent run, with provenance on nodes and edges', async () => {
    const answer = await ask(`${WS}/jobs/${CHILD}`);
    expect(answer.root).toBe(idOf(`${WS}/jobs/${CHILD}`));
    expect(answer.partial).toBe(false);
    expect(answer.nodes.map((n) => n.kind).sort()).toEqual(['commit', 'job', 'job']);
    const commit = answer.nodes.find((n) => n.kind === 'commit');
    expect(commit?.key).toBe('git:github.com/azure/machinelearningnotebooks@4d2b93784676893f8e346d5f0b9fb894a9cf0742');
    expect(answer.edges.map((e) => e.kind).sort()).toEqual(['commitOf', 'parentOf']);
    for (const edge of answer.edges) expect(edge.provenance[0]?.eventType).toBe('Microsoft.MachineLearningServices.RunCompleted');
    const job = answer.nodes.find((n) => n.id === answer.root);
    expect(job?.properties.status).toBe('Completed');
    expect(job?.provenance.facts.status?.eventTime).toBe('2024-03-01T09:00:00.0000000Z');
  });

  it('walks downstream of a model to where it is deployed, and both ways at once', async () => {
    const down = await ask(`${WS}/models/credit/versions/3`, { direction: 'downstream' });
    expect(down.nodes.map((n) => n.label).sort()).toEqual(['credit:3', 'svc-a']);
    const both = await ask(`${WS}/models/credit/versions/3`, { direction: 'both' });
    expect(both.nodes).toHaveLength(2); // a model registration alone names no upstream
    expect(both.edges).toEqual([expect.objectContaining({ kind: 'deployedTo', from: idOf(`${WS}/models/credit/versions/3`) })]);
  });

  it('respects depth, one level per hop', async () => {
    // A chain longer than Event Grid alone produces: commit -> job -> model -> service.
    const ws = parseWorkspaceId(WS)!;
    const commit = gitCommit('https://github.com/org/repo', 'abc123');
    const job = namedResource(ws, 'jobs', 'train-chain');
    const model = versionedAsset(ws, 'models', 'chain', '1');
    const service = namedResource(ws, 'services', 'svc-chain');
    const prov = {
      source: 'test',
      eventId: 'chain',
      eventType: 'test',
      eventTime: '2024-01-01T00:00:00Z',
      instant: '2024-01-01T00:00:00.000000000Z',
      hash: 'sha256:chain',
      learnedAt: '2024-01-01T00:00:00.000Z',
    };
    await applyDelta(
      services.graph,
      {
        nodes: [commit, job, model, service].map((ref) => ({ ref, facts: {} })),
        references: [],
        edges: [
          { kind: 'commitOf', from: commit, to: job },
          { kind: 'produced', from: job, to: model },
          { kind: 'deployedTo', from: model, to: service },
        ],
      },
      prov,
    );
    const serviceId = nodeId(service.kind, service.key);
    const labels = async (depth: number) => (await ask(serviceId, { depth })).nodes.map((n) => n.kind).sort();
    expect(await labels(1)).toEqual(['model', 'service']);
    expect(await labels(2)).toEqual(['job', 'model', 'service']);
    expect(await labels(3)).toEqual(['commit', 'job', 'model', 'service']);
  });

  it('stops at the node budget and says the answer is partial', async () => {
    const answer = await ask(`${WS}/jobs/${CHILD}`, { maxNodes: 2 });
    expect(answer.partial).toBe(true);
    expect(answer.nodes).toHaveLength(2);
    const ids = new Set(answer.nodes.map((n) => n.id));
    for (const e of answer.edges) expect(ids.has(e.from) && ids.has(e.to)).toBe(true);
  });

  it('resolves azureml:NAME:VERSION within a workspace', async () => {
    const answer = await ask('azureml:credit:4', { workspace: WS, direction: 'downstream' });
    expect(answer.nodes.find((n) => n.id === answer.root)?.label).toBe('credit:4');
  });

  it('answers placeholders: a referenced dataset is known before any event about it', async () => {
    const datasetArmId = `${WS}/datasets/d7e74d2e-c972-4266-b5fb-6c9c182d2a74`;
    const answer = await ask(datasetArmId, { direction: 'downstream' });
    expect(answer.nodes.find((n) => n.id === answer.root)).toMatchObject({ kind: 'dataset', placeholder: true });
    expect(answer.nodes.map((n) => n.kind).sort()).toEqual(['dataset', 'drift']);
    expect(answer.edges.map((e) => e.kind)).toEqual(['driftTargetOf']);
  });

  it('is 404 for an unknown ref and 409 for an ambiguous shorthand', async () => {
    await expect(ask(`${WS}/models/nope/versions/1`)).rejects.toMatchObject({ code: 'not-found' });
    const ws = parseWorkspaceId(WS)!;
    const data = versionedAsset(ws, 'data', 'credit', '3');
    await services.graph.ensure(placeholderNode(data));
    await expect(ask('azureml:credit:3', { workspace: WS })).rejects.toMatchObject({
      code: 'ambiguous-ref',
      extensions: { candidates: expect.arrayContaining([expect.objectContaining({ kind: 'data' })]) },
    });
  });
});
