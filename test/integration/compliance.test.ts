import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Services } from '../../shared/composition.js';
import { runCompliance, reportPath } from '../../shared/compliance/runCompliance.js';
import { DomainError } from '../../shared/errors.js';
import { ChangeStream, LAG_SECONDS, START } from '../../shared/store/changeStream.js';
import type { StoredDoc } from '../../shared/store/reads.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { SECTIONS, type ComplianceReport } from '../../shared/compliance/report.js';
import {
  driftSignal,
  endpointDeployment,
  namedResource,
  nodeId,
  parseWorkspaceId,
  versionedAsset,
  type NodeRef,
} from '../../shared/graph/keys.js';
import type { GraphDelta, Provenance } from '../../shared/graph/model.js';
import { applyDelta } from '../../shared/usecases/applyDelta.js';
import { maintainClosures } from '../../shared/usecases/closures.js';
import { WS } from '../helpers/fixtures.js';
import { cosmosContainers, freshServices } from '../helpers/stores.js';

/**
 * A seeded workspace whose compliance figures are known by construction:
 *
 *   credit:1  <- train-1 <- credit-data:1, train-code:1, sklearn-env:1      complete
 *   credit:2  <- train-2 <- credit-data:2, train-code:1, sklearn-env:1      complete
 *   churn:1   <- train-3 <- credit-data:1                                   missing code, environment
 *   legacy:1  (referenced by a deployment only)                             missing everything
 *   old:1     deleted                                                       not counted
 *
 *   credit-ep/blue  served credit:1 (100 %), then credit:2 from March       serving, traceable
 *   credit-ep/green serves churn:1 at 0 %                                   not serving
 *   legacy-ep/red   serves legacy:1 at 100 %                                serving, not traceable
 *
 *   drift mon-1: baseline credit-data:1, target credit-data:2 (April)      blue/credit:2, attributed to
 *                                                                          the data change from credit:1
 *   drift mon-2: on other-data:1, which nothing was trained on              no deployment
 *   model monitor run naming legacy-ep/red                                  nothing to compare with
 */
const wsKey = parseWorkspaceId(WS)!.key;
const T0 = '2024-01-01T00:00:00';
const T1 = '2024-03-01T00:00:00';
const T2 = '2024-04-01T00:00:00';
const EMAIL = 'jane.doe@example.com';
const IBAN = 'GB82 WEST 1234 5698 7654 32';
const SAS_URL =
  'https://acct.blob.core.windows.net/raw/loans.csv?sv=2022-11-02&sr=b&sp=r&se=2024-12-31T00:00:00Z&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2B%3D';

const data1 = versionedAsset(wsKey, 'data', 'credit-data', '1');
const data2 = versionedAsset(wsKey, 'data', 'credit-data', '2');
const otherData = versionedAsset(wsKey, 'data', 'other-data', '1');
const code = versionedAsset(wsKey, 'codes', 'train-code', '1');
const env = versionedAsset(wsKey, 'environments', 'sklearn-env', '1');
const job = (name: string) => namedResource(wsKey, 'jobs', name);
const model = (name: string, v: string) => versionedAsset(wsKey, 'models', name, v);
const credit1 = model('credit', '1');
const credit2 = model('credit', '2');
const churn1 = model('churn', '1');
const legacy1 = model('legacy', '1');
const old1 = model('old', '1');
const creditEp = namedResource(wsKey, 'onlineEndpoints', 'credit-ep');
const legacyEp = namedResource(wsKey, 'onlineEndpoints', 'legacy-ep');
const blue = endpointDeployment(wsKey, 'onlineEndpoints', 'credit-ep', 'blue');
const green = endpointDeployment(wsKey, 'onlineEndpoints', 'credit-ep', 'green');
const red = endpointDeployment(wsKey, 'onlineEndpoints', 'legacy-ep', 'red');
const mon1 = driftSignal(wsKey, 'mon-1', 'run-1');
const mon2 = driftSignal(wsKey, 'mon-2', 'run-2');
const monitorRun = job('monitor-run-1');
const id = (r: NodeRef) => nodeId(r.kind, r.key);

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

/** Applies a delta as if an event had asserted it, with that event in the raw log (the audit trail holds). */
async function apply(services: Services, time: string, delta: Partial<GraphDelta>): Promise<void> {
  const p = prov(time);
  const hex = p.hash.slice('sha256:'.length);
  await (
    await cosmosContainers(services)
  ).events.items.create({
    id: hex,
    pk: hex,
    hash: p.hash,
    channel: 'test',
    receivedAt: p.learnedAt,
    eventType: 'test',
    body: { delta: p.eventId },
  });
  await applyDelta(services.graph, { nodes: [], references: [], edges: [], ...delta }, p);
  // The closure stage, as its queue would run it after capture (runs also drain it first).
  await maintainClosures(services.graph);
}

