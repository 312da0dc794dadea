import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureMlStandIn, type AzureMlStandIn } from '../../infra/local/azureMlStandIn/index.js';
import type { Services } from '../../shared/composition.js';
import { RECONCILE_EVENT_TYPE, reconcile } from '../../shared/compliance/reconcile.js';
import type { ComplianceReport } from '../../shared/compliance/report.js';
import { runCompliance } from '../../shared/compliance/runCompliance.js';
import { nodeId, parseArmId } from '../../shared/graph/keys.js';
import { backfill } from '../../shared/usecases/backfill.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { enrich } from '../../shared/usecases/enrich.js';
import { cosmosContainers, freshServices, takeEnrichmentMessages } from '../helpers/stores.js';

/**
 * The freshness, servingMatchesTraining and schemaDrift sections and the reconcile pass over real
 * stores (embedded Cosmos, Azurite) and the Azure ML REST stand-in's sample workspace, imported
 * by backfill: every figure is checked against the graph and the raw log, read independently.
 */
const WS =
  '/subscriptions/6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const ENDPOINT = `${WS}/onlineEndpoints/credit-scoring`;
const idOf = (arm: string) => {
  const r = parseArmId(arm)!;
  return nodeId(r.kind, r.key);
};

let standIn: AzureMlStandIn;
let services: Services;
let clock = new Date();
let first: ComplianceReport;

beforeAll(async () => {
  standIn = await startAzureMlStandIn({ port: 0 });
  services = await freshServices(
    { AZUREML_MANAGEMENT_ENDPOINT: standIn.url, COMPLIANCE_CONTAINER: `compliance-${randomUUID().slice(0, 8)}` },
    () => clock,
  );
  services.compliance.now = () => clock;
  await backfill(services.enrich, WS, { save: async () => undefined });
  first = await runCompliance(services.compliance, { checks: ['serving', 'schemaDrift'], trigger: 'test' });
});
afterAll(async () => {
  await standIn.stop();
});

/**
 * What the graph itself says serves: deployments whose newest traffic share behind their endpoint
 * is above 0, behind the given endpoints (default: every endpoint, online and batch: a batch
 * endpoint's default deployment is its 100 % share).
 */
async function servingDeployments(endpoints?: string[]): Promise<string[]> {
  const behind = endpoints ?? (await services.graph.all()).filter((d) => d.docType === 'node' && d.kind === 'endpoint').map((d) => d.id);
  const edges = await services.graph.edgesOf(behind, 'in');
  return edges
    .filter((e) => e.kind === 'serves')
    .filter((e) => Number([...(e.series.traffic ?? [])].sort((a, b) => a.instant.localeCompare(b.instant)).at(-1)?.value) > 0)
    .map((e) => e.from)
    .sort();
}

async function linkedInto(node: string, kind: string): Promise<string[]> {
  return (await services.graph.edgesOf([node], 'in')).filter((e) => e.kind === kind).map((e) => e.from);
}

describe('freshness', () => {
  it('counts the deployments serving now, with the age of our latest observation of each', async () => {
    const serving = await servingDeployments();
    expect(serving.length).toBeGreaterThan(0);
    expect(first.freshness).toMatchObject({ denominator: serving.length, numerator: serving.length, items: [], staleAfterHours: 24 });
    expect(first.freshness.maxSeconds).toBeLessThan(600);
    expect(first.freshness.computedAt).toBe(clock.toISOString());
  });

  it('lists every serving deployment as stale once nothing was learned about it for longer than the threshold', async () => {
    clock = new Date(clock.getTime() + 2 * 86_400_000);
    // An unrelated change, so the check has something to read; the ages are recomputed either way.
    const report = await runCompliance(services.compliance, { checks: ['serving'], trigger: 'test' });
    const serving = await servingDeployments();
    expect(report.freshness.items.map((i) => i.node).sort()).toEqual(serving);
    expect(report.freshness.numerator).toBe(0);
    for (const item of report.freshness.items) expect(item.ageSeconds).toBeGreaterThanOrEqual(2 * 86_400);
    expect(report.freshness.p50Seconds).toBeGreaterThanOrEqual(2 * 86_400);
  });

  it('reconcile re-reads every endpoint and deployment through the enrichment queue; a traffic change observed makes them fresh again', async () => {
    await takeEnrichmentMessages(services);
    const outcome = await reconcile({ graph: services.graph, enrichments: services.enrichmentQueue, now: () => clock, olderThanHours: 24 });
    const messages = await takeEnrichmentMessages(services);
    const endpoints = (await services.graph.all()).filter(
      (d) => d.docType === 'node' && (d.kind === 'endpoint' || d.kind === 'deployment'),
    );
    expect(
      messages
        .filter((m) => m.kind === 'endpoint' || m.kind === 'deployment')
        .map((m) => m.armId)
        .sort(),
    ).toEqual(endpoints.map((d) => (d.docType === 'node' ? d.key : '')).sort());
    for (const m of messages) expect(m.cause?.eventType).toBe(RECONCILE_EVENT_TYPE);
    expect(outcome.queued.endpoint).toBeGreaterThan(0);

    // Nobody told us (no Activity Log record): green now takes all the traffic.
    standIn.setTraffic('credit-scoring', { blue: 0, green: 100 }, new Date(clock.getTime() - 60_000).toISOString());
    for (const m of messages) await enrich(services.enrich, m);
    const green = idOf(`${ENDPOINT}/deployments/green`);
    expect(await servingDeployments([idOf(ENDPOINT)])).toEqual([green]);
    const report = await runCompliance(services.compliance, { checks: ['serving'], trigger: 'test' });
    // Every serving deployment (green, and the batch endpoint's default, whose share reconcile observed again) is fresh.
    const serving = await servingDeployments();
    expect(report.freshness).toMatchObject({ numerator: serving.length, denominator: serving.length, items: [], maxSeconds: 0 });
  });
});

