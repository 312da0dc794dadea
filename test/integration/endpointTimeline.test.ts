import { beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/composition.js';
import { driftSignals, runCompliance } from '../../shared/compliance/runCompliance.js';
import { rollbackSummary, timelineSummary } from '../../shared/chatops/summaries.js';
import { DomainError } from '../../shared/errors.js';
import { endpointDeployment, namedResource, parseWorkspaceId, versionedAsset, type NodeRef } from '../../shared/graph/keys.js';
import type { GraphDelta, Provenance } from '../../shared/graph/model.js';
import { applyDelta } from '../../shared/usecases/applyDelta.js';
import { endpointTimeline, type LastGoodRule } from '../../shared/usecases/endpointTimeline.js';
import { WS } from '../helpers/fixtures.js';
import { freshServices } from '../helpers/stores.js';

/**
 * Endpoint timelines replayed from stored observations, with drift signals as the real drift
 * check attributes them:
 *
 *   credit-ep  Jan 1  blue serves credit:1 (no training job: fails the gate), 100 %
 *              Feb 1  blue updated in place to credit:2
 *              Mar 1  green deployed with credit:3 at 0 %
 *              Mar 2  50/50;  Mar 3  green 100 %
 *              Mar 4  a model monitor breach on credit-ep/green (credit:3)
 *              Mar 5  rolled back: blue 100 %
 *   fraud-ep   Jan 1  red serves fraud:1, 100 %;  Feb 1 red updated in place to fraud:2;  Feb 2 monitor breach on red
 */
const wsKey = parseWorkspaceId(WS)!.key;
const ws = parseWorkspaceId(WS)!;
const data = versionedAsset(wsKey, 'data', 'credit-data', '1');
const code = versionedAsset(wsKey, 'codes', 'train-code', '1');
const env = versionedAsset(wsKey, 'environments', 'sklearn-env', '1');
const model = (name: string, v: string) => versionedAsset(wsKey, 'models', name, v);
const creditEp = namedResource(wsKey, 'onlineEndpoints', 'credit-ep');
const fraudEp = namedResource(wsKey, 'onlineEndpoints', 'fraud-ep');
const blue = endpointDeployment(wsKey, 'onlineEndpoints', 'credit-ep', 'blue');
const green = endpointDeployment(wsKey, 'onlineEndpoints', 'credit-ep', 'green');
const batchEp = namedResource(wsKey, 'batchEndpoints', 'score-batch');
const nightly = endpointDeployment(wsKey, 'batchEndpoints', 'score-batch', 'nightly');
const nightlyV1 = endpointDeployment(wsKey, 'batchEndpoints', 'score-batch', 'nightly-v1');
const red = endpointDeployment(wsKey, 'onlineEndpoints', 'fraud-ep', 'red');
const RULE: LastGoodRule = { minTrafficPercent: 10, minServiceMinutes: 60, gateRequires: ['data', 'code', 'environment', 'job'] };
const CREDIT_EP = `${WS}/onlineEndpoints/credit-ep`;

let seq = 0;
function prov(time: string): Provenance {
  seq++;
  return {
    source: 'test',
    eventId: `e${seq}`,
    eventType: 'test',
    eventTime: `${time}Z`,
    instant: `${time}.000000000Z`,
    hash: `sha256:${seq.toString(16).padStart(64, '0')}`,
    learnedAt: '2026-11-01T00:00:00.000Z',
  };
}

let services: Services;
const apply = (time: string, delta: Partial<GraphDelta>) =>
  applyDelta(services.graph, { nodes: [], references: [], edges: [], ...delta }, prov(time));

function trained(produced: NodeRef, jobName: string): Partial<GraphDelta> {
  const job = namedResource(wsKey, 'jobs', jobName);
  return {
    nodes: [
      { ref: job, facts: { status: 'Completed' } },
      { ref: produced, facts: {} },
    ],
    references: [data, code, env],
    edges: [
      { kind: 'inputOf', from: data, to: job },
      { kind: 'codeOf', from: code, to: job },
      { kind: 'environmentOf', from: env, to: job },
      { kind: 'produced', from: job, to: produced },
    ],
  };
}

const deploymentModel = (deployment: NodeRef, served: NodeRef): Partial<GraphDelta> => ({
  nodes: [{ ref: deployment, facts: {}, series: { model: served.key } }],
  references: [served],
  edges: [{ kind: 'deployedTo', from: served, to: deployment }],
});
const traffic = (endpoint: NodeRef, shares: Array<[NodeRef, number]>): Partial<GraphDelta> => ({
  references: [endpoint],
  edges: shares.map(([deployment, share]) => ({ kind: 'serves' as const, from: deployment, to: endpoint, series: { traffic: share } })),
});
const breach = (name: string, endpoint: string, deployment: string): Partial<GraphDelta> => ({
  nodes: [
    {
      ref: namedResource(wsKey, 'jobs', name),
      facts: { status: 'Failed', tags: { azureml_modelmonitor_threshold_breached: 'metric thresholds violated', endpoint, deployment } },
    },
  ],
});

const timeline = (
  extra: { since?: string; until?: string; endpoint?: string; workspace?: string; rule?: LastGoodRule; scope?: Set<string> | null } = {},
) =>
  endpointTimeline(services.graph, {
    endpoint: extra.endpoint ?? CREDIT_EP,
    workspace: extra.workspace,
    since: extra.since,
    until: extra.until,
    rule: extra.rule ?? RULE,
    scope: extra.scope ?? null,
    driftSignals: () => driftSignals(services.compliance.blobs),
    now: () => new Date('2024-06-01T00:00:00Z'),
  });

beforeAll(async () => {
  services = await freshServices();
  await apply('2024-01-01T00:00:00', { nodes: [{ ref: model('credit', '1'), facts: {} }] });
  await apply('2024-01-01T00:00:00', trained(model('credit', '2'), 'train-2'));
  await apply('2024-01-01T00:00:00', trained(model('credit', '3'), 'train-3'));
  await apply('2024-01-01T00:00:00', trained(model('fraud', '1'), 'fraud-train-1'));
  await apply('2024-01-01T00:00:00', trained(model('fraud', '2'), 'fraud-train-2'));
  await apply('2024-01-01T00:00:00', deploymentModel(blue, model('credit', '1')));
  await apply('2024-01-01T00:00:00', traffic(creditEp, [[blue, 100]]));
  await apply('2024-02-01T00:00:00', deploymentModel(blue, model('credit', '2')));
  await apply('2024-03-01T00:00:00', deploymentModel(green, model('credit', '3')));
  await apply(
    '2024-03-01T00:00:00',
    traffic(creditEp, [
      [blue, 100],
      [green, 0],
    ]),
  );
  await apply(
    '2024-03-02T00:00:00',
    traffic(creditEp, [
      [blue, 50],
      [green, 50],
    ]),
  );
  await apply(
    '2024-03-03T00:00:00',
    traffic(creditEp, [
      [blue, 0],
      [green, 100],
    ]),
  );
  await apply('2024-03-04T00:00:00', breach('monitor-credit-1', 'credit-ep', 'green'));
  await apply(
    '2024-03-05T00:00:00',
    traffic(creditEp, [
      [blue, 100],
      [green, 0],
    ]),
  );
  await apply('2024-01-01T00:00:00', deploymentModel(red, model('fraud', '1')));
  await apply('2024-01-01T00:00:00', traffic(fraudEp, [[red, 100]]));
  await apply('2024-02-01T00:00:00', deploymentModel(red, model('fraud', '2')));
  await apply('2024-02-02T00:00:00', breach('monitor-fraud-1', 'fraud-ep', 'red'));
  await apply('2024-01-01T00:00:00', deploymentModel(nightly, model('credit', '2')));
  await apply('2024-01-01T00:00:00', traffic(batchEp, [[nightly, 100]]));
  await apply('2024-02-01T00:00:00', deploymentModel(nightlyV1, model('credit', '1')));
  await apply(
    '2024-02-01T00:00:00',
    traffic(batchEp, [
      [nightly, 0],
      [nightlyV1, 100],
    ]),
  );
  await runCompliance(services.compliance, { checks: ['drift'], trigger: 'test' });
});

describe('endpoint timeline', () => {
  it('lists every traffic and model change in order, each with the event that asserted it', async () => {
    const t = await timeline();
    expect(t.endpoint).toMatchObject({ label: 'credit-ep', type: 'online', workspace: wsKey });
    expect(t.changes.map((c) => [c.at.slice(0, 10), c.kind, c.deployment, c.from, c.to])).toEqual([
      ['2024-01-01', 'model', 'credit-ep/blue', null, 'credit:1'],
      ['2024-01-01', 'traffic', 'credit-ep/blue', null, 100],
      ['2024-02-01', 'model', 'credit-ep/blue', 'credit:1', 'credit:2'],
      ['2024-03-01', 'model', 'credit-ep/green', null, 'credit:3'],
      ['2024-03-01', 'traffic', 'credit-ep/green', null, 0],
      ['2024-03-02', 'traffic', 'credit-ep/blue', 100, 50],
      ['2024-03-02', 'traffic', 'credit-ep/green', 0, 50],
      ['2024-03-03', 'traffic', 'credit-ep/blue', 50, 0],
      ['2024-03-03', 'traffic', 'credit-ep/green', 50, 100],
      ['2024-03-05', 'traffic', 'credit-ep/blue', 0, 100],
      ['2024-03-05', 'traffic', 'credit-ep/green', 100, 0],
    ]);
    for (const c of t.changes) expect(c.evidence).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('gives each version its service periods, gate result and the drift raised while it served', async () => {
    const t = await timeline();
    const v = Object.fromEntries(t.versions.map((x) => [x.model.label, x]));
    expect(t.versions.map((x) => x.model.label)).toEqual(['credit:2', 'credit:3', 'credit:1']);
    expect(v['credit:1']).toMatchObject({ good: false, gate: { passed: false, missing: ['data', 'code', 'environment', 'job'] } });
    expect(v['credit:1']?.periods.map((p) => [p.from.slice(0, 10), p.until?.slice(0, 10), p.share])).toEqual([
      ['2024-01-01', '2024-02-01', 100],
    ]);
    expect(v['credit:3']?.periods.map((p) => [p.from.slice(0, 10), p.until?.slice(0, 10), p.share, p.deployments])).toEqual([
      ['2024-03-02', '2024-03-03', 50, ['credit-ep/green']],
      ['2024-03-03', '2024-03-05', 100, ['credit-ep/green']],
    ]);
    expect(v['credit:3']?.driftSignals).toEqual([
      expect.objectContaining({ label: 'monitor-credit-1', source: 'model-monitor', deployment: 'credit-ep/green' }),
    ]);
    expect(v['credit:3']).toMatchObject({ good: false, gate: { passed: true } });
    expect(v['credit:2']).toMatchObject({ good: true, notGoodBecause: [], driftSignals: [], maxShare: 100 });
    expect(v['credit:2']?.periods.at(-1)?.until).toBeNull();
  });

  it('after the rollback the last good version is the one serving: the command changes nothing, and says so', async () => {
    const t = await timeline();
    expect(t.current).toEqual([
      { deployment: 'credit-ep/blue', share: 100, model: 'credit:2' },
      { deployment: 'credit-ep/green', share: 0, model: 'credit:3' },
    ]);
    expect(t.lastGood).toEqual({ model: 'credit:2', deployment: 'credit-ep/blue', servedUntil: null });
    expect(t.rollback?.alreadyServing).toBe(true);
    expect(t.rollback?.steps.map((s) => s.command)).toEqual([
      `az ml online-endpoint update --name credit-ep --traffic "blue=100 green=0" --resource-group ${ws.resourceGroup} --workspace-name ${ws.name}`,
    ]);
  });

  it('as of the drifting version, the rollback sends all traffic back to blue', async () => {
    const t = await timeline({ until: '2024-03-04T12:00:00Z' });
    expect(t.current.map((c) => [c.deployment, c.share])).toEqual([
      ['credit-ep/green', 100],
      ['credit-ep/blue', 0],
    ]);
    expect(t.lastGood?.model).toBe('credit:2');
    expect(t.rollback).toMatchObject({
      alreadyServing: false,
      steps: [{ command: expect.stringContaining('--traffic "blue=100 green=0"') }],
    });
    // Changes after `until` are not replayed.
    expect(t.changes.at(-1)?.at.slice(0, 10)).toBe('2024-03-03');
  });

  it('before the drift, the newest version that served long enough is the last good one', async () => {
    const t = await timeline({ until: '2024-03-03T12:00:00Z' });
    expect(t.lastGood?.model).toBe('credit:3');
    expect(t.rollback?.alreadyServing).toBe(true);
  });

  it('the rule is configurable: a share threshold above 50 % for two days disqualifies the 50/50 day and the 12 hours at 100 %', async () => {
    const t = await timeline({ until: '2024-03-03T12:00:00Z', rule: { ...RULE, minTrafficPercent: 60, minServiceMinutes: 2 * 24 * 60 } });
    expect(t.lastGood?.model).toBe('credit:2');
    expect(t.versions.find((v) => v.model.label === 'credit:3')?.notGoodBecause).toEqual([
      'served at least 60% for 720 of the 2880 minutes required',
    ]);
  });

  it('since limits the changes and versions shown, not the history the answer is computed from', async () => {
    const t = await timeline({ since: '2024-03-02T00:00:00Z' });
    expect(t.changes[0]?.at.slice(0, 10)).toBe('2024-03-02');
    expect(t.versions.map((v) => v.model.label)).toEqual(['credit:2', 'credit:3']);
    expect(t.lastGood?.model).toBe('credit:2');
  });

  it('when the good version was replaced in place, the rollback first sets the deployment back to it', async () => {
    const t = await timeline({ endpoint: `${WS}/onlineEndpoints/fraud-ep` });
    expect(t.lastGood).toEqual({ model: 'fraud:1', deployment: 'fraud-ep/red', servedUntil: '2024-02-01T00:00:00Z' });
    expect(t.rollback?.alreadyServing).toBe(false);
    expect(t.rollback?.steps.map((s) => s.command)).toEqual([
      `az ml online-deployment update --name red --endpoint-name fraud-ep --set model=azureml:fraud:1 --resource-group ${ws.resourceGroup} --workspace-name ${ws.name}`,
      `az ml online-endpoint update --name fraud-ep --traffic "red=100" --resource-group ${ws.resourceGroup} --workspace-name ${ws.name}`,
    ]);
  });

  it('a batch endpoint: the rollback makes the good deployment the default again', async () => {
    const t = await timeline({ endpoint: 'score-batch', workspace: WS });
    expect(t.endpoint.type).toBe('batch');
    expect(t.lastGood).toMatchObject({ model: 'credit:2', deployment: 'score-batch/nightly' });
    expect(t.rollback?.steps.map((s) => s.command)).toEqual([
      `az ml batch-endpoint update --name score-batch --set defaults.deployment_name=nightly --resource-group ${ws.resourceGroup} --workspace-name ${ws.name}`,
    ]);
  });

  it('refuses what is not an endpoint, hides endpoints outside the scope, and checks its moments', async () => {
    await expect(timeline({ endpoint: `${WS}/models/credit/versions/1` })).rejects.toMatchObject({ code: 'invalid-ref' });
    await expect(timeline({ endpoint: `${WS}/onlineEndpoints/nothing` })).rejects.toMatchObject({ code: 'not-found' });
    await expect(timeline({ scope: new Set(['other-ws']) })).rejects.toMatchObject({ code: 'not-found' });
    expect((await timeline({ endpoint: 'credit-ep' })).endpoint.label).toBe('credit-ep');
    await expect(timeline({ endpoint: 'credit-ep', workspace: 'ws-other' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(timeline({ since: 'yesterday' })).rejects.toBeInstanceOf(DomainError);
    await expect(timeline({ since: '2024-04-01T00:00:00Z', until: '2024-03-01T00:00:00Z' })).rejects.toMatchObject({
      code: 'invalid-request',
    });
  });

  it('chat: the timeline names what serves now and the last good version; rollback prints the commands, never runs them', async () => {
    const t = await timeline({ until: '2024-03-04T12:00:00Z' });
    const summary = timelineSummary(t, 'https://x/api/endpoints/timeline');
    expect(summary.lines[0]).toBe('Now: credit-ep/green 100% → credit:3');
    expect(summary.lines).toContain('Last good: credit:2 on credit-ep/blue');
    expect(summary.lines.some((l) => /credit-ep\/green: 50% → 100%/.test(l))).toBe(true);
    const rollback = rollbackSummary(t, 'https://x/api/endpoints/timeline');
    expect(rollback.title).toBe('Rollback credit-ep to credit:2');
    expect(rollback.lines).toContain(t.rollback?.steps[0]?.command);
    expect(rollback.lines).toContain('Printed, never run: review it, then run it with the Azure CLI ml extension (v2).');
    const none = rollbackSummary({ ...t, lastGood: null, rollback: null }, 'https://x');
    expect(none.tone).toBe('warning');
    expect(none.lines[0]).toContain('No model version meets the rule');
  });
});