function trainingRun(
  jobRef: NodeRef,
  produced: NodeRef,
  inputs: { data: NodeRef; code?: NodeRef; env?: NodeRef },
  modelTags: Record<string, string>,
): Partial<GraphDelta> {
  const edges: GraphDelta['edges'] = [
    { kind: 'inputOf', from: inputs.data, to: jobRef },
    { kind: 'produced', from: jobRef, to: produced },
  ];
  if (inputs.code) edges.push({ kind: 'codeOf', from: inputs.code, to: jobRef });
  if (inputs.env) edges.push({ kind: 'environmentOf', from: inputs.env, to: jobRef });
  return {
    nodes: [
      { ref: jobRef, facts: { status: 'Completed', parameters: { learning_rate: 0.1 } } },
      { ref: produced, facts: { tags: modelTags } },
    ],
    references: [inputs.data, ...(inputs.code ? [inputs.code] : []), ...(inputs.env ? [inputs.env] : [])],
    edges,
  };
}

function serving(deployment: NodeRef, endpoint: NodeRef, served: NodeRef, share: number): Partial<GraphDelta> {
  return {
    nodes: [{ ref: deployment, facts: {}, series: { model: served.key } }],
    references: [endpoint, served],
    edges: [
      { kind: 'deployedTo', from: served, to: deployment },
      { kind: 'serves', from: deployment, to: endpoint, series: { traffic: share } },
    ],
  };
}

async function seed(services: Services): Promise<void> {
  // Near misses in credit:1's tags must not be reported: a version, a GUID, a hash, a timestamp and
  // a card-shaped number that fails Luhn.
  await apply(
    services,
    T0,
    trainingRun(
      job('train-1'),
      credit1,
      { data: data1, code, env },
      {
        owner: 'team-risk',
        version: '1.2.3.4',
        run: '0fa9dfaa-cba3-4fa7-b590-23e48548f5c1',
        sha: 'a'.repeat(64),
        trained: '2024-01-01T00:00:00Z',
        card: '4111 1111 1111 1112',
      },
    ),
  );
  await apply(services, T0, trainingRun(job('train-2'), credit2, { data: data2, code, env }, { owner: 'team-risk' }));
  // Captured "before a rule existed": written straight to the graph, bypassing ingest redaction.
  await apply(services, T0, trainingRun(job('train-3'), churn1, { data: data1 }, { owner: EMAIL }));
  // ...and a data path with a SAS token on the input link itself.
  await apply(services, T0, {
    references: [data1, job('train-3')],
    edges: [{ kind: 'inputOf', from: data1, to: job('train-3'), facts: { path: SAS_URL } }],
  });
  await apply(services, T0, { nodes: [{ ref: old1, facts: { deletedAt: '2024-02-01T00:00:00Z' } }] });
  await apply(services, T0, serving(blue, creditEp, credit1, 100));
  await apply(services, T1, serving(blue, creditEp, credit2, 100));
  await apply(services, T1, serving(green, creditEp, churn1, 0));
  await apply(services, T1, serving(red, legacyEp, legacy1, 100));
  await apply(services, T2, {
    nodes: [{ ref: mon1, facts: { monitorName: 'credit-drift' } }],
    references: [data1, data2],
    edges: [
      { kind: 'driftBaselineOf', from: data1, to: mon1 },
      { kind: 'driftTargetOf', from: data2, to: mon1 },
    ],
  });
  await apply(services, T2, {
    nodes: [{ ref: mon2, facts: {} }],
    references: [otherData],
    edges: [
      { kind: 'driftBaselineOf', from: otherData, to: mon2 },
      { kind: 'driftTargetOf', from: otherData, to: mon2 },
    ],
  });
  await apply(services, T2, {
    nodes: [
      {
        ref: monitorRun,
        facts: {
          status: 'Failed',
          tags: {
            azureml_modelmonitor_threshold_breached: 'has failed due to one or more features violating metric thresholds',
            endpoint: 'legacy-ep',
            deployment: 'red',
          },
        },
      },
    ],
  });
  // A raw event from before redaction existed, with an IBAN in free text.
  const hex = randomUUID().replace(/-/g, '').padEnd(64, '0');
  await (
    await cosmosContainers(services)
  ).events.items.create({
    id: hex,
    pk: hex,
    hash: `sha256:${hex}`,
    channel: 'eventgrid',
    receivedAt: '2026-11-01T00:00:00.000Z',
    body: { data: { note: `refund to ${IBAN}` } },
  });
}