describe('serving matches training', () => {
  it('compares each serving deployment with the job that trained its model, as the graph links them', async () => {
    const report = await runCompliance(services.compliance, { checks: ['serving'], trigger: 'test' });
    const serving = await servingDeployments();
    expect(report.servingMatchesTraining.denominator).toBe(serving.length);
    let mismatched = 0;
    for (const deployment of serving) {
      const [model] = await linkedInto(deployment, 'deployedTo');
      const [job] = model ? await linkedInto(model, 'produced') : [];
      const env = { serving: await linkedInto(deployment, 'environmentOf'), training: job ? await linkedInto(job, 'environmentOf') : [] };
      const code = { serving: await linkedInto(deployment, 'codeOf'), training: job ? await linkedInto(job, 'codeOf') : [] };
      const same = (x: { serving: string[]; training: string[] }) => x.serving.length > 0 && x.serving[0] === x.training[0];
      const item = report.servingMatchesTraining.items.find((i) => i.node === deployment);
      if (same(env) && same(code)) {
        expect(item).toBeUndefined();
        continue;
      }
      mismatched++;
      expect(item, deployment).toBeDefined();
      const byAspect = Object.fromEntries(item!.comparisons.map((c) => [c.aspect, c]));
      // Both sides are named: the serving asset and the training one.
      const label = async (id: string | undefined) => (id ? ((await services.graph.readNode(id))?.label ?? null) : null);
      expect(byAspect.code?.serving.asset).toBe(await label(code.serving[0]));
      expect(byAspect.code?.training.asset).toBe(await label(code.training[0]));
      expect(byAspect.environment?.serving.asset).toBe(await label(env.serving[0]));
      expect(byAspect.environment?.training.asset).toBe(await label(env.training[0]));
      expect(item!.model).toBe(await label(model));
    }
    expect(report.servingMatchesTraining.numerator).toBe(serving.length - mismatched);
    // green serves with another code version and a curated environment than credit-default's training job.
    expect(mismatched).toBeGreaterThan(0);
  });
});

describe('schema drift', () => {
  it('counts every logged event by source, from the raw log', async () => {
    const report = await runCompliance(services.compliance, { checks: ['schemaDrift'], trigger: 'test' });
    const { resources } = await (
      await cosmosContainers(services)
    ).events.items
      .query<{ channel: string }>('SELECT c.channel FROM c')
      .fetchAll();
    const logged: Record<string, number> = {};
    for (const r of resources) logged[r.channel] = (logged[r.channel] ?? 0) + 1;
    const counted = report.schemaDrift.bySource.reduce((n, s) => n + s.events, 0);
    expect(counted).toBe(report.schemaDrift.denominator);
    expect(counted).toBe(logged.rest);
    expect(report.schemaDrift.bySource.every((s) => s.channel === 'rest' && s.sourceKind === 'resource-kind')).toBe(true);
  });

  it('adds exactly the new events, naming unexpected fields and dead-letter reasons by path, never by value', async () => {
    const before = await runCompliance(services.compliance, { checks: ['schemaDrift'], trigger: 'test' });
    const event = (id: string, data: Record<string, unknown>) => ({
      id,
      topic: WS,
      subject: `models/credit-default:${id}`,
      eventType: 'Microsoft.MachineLearningServices.ModelRegistered',
      eventTime: clock.toISOString(),
      dataVersion: '2',
      metadataVersion: '1',
      data,
    });
    await captureEvent(
      services.capture,
      event('11', { ModelName: 'credit-default', ModelVersion: '11', ModelCard: 'confidential-card-text' }),
    );
    await captureEvent(services.capture, event('12', { ModelName: 'credit-default', ModelVersion: '12' }));
    const refused = await captureEvent(services.capture, { ...event('13', { ModelVersion: { not: 'a version' } }), subject: 'models' });
    expect(refused.status).toBe('dead-lettered');

    const after = await runCompliance(services.compliance, { checks: ['schemaDrift'], trigger: 'test' });
    expect(after.schemaDrift.denominator - before.schemaDrift.denominator).toBe(3);
    expect(after.schemaDrift.numerator - before.schemaDrift.numerator).toBe(1);
    const registered = after.schemaDrift.items.find((s) => s.source === 'Microsoft.MachineLearningServices.ModelRegistered');
    expect(registered).toMatchObject({ channel: 'eventgrid', events: 3, clean: 1, withUnexpectedFields: 1, deadLettered: 1 });
    expect(registered?.unexpectedFields).toEqual([{ path: 'data.ModelCard', events: 1 }]);
    expect(registered?.deadLetterFields.map((f) => f.path).sort()).toEqual(['data.ModelName', 'data.ModelVersion']);
    expect(JSON.stringify(after)).not.toContain('confidential-card-text');

    // Run again with nothing new: the same figures.
    const again = await runCompliance(services.compliance, { checks: ['schemaDrift'], trigger: 'test' });
    expect(again.schemaDrift).toEqual({ ...after.schemaDrift, computedAt: again.schemaDrift.computedAt });
    // A full run recounts from the log and finds the same.
    const full = await runCompliance(services.compliance, { checks: ['schemaDrift'], mode: 'full', trigger: 'test' });
    expect({ ...full.schemaDrift, computedAt: null }).toEqual({ ...after.schemaDrift, computedAt: null });
  });
});
