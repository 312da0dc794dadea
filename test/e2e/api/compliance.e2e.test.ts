import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../../infra/local/embeddedServices.js';
import { gateAnswerSchema, lineageAnswerSchema } from '../../../shared/api/schemas.js';
import { holdSchema } from '../../../shared/compliance/holds.js';
import { SECTION_TITLES } from '../../../shared/compliance/render.js';
import {
  CHECKS,
  DRIFT_REASONS,
  LINEAGE_REQUIREMENTS,
  SECTIONS,
  reportSchema,
  type CheckName,
  type ComplianceReport,
} from '../../../shared/compliance/report.js';
import { reportPath } from '../../../shared/compliance/runCompliance.js';
import { toInstant } from '../../../shared/util/time.js';
import {
  ADMIN,
  ADMIN_KEY,
  until,
  AS,
  ENDPOINT,
  FUNCTION_KEY,
  S,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  type Api,
  type CallOptions,
  withSampleApi,
} from './harness.js';

/**
 * Compliance (Q9, Q6): POST /api/compliance/run (admin), GET /api/compliance/latest (auditor), the
 * legal-hold routes (admin) and the four timers, through the local host as `npm start` runs it.
 * The report's figures are checked against the graph and against the gate (Q7), an independent
 * code path: a model version the report calls incomplete must fail the gate with the same gaps.
 */
let api: Api;
withSampleApi((started) => (api = started));

type Report = ComplianceReport;
type Lineage = z.infer<typeof lineageAnswerSchema>;

const RUN = '/api/compliance/run';
const LATEST = '/api/compliance/latest';
const HOLDS = '/api/compliance/holds';
const ALL_FOUR = LINEAGE_REQUIREMENTS.join(',');

const run = async (body: unknown = {}, options: CallOptions = {}): Promise<Report> =>
  // ?wait: the run is queued (202 otherwise); test/e2e/api/operations.e2e.test.ts covers polling.
  expectOk(await api.request('POST', RUN, { wait: '200' }, { ...ADMIN, ...options, body: JSON.stringify(body) }), reportSchema);
const latest = async (options: CallOptions = {}): Promise<Report> => expectOk(await api.get(LATEST, {}, options), reportSchema);
const put = (id: string, body: string, options: CallOptions = {}) =>
  api.request('PUT', `${HOLDS}/${id}`, {}, { ...ADMIN, ...options, body });
const del = (id: string, options: CallOptions = {}) => api.request('DELETE', `${HOLDS}/${id}`, {}, { ...ADMIN, ...options });

/** What every section says, without when it was computed: the figures a re-run must reproduce. */
function figures(r: Report) {
  return Object.fromEntries(
    SECTIONS.map((s) => {
      const { numerator, denominator, ratio, items } = r[s];
      return [s, { numerator, denominator, ratio, items }];
    }),
  );
}