/** The parts of a report that must not change when nothing changed. */
function figures(r: ComplianceReport) {
  const strip = (s: Record<string, unknown>) => ({ ...s, computedAt: undefined });
  const retention = { ...strip(r.retention), policies: r.retention.policies.map((p) => ({ ...p, purgedThisRun: 0 })) };
  return {
    l: strip(r.lineageCompleteness),
    d: strip(r.deploymentTraceability),
    a: strip(r.driftAttribution),
    r: retention,
    p: strip(r.pii),
  };
}

async function etags(services: Services): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const { graph, events, requests } = await cosmosContainers(services);
  for (const c of [graph, events, requests]) {
    const { resources } = await c.items.query<{ id: string; pk: string; _etag: string }>('SELECT c.id, c.pk, c._etag FROM c').fetchAll();
    for (const d of resources) out.set(`${c.id}|${d.pk}|${d.id}`, d._etag);
  }
  return out;
}

describe('compliance over an empty graph', () => {
  it('reports zero denominators with null ratios, not 100 %', async () => {
    const services = await freshServices({ COMPLIANCE_CONTAINER: `compliance-${randomUUID().slice(0, 8)}` });
    const report = await runCompliance(services.compliance, { trigger: 'test' });
    for (const section of SECTIONS) {
      expect(report[section], section).toMatchObject({ numerator: 0, denominator: 0, ratio: null, items: [] });
    }
    expect(report.checksRun).toEqual(['lineage', 'drift', 'retention', 'pii', 'integrity', 'serving', 'schemaDrift']);
  });
});

describe('compliance over a seeded workspace', () => {
  let services: Services;
  let first: ComplianceReport;

  beforeAll(async () => {
    services = await freshServices({ COMPLIANCE_CONTAINER: `compliance-${randomUUID().slice(0, 8)}` });
    await seed(services);
    first = await runCompliance(services.compliance, { trigger: 'test' });
  });

  it('counts complete model versions and lists the gaps by workspace and owner', () => {
    const s = first.lineageCompleteness;
    expect([s.numerator, s.denominator, s.ratio]).toEqual([2, 4, 0.5]);
    const gaps = Object.fromEntries(s.items.map((g) => [g.label, g.missing]));
    expect(gaps).toEqual({ 'churn:1': ['code', 'environment'], 'legacy:1': ['data', 'code', 'environment', 'job'] });
    expect(s.byWorkspace[wsKey]).toEqual({ numerator: 2, denominator: 4 });
    expect(s.byOwner['team-risk']).toEqual({ numerator: 2, denominator: 2 });
    expect(s.items.find((g) => g.label === 'legacy:1')?.owner).toBe('unknown');
  });

  it('counts only deployments serving now, traceable when their model is complete', () => {
    const s = first.deploymentTraceability;
    expect([s.numerator, s.denominator]).toEqual([1, 2]);
    expect(s.items.map((g) => [g.label, g.model, g.missing])).toEqual([
      ['legacy-ep/red', 'legacy:1', ['code', 'data', 'environment', 'job']],
    ]);
  });

  it('resolves drift signals to deployment, model and training data, and attributes what changed', () => {
    const s = first.driftAttribution;
    expect([s.numerator, s.denominator]).toEqual([1, 3]);
    const [attributed] = s.attributed;
    expect(attributed).toMatchObject({
      signal: id(mon1),
      source: 'dataset-drift',
      deployment: 'credit-ep/blue',
      model: 'credit:2',
      trainingData: ['credit-data:2'],
      comparedWith: { kind: 'previous-serving-version', label: 'credit:1' },
      changes: [{ aspect: 'data', from: ['credit-data:1'], to: ['credit-data:2'] }],
    });
    const reasons = Object.fromEntries(s.items.map((i) => [i.signal, [i.reason, i.deployment, i.model, i.source]]));
    expect(reasons).toEqual({
      [id(mon2)]: ['no-deployment', null, null, 'dataset-drift'],
      [id(monitorRun)]: ['no-comparison', 'legacy-ep/red', 'legacy:1', 'model-monitor'],
    });
    for (const item of s.items) expect(item.explanation).toMatch(/\w/);
  });

  it('finds every raw event the graph cites in the audit trail, and nothing due for purge', () => {
    expect(first.retention).toMatchObject({ numerator: 0, denominator: 0, ratio: null, items: [] });
  });

  it('finds personal data that bypassed ingest by field path, and leaves near misses alone', async () => {
    const s = first.pii;
    const found = s.items.map((i) => [i.container, i.kind, i.path]).sort();
    expect(found).toEqual([
      ['events', 'iban', 'body.data.note'],
      ['graph', 'email', 'facts.tags.owner'],
      ['graph', 'sas-token', 'facts.path'],
    ]);
    const graphDocs = (await services.graph.all()).filter((d) => d.docType === 'node' || d.dir === 'out').length;
    const { resources: events } = await (await cosmosContainers(services)).events.items.query('SELECT VALUE COUNT(1) FROM c').fetchAll();
    expect(s.denominator).toBe(graphDocs + (events[0] as number));
    expect(s.numerator).toBe(s.denominator - 3);
    expect(s.byKind).toEqual({ email: 1, iban: 1, 'sas-token': 1 });
  });

  it('never puts the personal data itself in the report, JSON or HTML', async () => {
    const html = await services.compliance.blobs.container.getBlockBlobClient(reportPath(first, 'html')).downloadToBuffer();
    const json = await services.compliance.blobs.readJson(reportPath(first, 'json'), z.unknown());
    for (const text of [JSON.stringify(first), html.toString('utf8'), JSON.stringify(json?.value)]) {
      expect(text).not.toContain(EMAIL);
      expect(text).not.toContain(IBAN);
      expect(text).not.toContain(IBAN.replace(/ /g, ''));
      expect(text).not.toContain('sig=AbCdEf');
    }
    // The owner that is an e-mail address is shown as its keyed hash, so it still groups.
    expect(first.lineageCompleteness.items.find((g) => g.label === 'churn:1')?.owner).toMatch(/^pii:email:/);
  });

  it('changes nothing when run again over an unchanged graph, and processes no document', async () => {
    const before = await etags(services);
    const again = await runCompliance(services.compliance, { trigger: 'test' });
    expect(figures(again)).toEqual(figures(first));
    for (const check of ['lineage', 'drift', 'pii', 'retention']) expect(again.cost.byCheck[check]?.changedDocuments, check).toBe(0);
    expect(await etags(services)).toEqual(before); // the checks wrote nothing to Cosmos
    const full = await runCompliance(services.compliance, { mode: 'full', trigger: 'test' });
    expect(figures(full)).toEqual(figures(first));
  });

  it('processes exactly the documents a change touched, and updates every affected figure', async () => {
    const before = await etags(services);
    // Code and environment for churn:1's job arrive late (enrichment): churn:1 becomes complete.
    await apply(services, T1, {
      references: [code, env],
      edges: [
        { kind: 'codeOf', from: code, to: job('train-3') },
        { kind: 'environmentOf', from: env, to: job('train-3') },
      ],
    });
    const after = await etags(services);
    const changed = [...after].filter(([k, etag]) => before.get(k) !== etag).map(([k]) => k);
    const graphChanged = changed.filter((k) => k.startsWith('graph|')).length;
    expect(graphChanged).toBeGreaterThan(0);
    const report = await runCompliance(services.compliance, { trigger: 'test' });
    expect(report.cost.byCheck.lineage?.changedDocuments).toBe(graphChanged);
    expect(report.cost.byCheck.drift?.changedDocuments).toBe(graphChanged);
    expect(report.cost.byCheck.pii?.changedDocuments).toBe(changed.length); // graph and the new raw event
    expect([report.lineageCompleteness.numerator, report.lineageCompleteness.denominator]).toEqual([3, 4]);
    expect(report.lineageCompleteness.items.map((g) => g.label)).toEqual(['legacy:1']);
    // A full recompute agrees with the incremental result.
    const full = await runCompliance(services.compliance, { mode: 'full', trigger: 'test' });
    expect(figures(full)).toEqual(figures(report));
    expect(full.cost.byCheck.lineage!.changedDocuments).toBeGreaterThan(report.cost.byCheck.lineage!.changedDocuments);
  });

  it('re-checks a window of changes without moving the marks', async () => {
    const latest = await runCompliance(services.compliance, { trigger: 'test' });
    const now = new Date();
    const window = await runCompliance(services.compliance, {
      mode: 'window',
      window: { since: new Date(now.getTime() - 3_600_000).toISOString(), until: now.toISOString() },
      trigger: 'test',
    });
    expect(window.window).not.toBeNull();
    expect(window.cost.byCheck.lineage!.changedDocuments).toBeGreaterThan(0);
    expect(figures(window)).toEqual(figures(latest));
    const next = await runCompliance(services.compliance, { trigger: 'test' });
    expect(next.cost.byCheck.lineage?.changedDocuments).toBe(0);
  });

  it('keeps a dated history and a trend chart across runs', async () => {
    const history = await services.compliance.blobs.readJson('reports/history.json', z.array(z.object({ runId: z.string() })));
    expect(history!.value.length).toBeGreaterThanOrEqual(5);
    expect(history!.value[0]?.runId).toBe(first.runId);
    expect(reportPath(first, 'json')).toMatch(new RegExp(`^reports/\\d{4}/\\d{2}/\\d{2}/${first.runId}\\.json$`));
  });
});