/** A timer run now through the admin endpoint (admin key), as from the portal's "Run". */
async function invokeTimer(name: string): Promise<void> {
  // No input: the host builds the TimerInfo, as Azure does for a timer run from the portal.
  const res = await fetch(`${api.host.url}/admin/functions/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-functions-key': ADMIN_KEY },
    body: '{}',
  });
  expect(res.status, await res.text()).toBe(202);
}

/** The sample's graph as the lineage route shows it: both directions from both model versions and the endpoint. */
async function sampleGraph(): Promise<{ nodes: Map<string, Lineage['nodes'][number]>; edges: Map<string, Lineage['edges'][number]> }> {
  const nodes = new Map<string, Lineage['nodes'][number]>();
  const edges = new Map<string, Lineage['edges'][number]>();
  for (const ref of [S.models.v3, S.models.v2, ENDPOINT]) {
    const a = expectOk(await api.get('/api/lineage', { ref, direction: 'both', depth: '25' }), lineageAnswerSchema);
    expect(a.partial).toBe(false);
    for (const n of a.nodes) nodes.set(n.id, n);
    for (const e of a.edges) edges.set(e.id, e);
  }
  return { nodes, edges };
}

const deleted = (n: { properties: Record<string, unknown> }) => n.properties.deletedAt !== undefined;

/** The value of a history series at its newest event time. */
function newest(entries: Array<{ value: unknown; eventTime: string }> | undefined): unknown {
  const sorted = [...(entries ?? [])].sort((a, b) => (toInstant(a.eventTime) ?? '').localeCompare(toInstant(b.eventTime) ?? ''));
  return sorted.at(-1)?.value;
}

/** Gate verdict for a model node: the missing requirements (empty when it passes). */
async function gateMissing(ref: string): Promise<string[]> {
  const res = await api.get('/api/gate', { ref, require: ALL_FOUR });
  if (res.status === 200) return expectOk(res, gateAnswerSchema).missing;
  const p = expectProblem(res, 422, 'gate-failed');
  return z.object({ missing: z.array(z.string()).min(1) }).parse(p).missing;
}

let first: Report;
let second: Report;

describe('happy', () => {
  it('before any run, latest is 404 problem JSON', async () => {
    const p = expectProblem(await api.get(LATEST), 404, 'not-found');
    expect(p.detail).toMatch(/compliance\/run/);
  });

  it('POST run {} runs all four checks incrementally and returns a consistent report; latest returns it', async () => {
    first = await run({});
    expect(first).toMatchObject({ schemaVersion: 1, mode: 'incremental', window: null, trigger: 'http:compliance/run' });
    expect(first.checksRun).toEqual([...CHECKS]);
    for (const s of SECTIONS) {
      const { numerator, denominator, ratio, computedAt } = first[s];
      expect(numerator, s).toBeLessThanOrEqual(denominator);
      expect(ratio, s).toBe(denominator === 0 ? null : numerator / denominator);
      expect(computedAt, s).toBe(first.generatedAt); // every check ran in this run
    }
    for (const s of ['lineageCompleteness', 'deploymentTraceability'] as const) {
      const tallies = Object.values(first[s].byWorkspace);
      expect(
        tallies.reduce((n, t) => n + t.denominator, 0),
        s,
      ).toBe(first[s].denominator);
      expect(
        tallies.reduce((n, t) => n + t.numerator, 0),
        s,
      ).toBe(first[s].numerator);
      expect(first[s].denominator - first[s].numerator, s).toBe(first[s].items.length);
    }
    const after = await latest();
    expect(after.runId).toBe(first.runId);
    expect(after).toEqual(first);
  });

  it('lineage completeness matches the graph, and every gap is what the gate (Q7) says is missing', async () => {
    const { nodes } = await sampleGraph();
    const models = [...nodes.values()].filter((n) => n.kind === 'model' && !deleted(n));
    const lc = first.lineageCompleteness;
    expect(lc.denominator).toBe(models.length);
    expect(lc.denominator).toBeGreaterThan(0);

    const gaps = new Map(lc.items.map((i) => [i.node, i]));
    for (const item of lc.items) {
      expect(nodes.get(item.node)?.label, `${item.node} is a model version of the sample`).toBe(item.label);
      expect(item.missing.length).toBeGreaterThan(0);
      expect([...(await gateMissing(item.node))].sort()).toEqual([...item.missing].sort());
    }
    const complete = models.filter((m) => !gaps.has(m.id));
    expect(complete.length).toBe(lc.numerator);
    expect(complete.length, 'the sample has complete model versions to check').toBeGreaterThan(0);
    for (const m of complete) {
      const g = expectOk(await api.get('/api/gate', { ref: m.id, require: ALL_FOUR }), gateAnswerSchema);
      expect(g).toMatchObject({ passed: true, missing: [], model: { label: m.label } });
    }
  });

  it('deployment traceability matches what serves now and what its model versions pass at the gate', async () => {
    const { nodes, edges } = await sampleGraph();
    const byKey = new Map([...nodes.values()].map((n) => [n.key.toLowerCase(), n]));
    const out = (from: string, kind: string) => [...edges.values()].filter((e) => e.from === from && e.kind === kind);
    const into = (to: string, kind: string) => [...edges.values()].filter((e) => e.to === to && e.kind === kind);

    // Serving: a deployment whose newest traffic share is above 0 (or unknown); an SDK v1 web service until deleted.
    const serving = [...nodes.values()].filter((n) => {
      if (deleted(n)) return false;
      if (n.kind === 'service') return true;
      if (n.kind !== 'deployment') return false;
      const shares = out(n.id, 'serves')
        .map((e) => newest(e.history.traffic))
        .filter((v) => v !== undefined);
      return shares.length === 0 || shares.some((v) => Number(v) > 0);
    });
    const dt = first.deploymentTraceability;
    expect(dt.denominator).toBe(serving.length);
    expect(dt.denominator).toBeGreaterThan(0);
    // A deployment with 0% traffic is not serving, so it is neither counted nor listed.
    const idle = [...nodes.values()].filter((n) => n.kind === 'deployment' && !serving.includes(n));
    for (const n of idle) expect(dt.items.map((i) => i.node)).not.toContain(n.id);

    const untraceable = new Map<string, string[]>();
    for (const d of serving) {
      const current = d.kind === 'deployment' ? newest(d.history.model) : undefined;
      const models = typeof current === 'string' ? [byKey.get(current.toLowerCase())?.id] : into(d.id, 'deployedTo').map((e) => e.from);
      const missing = new Set<string>();
      for (const m of models) {
        if (m === undefined) missing.add('model');
        else (await gateMissing(m)).forEach((r) => missing.add(r));
      }
      if (models.length === 0) missing.add('model');
      if (missing.size > 0) untraceable.set(d.id, [...missing].sort());
    }
    expect(dt.numerator).toBe(serving.length - untraceable.size);
    expect(Object.fromEntries(dt.items.map((i) => [i.node, [...i.missing].sort()]))).toEqual(Object.fromEntries(untraceable));
  });

  it('drift: every signal is a node of the graph, and every unattributed one says why', async () => {
    const d = first.driftAttribution;
    expect(d.denominator).toBe(d.items.length + d.attributed.length);
    expect(d.numerator).toBe(d.attributed.length);
    for (const item of d.items) {
      expect(item.attributed).toBe(false);
      expect(item.reason).not.toBeNull();
      expect(item.explanation).toBe(DRIFT_REASONS[item.reason as keyof typeof DRIFT_REASONS]);
      const a = expectOk(await api.get('/api/lineage', { ref: item.signal }), lineageAnswerSchema);
      expect(a.nodes.find((n) => n.id === item.signal)?.kind).toBe(item.source === 'dataset-drift' ? 'drift' : 'job');
    }
  });

  it('PII: the sample was redacted at ingest, so nothing is found in what was scanned', () => {
    expect(first.pii.denominator).toBeGreaterThan(0);
    expect(first.pii.items).toEqual([]);
    expect(first.pii.numerator).toBe(first.pii.denominator);
    expect(first.pii.byKind).toEqual({});
  });

  it('freshness and serving-versus-training cover the deployments serving now; schema drift counts every logged event by source', async () => {
    const { nodes, edges } = await sampleGraph();
    const servingNow = [...nodes.values()].filter((n) => {
      if (n.kind !== 'deployment' || deleted(n)) return false;
      const shares = [...edges.values()]
        .filter((e) => e.from === n.id && e.kind === 'serves')
        .map((e) => newest(e.history.traffic))
        .filter((v) => v !== undefined);
      return shares.length === 0 || shares.some((v) => Number(v) > 0);
    });
    const f = first.freshness;
    expect(f.denominator).toBe(servingNow.length);
    expect(f.denominator).toBeGreaterThan(0);
    // Captured minutes ago: nothing is stale, and every age is known.
    expect(f).toMatchObject({ numerator: f.denominator, items: [], staleAfterHours: 24 });
    expect(f.p50Seconds).not.toBeNull();
    expect(f.p50Seconds!).toBeLessThanOrEqual(f.p95Seconds!);
    expect(f.p95Seconds!).toBeLessThanOrEqual(f.maxSeconds!);
    expect(f.maxSeconds!).toBeLessThan(3600);

    const m = first.servingMatchesTraining;
    expect(m.denominator).toBe(servingNow.length);
    expect(m.numerator).toBe(m.denominator - m.items.length);
    for (const item of m.items) {
      expect(servingNow.map((n) => n.id)).toContain(item.node);
      expect(item.comparisons.map((c) => c.aspect).sort()).toEqual(['code', 'environment']);
      expect(item.comparisons.some((c) => c.verdict !== 'match')).toBe(true);
    }

    const d = first.schemaDrift;
    expect(d.denominator).toBeGreaterThan(0);
    expect(d.bySource.reduce((n, s) => n + s.events, 0)).toBe(d.denominator);
    expect(d.bySource.reduce((n, s) => n + s.clean, 0)).toBe(d.numerator);
    // The sample arrives through Event Grid and the REST enrichment.
    const channels = new Set(d.bySource.map((s) => s.channel));
    expect(channels.has('eventgrid') && channels.has('rest')).toBe(true);
    expect(d.bySource.find((s) => s.source === 'Microsoft.MachineLearningServices.ModelRegistered')?.events).toBeGreaterThan(0);
    for (const s of d.items) expect(s.withUnexpectedFields + s.deadLettered).toBeGreaterThan(0);
    console.log(
      `sample: freshness ${f.numerator}/${f.denominator} (p50 ${f.p50Seconds} s, p95 ${f.p95Seconds} s, max ${f.maxSeconds} s); ` +
        `servingMatchesTraining ${m.numerator}/${m.denominator} ${JSON.stringify(m.items.map((i) => [i.label, i.comparisons]))}; ` +
        `schemaDrift ${d.numerator}/${d.denominator} ${JSON.stringify(d.items.map((s) => [s.source, s.unexpectedFields, s.deadLetterFields]))}`,
    );
  });

  it('a second run with nothing new gives the same figures and processes fewer changed documents', async () => {
    second = await run({});
    expect(second.runId).not.toBe(first.runId);
    expect(figures(second)).toEqual(figures(first));
    for (const s of ['lineageCompleteness', 'deploymentTraceability'] as const) {
      expect(second[s].byWorkspace, s).toEqual(first[s].byWorkspace);
      expect(second[s].byOwner, s).toEqual(first[s].byOwner);
    }
    console.log(`compliance cost, first run:  ${JSON.stringify(first.cost)}`);
    console.log(`compliance cost, second run: ${JSON.stringify(second.cost)}`);
    const changed = (r: Report, c: CheckName) => r.cost.byCheck[c]?.changedDocuments ?? NaN;
    expect(changed(first, 'lineage')).toBeGreaterThan(0);
    expect(changed(second, 'lineage')).toBeLessThan(changed(first, 'lineage'));
    for (const c of CHECKS) expect(changed(second, c), c).toBeLessThan(changed(first, c));
    expect((await latest()).runId).toBe(second.runId);
  });

  it('the JSON and HTML reports sit in Blob Storage under reports/yyyy/mm/dd/<runId>', async () => {
    // The spawned host prints Azurite's blob URL; Azurite's account and key are the published defaults.
    const port = /Azurite, in memory\): http:\/\/127\.0\.0\.1:(\d+)/.exec(api.host.output())?.[1];
    expect(port, 'the host prints the Azurite blob endpoint').toBeDefined();
    const container = new BlobServiceClient(
      `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    ).getContainerClient('compliance');
    const read = async (name: string) => {
      const blob = container.getBlobClient(name);
      const props = await blob.getProperties();
      return { contentType: props.contentType ?? '', text: (await blob.downloadToBuffer()).toString('utf8') };
    };
    for (const report of [first, second]) {
      const day = report.generatedAt.slice(0, 10).replace(/-/g, '/');
      expect(reportPath(report, 'json')).toBe(`reports/${day}/${report.runId}.json`);
      const json = await read(`reports/${day}/${report.runId}.json`);
      expect(json.contentType).toMatch(/^application\/json/);
      expect(reportSchema.parse(JSON.parse(json.text))).toEqual(report);

      const html = await read(`reports/${day}/${report.runId}.html`);
      expect(html.contentType).toMatch(/^text\/html/);
      expect(html.text).toMatch(/^<!DOCTYPE html>/);
      expect(html.text).toContain(report.runId);
      for (const s of SECTIONS)
        expect(html.text, s).toContain(`${SECTION_TITLES[s]}</h2>\n<p>${report[s].numerator} / ${report[s].denominator} OK`);
      for (const item of report.lineageCompleteness.items) expect(html.text).toContain(item.label);
      expect(html.text).not.toMatch(/<script/i);
    }
    const history = z.array(z.object({ runId: z.string() })).parse(JSON.parse((await read('reports/history.json')).text));
    expect(history.map((h) => h.runId).slice(-2)).toEqual([first.runId, second.runId]);
    expect(JSON.parse((await read('reports/latest.json')).text)).toEqual(second);
  });
});