describe('the _ts high-water mark', () => {
  it('reads each document version once, re-reads only the last seconds, and lets a quiet burst go', async () => {
    const services = await freshServices();
    const container = (await cosmosContainers(services)).requests;
    for (let i = 0; i < 30; i++) await container.items.create({ id: `d${i}`, pk: `d${i}` });
    const read = async (mark: typeof START, nowSeconds?: number) => {
      const seen: StoredDoc[] = [];
      const result = await new ChangeStream(container, new StoreMeter()).read({ mark }, async (docs) => void seen.push(...docs), {
        pageSize: 7,
        nowSeconds,
      });
      return { ...result, seen: seen.map((d) => d.id).sort() };
    };
    const first = await read(START);
    expect(first.seen).toHaveLength(30);
    expect(first.read).toBe(30);
    // Just after the burst: the last seconds are re-read (read > 0) but nothing is processed twice.
    const again = await read(first.mark!);
    expect(again.seen).toEqual([]);
    await container.item('d3', 'd3').replace({ id: 'd3', pk: 'd3', changed: true });
    const changed = await read(again.mark!);
    expect(changed.seen).toEqual(['d3']);
    // An hour after the burst (by this clock, well past the settling time): the mark
    // moves past it, so later runs read nothing at all.
    const later = Math.floor(Date.now() / 1000) + 3600;
    const settledRun = await read(changed.mark!, later);
    expect(settledRun.seen).toEqual([]);
    expect(settledRun.mark!.ts).toBeGreaterThan(changed.mark!.ts + LAG_SECONDS);
    expect((await read(settledRun.mark!, later)).read).toBe(0);
  });

  it('saves progress while reading, so a run cut short resumes where it stopped without processing twice', async () => {
    const services = await freshServices();
    const container = (await cosmosContainers(services)).events;
    for (let i = 0; i < 40; i++) {
      await container.items.create({ id: `e${i}`, pk: `e${i}` });
      if (i === 19) await new Promise((resolve) => setTimeout(resolve, 1100)); // two different _ts seconds
    }
    const processed: string[] = [];
    let saved = START;
    let pages = 0;
    const crash = new Error('function timeout');
    await expect(
      new ChangeStream(container, new StoreMeter()).read(
        { mark: START },
        async (docs) => {
          if (++pages === 4) throw crash; // cut short on the fourth page
          processed.push(...docs.map((d) => d.id));
        },
        { pageSize: 7, checkpoint: { everyPages: 1, save: async (m) => void (saved = m) } },
      ),
    ).rejects.toBe(crash);
    expect(processed).toHaveLength(21);
    expect(saved.ts).toBeGreaterThan(0);
    await new ChangeStream(container, new StoreMeter()).read(
      { mark: saved },
      async (docs) => void processed.push(...docs.map((d) => d.id)),
      {
        pageSize: 7,
      },
    );
    expect(processed.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `e${i}`).sort());
  });
});

describe('one run at a time per compliance check (hole 11)', () => {
  it('a second run of a check while one runs is refused with 409; once it ends, runs start again', async () => {
    const services = await freshServices({ COMPLIANCE_CONTAINER: `compliance-${randomUUID().slice(0, 8)}` });
    const runs = await Promise.allSettled(
      Array.from({ length: 3 }, () => runCompliance(services.compliance, { checks: ['pii'], mode: 'full', trigger: 'test' })),
    );
    expect(runs.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = runs.filter((r) => r.status === 'rejected').map((r) => r.reason);
    expect(refused.every((e) => e instanceof DomainError)).toBe(true);
    expect((refused as DomainError[]).map((e) => [e.code, e.message])).toEqual([
      ['run-in-progress', expect.stringMatching(/pii .*already running/)],
      ['run-in-progress', expect.stringMatching(/pii .*already running/)],
    ]);
    // Another check is not held up by the pii lease, and the lease is given back when the run ends.
    await expect(runCompliance(services.compliance, { checks: ['pii', 'drift'], trigger: 'test' })).resolves.toMatchObject({
      checksRun: ['pii', 'drift'],
    });
  });
});