describe('timers', () => {
  const TIMERS: Record<string, CheckName> = {
    complianceLineage: 'lineage',
    complianceDrift: 'drift',
    complianceRetention: 'retention',
    compliancePii: 'pii',
    complianceIntegrity: 'integrity',
    complianceServing: 'serving',
    complianceSchemaDrift: 'schemaDrift',
  };

  it('the seven compliance timers and the reconcile timer are registered as timer triggers', () => {
    for (const name of [...Object.keys(TIMERS), 'reconcileServing'])
      expect(api.host.output()).toMatch(new RegExp(`^  ${name}: timerTrigger `, 'm'));
  });

  it('invoking complianceLineage runs the lineage check alone; the other sections are carried over', async () => {
    const before = await latest();
    await invokeTimer('complianceLineage');
    const after = await latest();
    expect(after.runId).not.toBe(before.runId);
    expect(after).toMatchObject({ checksRun: ['lineage'], trigger: 'timer:complianceLineage', mode: 'incremental' });
    expect(figures(after)).toEqual(figures(before));
    expect(after.lineageCompleteness.computedAt).toBe(after.generatedAt);
    expect(after.deploymentTraceability.computedAt).toBe(after.generatedAt);
    for (const s of ['driftAttribution', 'retention', 'pii', 'integrity', 'freshness', 'servingMatchesTraining', 'schemaDrift'] as const)
      expect(after[s].computedAt, s).toBe(before[s].computedAt);
    expect(Object.keys(after.cost.byCheck)).toEqual(['lineage']);
  });

  it('each of the other timers runs its own check', async () => {
    for (const [name, check] of Object.entries(TIMERS).filter(([n]) => n !== 'complianceLineage')) {
      await invokeTimer(name);
      const after = await latest();
      expect(after, name).toMatchObject({ checksRun: [check], trigger: `timer:${name}` });
      expect(Object.keys(after.cost.byCheck), name).toEqual([check]);
    }
  });
});

describe('reconcile', () => {
  it('reconcileServing reads every endpoint and deployment again through the enrichment queue the host works', async () => {
    const { nodes } = await sampleGraph();
    const wanted = [...nodes.values()].filter((n) => (n.kind === 'endpoint' || n.kind === 'deployment') && !deleted(n)).map((n) => n.key);
    expect(wanted.length).toBeGreaterThan(1);
    const requested = async () => {
      const res = await fetch(`${api.standIn}/_standin/requests`);
      const { requests } = (await res.json()) as { requests: Array<{ method: string; path: string }> };
      return new Set(requests.filter((r) => r.method === 'GET').map((r) => decodeURIComponent(r.path).toLowerCase()));
    };
    await fetch(`${api.standIn}/_standin/requests`, { method: 'DELETE' });
    await invokeTimer('reconcileServing');
    await until('the stand-in served every endpoint and deployment again', requested, (paths) => wanted.every((k) => paths.has(k)));
  });
});

describe('errors', () => {
  it('mode "window" without since and until is 400 naming since', async () => {
    expectInvalidParameter(await api.post(RUN, JSON.stringify({ mode: 'window' }), ADMIN), 'since');
    expectInvalidParameter(await api.post(RUN, JSON.stringify({ mode: 'window', since: '2024-05-02T00:00:00Z' }), ADMIN), 'since');
    expectInvalidParameter(
      await api.post(RUN, JSON.stringify({ mode: 'window', since: '2024-05-03T00:00:00Z', until: '2024-05-02T00:00:00Z' }), {
        ...ADMIN,
      }),
      'since',
    );
  });

  it('an unknown check, no checks, an unknown mode or an unknown field is 400 naming it', async () => {
    expectInvalidParameter(await api.post(RUN, JSON.stringify({ checks: ['bogus'] }), ADMIN), 'checks');
    expectInvalidParameter(await api.post(RUN, JSON.stringify({ checks: [] }), ADMIN), 'checks');
    expectInvalidParameter(await api.post(RUN, JSON.stringify({ mode: 'everything' }), ADMIN), 'mode');
    expectInvalidParameter(
      await api.post(RUN, JSON.stringify({ since: 'yesterday', mode: 'window', until: '2024-05-02T00:00:00Z' }), ADMIN),
      'since',
    );
    expectInvalidParameter(await api.post(RUN, JSON.stringify({ everything: true }), ADMIN), 'body');
  });

  it('a body that is not JSON is 400 invalid-request', async () => {
    for (const body of ['{mode: window', 'mode=full']) {
      const p = expectProblem(await api.post(RUN, body, ADMIN), 400, 'invalid-request');
      expect(p.detail).toMatch(/JSON/);
    }
  });

  it('GET on the run route is 405 with Allow: POST', async () => {
    const res = await api.get(RUN, {}, ADMIN);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('a hold id outside letters, digits, dot, dash and underscore is 400 naming holdId', async () => {
    expectInvalidParameter(await put('bad id!', JSON.stringify({ reason: 'litigation 1' })), 'holdId');
    expectInvalidParameter(await put('-leading-dash', JSON.stringify({ reason: 'litigation 1' })), 'holdId');
    expectInvalidParameter(await del('bad id!'), 'holdId');
  });

  it('a hold is placed, listed, reported by the next retention run, and ended once', async () => {
    const body = { reason: 'litigation 1', recordKinds: ['request-trace'] };
    const placed = expectOk(await put('case-1', JSON.stringify(body)), holdSchema);
    expect(placed).toMatchObject({ id: 'case-1', ...body });
    const listed = expectOk(await api.get(HOLDS, {}, ADMIN), z.object({ holds: z.array(holdSchema) }));
    expect(listed.holds).toEqual([placed]);
    // Changing it keeps when it was placed.
    const changed = expectOk(await put('case-1', JSON.stringify({ ...body, reason: 'litigation 1, amended' })), holdSchema);
    expect(changed).toMatchObject({ reason: 'litigation 1, amended', createdAt: placed.createdAt });

    expect((await run({ checks: ['retention'] })).retention.activeHolds).toEqual(['case-1']);

    expect(expectOk(await del('case-1'), z.object({ deleted: z.literal(true) }))).toEqual({ deleted: true });
    expectProblem(await del('case-1'), 404, 'not-found');
    expect(expectOk(await api.get(HOLDS, {}, ADMIN), z.object({ holds: z.array(holdSchema) })).holds).toEqual([]);
    expect((await run({ checks: ['retention'] })).retention.activeHolds).toEqual([]);
  });

  it('a hold reason with personal data, a missing reason or an unknown record kind is 400 naming it', async () => {
    expectInvalidParameter(
      await put('case-2', JSON.stringify({ reason: 'ask alex.smith@contoso.example', recordKinds: ['request-trace'] })),
      'reason',
    );
    expectInvalidParameter(await put('case-2', JSON.stringify({ recordKinds: ['request-trace'] })), 'reason');
    expectInvalidParameter(await put('case-2', JSON.stringify({ reason: 'litigation 2', recordKinds: ['emails'] })), 'recordKinds');
    expectProblem(await put('case-2', '{reason:', {}), 400, 'invalid-request');
    // Nothing was stored.
    expectProblem(await del('case-2'), 404, 'not-found');
  });
});

describe('security', () => {
  it('refuses to run a timer through the admin endpoint without the admin key', async () => {
    for (const key of [undefined, FUNCTION_KEY]) {
      const res = await fetch(`${api.host.url}/admin/functions/complianceLineage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
        body: '{}',
      });
      expect(res.status).toBe(401);
    }
  });

  it('run: no key or a wrong key is 401; behind Entra a key without Lineage.Admin is 403 (the admin key alone too); with it, it runs', async () => {
    expect((await api.post(RUN, '{}', { key: 'none' })).status).toBe(401);
    expect((await api.post(RUN, '{}', { key: { value: 'wrong' }, keyIn: 'header' })).status).toBe(401);
    for (const keyIn of ['query', 'header'] as const)
      expectProblem(await api.post(RUN, '{}', { key: 'function', keyIn }), 403, 'forbidden');
    expectProblem(await api.post(RUN, '{}', { key: 'admin' }), 403, 'forbidden');
    await run({ checks: ['lineage'] }, { keyIn: 'header' });
  });

  it('run: Entra readers and auditors get 403; an admin limited to one workspace gets 403; an admin of all runs it', async () => {
    for (const principal of [AS.reader, AS.auditor, AS.readerOfSample]) {
      const p = expectProblem(await api.post(RUN, '{}', { key: 'function', principal }), 403, 'forbidden');
      expect(p.detail).toMatch(/admin/i);
    }
    for (const principal of [AS.adminOfOther, AS.auditorOfSample]) {
      const p = expectProblem(await api.post(RUN, '{}', { key: 'function', principal }), 403, 'forbidden');
      expect(p.detail).toMatch(/workspace|admin/i);
    }
    const before = (await latest()).runId;
    expectProblem(await api.post(RUN, '{}', { key: 'function', principal: AS.adminOfOther }), 403, 'forbidden');
    expect((await latest()).runId, 'a refused run writes no report').toBe(before);
    expect((await run({ checks: ['lineage'] }, { principal: AS.admin })).checksRun).toEqual(['lineage']);
    expectProblem(await api.post(RUN, '{}', { key: 'function', principal: AS.malformed }), 401, 'unauthorized');
  });

  it('latest: the function key reads it; no key is 401; a reader, or an auditor of one workspace, is 403', async () => {
    expect((await api.get(LATEST, {}, { key: 'none' })).status).toBe(401);
    await latest({ key: 'function', keyIn: 'header' });
    expect((await latest({ principal: AS.auditor })).schemaVersion).toBe(1);
    expect((await latest({ principal: AS.admin })).schemaVersion).toBe(1);
    for (const principal of [AS.reader, AS.readerOfSample, AS.auditorOfSample, AS.adminOfOther, AS.noRoles]) {
      const res = await api.get(LATEST, {}, { principal });
      expectProblem(res, 403, 'forbidden');
      expect(res.text).not.toContain('lineageCompleteness');
    }
  });

  it('holds: no key is 401; a key without Lineage.Admin, a workspace-limited admin or a reader is 403, and nothing is stored', async () => {
    const body = JSON.stringify({ reason: 'litigation 3' });
    expectProblem(await api.get(HOLDS, {}, { key: 'function' }), 403, 'forbidden');
    expectProblem(await put('case-3', body, { key: 'admin', principal: undefined }), 403, 'forbidden');
    expect((await del('case-3', { key: 'none' })).status).toBe(401);
    for (const principal of [AS.adminOfOther, AS.reader, AS.auditor]) {
      expectProblem(await api.get(HOLDS, {}, { key: 'function', principal }), 403, 'forbidden');
      expectProblem(await put('case-3', body, { principal }), 403, 'forbidden');
      expectProblem(await del('case-3', { principal }), 403, 'forbidden');
    }
    expect(
      expectOk(await api.get(HOLDS, {}, { key: 'function', principal: AS.admin }), z.object({ holds: z.array(holdSchema) })).holds,
    ).toEqual([]);
  });
});
