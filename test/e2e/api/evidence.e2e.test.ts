import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { edgeSchema, nodeSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  S,
  SHA256,
  WS,
  expectInvalidParameter,
  expectNoInternals,
  expectOk,
  expectProblem,
  labels,
  type Answer,
  type Api,
  type CallOptions,
  withSampleApi,
} from './harness.js';

/** GET /api/evidence: the evidence package of a model version, in four formats (Q8). Auditors only. */
let api: Api;
withSampleApi((started) => (api = started));

const evidenceJson = z.object({
  model: nodeSchema,
  generatedAt: z.iso.datetime({ offset: true }),
  partial: z.boolean(),
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema),
  rawEvents: z.array(
    z.object({
      hash: z.string().regex(SHA256),
      eventId: z.string().min(1),
      eventType: z.string().min(1),
      eventTime: z.string(),
      source: z.string(),
    }),
  ),
  verification: z.string().min(1),
});

/** The fields the OpenLineage RunEvent schema (2-0-2) requires, plus the shape of datasets and facets. */
const facet = z.object({ _producer: z.url(), _schemaURL: z.url() }).loose();
const dataset = z.object({ namespace: z.string().min(1), name: z.string().min(1), facets: z.record(z.string(), facet).optional() });
const runEvent = z.object({
  eventType: z.enum(['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER']).optional(),
  eventTime: z.iso.datetime({ offset: true }),
  producer: z.url(),
  schemaURL: z.url().regex(/RunEvent$/),
  run: z.object({ runId: z.uuid(), facets: z.record(z.string(), facet).optional() }),
  job: z.object({ namespace: z.string().min(1), name: z.string().min(1), facets: z.record(z.string(), facet).optional() }),
  inputs: z.array(dataset).optional(),
  outputs: z.array(dataset).optional(),
});

const provRecord = z.record(z.string(), z.record(z.string(), z.unknown()));
const provDocument = z.object({
  prefix: z.record(z.string(), z.string()),
  entity: provRecord,
  activity: provRecord,
  used: z.record(z.string(), z.object({ 'prov:activity': z.string(), 'prov:entity': z.string() }).loose()),
  wasGeneratedBy: z.record(z.string(), z.object({ 'prov:entity': z.string(), 'prov:activity': z.string() }).loose()),
});

const ask = (params: Record<string, string>, options: CallOptions = {}) => api.get('/api/evidence', params, options);
const jsonOf = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await ask({ ref: S.models.v3, ...params }, options), evidenceJson);

describe('happy', () => {
  it('json: the upstream record of credit-default:3 with every raw event behind it, by sha256', async () => {
    const e = await jsonOf({ format: 'json' });
    expect(e.model).toMatchObject({ kind: 'model', label: 'credit-default:3' });
    expect(e.partial).toBe(false);
    expect(labels(e.nodes)).toEqual(
      expect.arrayContaining(['credit-default:3', 'credit-train-20240501', 'credit-applications:3', 'credit-src:7', 'lightgbm-env:5']),
    );
    expect(e.rawEvents.length).toBeGreaterThanOrEqual(5);
    expect(new Set(e.rawEvents.map((r) => r.hash)).size).toBe(e.rawEvents.length);
    // The Event Grid events themselves are among them, by their Event Grid ids.
    expect(e.rawEvents.map((r) => r.eventType)).toEqual(
      expect.arrayContaining(['Microsoft.MachineLearningServices.ModelRegistered', 'Microsoft.MachineLearningServices.RunCompleted']),
    );
    // Every hash a node or edge cites is listed.
    const listed = new Set(e.rawEvents.map((r) => r.hash));
    for (const n of e.nodes) for (const p of n.provenance.events) expect(listed.has(p.hash), n.label).toBe(true);
    for (const edge of e.edges) for (const p of edge.provenance) expect(listed.has(p.hash), edge.id).toBe(true);
    const ids = new Set(e.nodes.map((n) => n.id));
    for (const edge of e.edges) expect(ids.has(edge.from) && ids.has(edge.to), edge.id).toBe(true);
  });

  it('json is the default format', async () => {
    const e = await jsonOf({});
    expect(e.model.label).toBe('credit-default:3');
  });

  // REST observations of resources with their own timestamp carry no fetchedAt; their id must not say "@ undefined".
  it('json: every raw event has a meaningful id (none built from an undefined value)', async () => {
    const e = await jsonOf({});
    const bad = e.rawEvents.filter((r) => /\bundefined\b|\bnull\b/.test(r.eventId)).map((r) => r.eventId);
    expect(bad).toEqual([]);
  });

  it('openlineage: one RunEvent per job, each valid against the RunEvent required fields', async () => {
    const res = await ask({ ref: S.models.v3, format: 'openlineage' });
    const events = expectOk(res, z.array(runEvent));
    expect(events.map((e) => e.job.name).sort()).toEqual(['credit-prep-20240501', 'credit-train-20240501']);
    expect(new Set(events.map((e) => e.run.runId)).size).toBe(2);
    const train = events.find((e) => e.job.name === 'credit-train-20240501');
    expect(train?.eventType).toBe('COMPLETE');
    expect(train?.job.namespace).toBe(`azureml:${WS.toLowerCase()}`);
    expect(train?.inputs?.map((i) => i.name)).toEqual(expect.arrayContaining([expect.stringContaining('prepared_data')]));
    expect(train?.job.facets?.sourceCodeLocation).toMatchObject({ type: 'git', version: '9c1e4f7a2b3d5e6f8091a2b3c4d5e6f708192a3b' });
    // Run ids are stable: asking again gives the same UUIDs.
    const again = expectOk(await ask({ ref: S.models.v3, format: 'openlineage' }), z.array(runEvent));
    expect(again.map((e) => e.run.runId).sort()).toEqual(events.map((e) => e.run.runId).sort());
  });

  it('prov: W3C PROV-JSON with entities, activities (the jobs), used and wasGeneratedBy', async () => {
    const res = await ask({ ref: S.models.v3, format: 'prov' });
    const doc = expectOk(res, provDocument);
    const label = (id: string) => String((doc.entity[id] ?? doc.activity[id])?.['prov:label']);
    expect(Object.keys(doc.activity).map(label).sort()).toEqual(['credit-prep-20240501', 'credit-train-20240501']);
    expect(Object.keys(doc.entity).map(label)).toEqual(
      expect.arrayContaining(['credit-default:3', 'credit-applications:3', 'lightgbm-env:5']),
    );
    const used = Object.values(doc.used).map((u) => `${label(u['prov:activity'])} used ${label(u['prov:entity'])}`);
    expect(used).toEqual(
      expect.arrayContaining(['credit-prep-20240501 used credit-applications:3', 'credit-train-20240501 used lightgbm-env:5']),
    );
    const generated = Object.values(doc.wasGeneratedBy).map((g) => `${label(g['prov:entity'])} by ${label(g['prov:activity'])}`);
    expect(generated).toContain('credit-default:3 by credit-train-20240501');
    // Every relation refers to a declared entity and activity.
    for (const u of Object.values(doc.used))
      expect([u['prov:entity'] in doc.entity, u['prov:activity'] in doc.activity]).toEqual([true, true]);
    for (const g of Object.values(doc.wasGeneratedBy))
      expect([g['prov:entity'] in doc.entity, g['prov:activity'] in doc.activity]).toEqual([true, true]);
  });

  it('markdown: a report that starts with "# Evidence" and lists every raw event hash of the JSON record', async () => {
    const res = await ask({ ref: S.models.v3, format: 'markdown' });
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/markdown/);
    expect(res.headers.get('content-disposition')).toMatch(/filename="evidence-credit-default_3\.md"/);
    expect(res.text.startsWith('# Evidence')).toBe(true);
    expect(res.text).toContain('credit-default:3');
    const e = await jsonOf({});
    for (const r of e.rawEvents) expect(res.text).toContain(r.hash);
    expectNoInternals(res.text);
  });
});

describe('errors', () => {
  it('an unknown format is 400 naming format', async () => {
    for (const format of ['pdf', 'JSON', '']) expectInvalidParameter(await ask({ ref: S.models.v3, format }), 'format');
  });

  it('a missing, blank or oversized ref is 400 naming ref', async () => {
    expectInvalidParameter(await ask({}), 'ref');
    expectInvalidParameter(await ask({ ref: ' ' }), 'ref');
    expectInvalidParameter(await ask({ ref: 'e'.repeat(2049) }), 'ref');
  });

  it('a data version or job is 400 invalid-ref: evidence is for model versions', async () => {
    for (const ref of [S.data.v3, S.jobs.train]) expectProblem(await ask({ ref }), 400, 'invalid-ref');
  });

  it('an unknown model version is 404 not-found, in every format', async () => {
    for (const format of ['json', 'openlineage', 'prov', 'markdown']) {
      expectProblem(await ask({ ref: `${WS}/models/credit-default/versions/77`, format }), 404, 'not-found');
    }
  });
});

describe('security', () => {
  const q = { ref: S.models.v3 };

  it('without a key, or with a wrong one, the host answers 401; function and admin keys open it', async () => {
    expect((await ask(q, { key: 'none' })).status).toBe(401);
    expect((await ask(q, { key: { value: 'wrong' } })).status).toBe(401);
    await jsonOf({}, { key: 'function', keyIn: 'header' });
    await jsonOf({}, { key: 'admin' });
  });

  it('Entra: a reader gets 403 in every format; auditors and admins get the evidence', async () => {
    for (const format of ['json', 'markdown']) {
      const p = expectProblem(await ask({ ...q, format }, { principal: AS.reader }), 403, 'forbidden');
      expect(p.detail).toMatch(/auditor/i);
    }
    expectProblem(await ask(q, { principal: AS.readerOfSample }), 403, 'forbidden');
    for (const principal of [AS.auditor, AS.auditorOfSample, AS.admin])
      expect((await jsonOf({}, { principal })).model.label).toBe('credit-default:3');
  });

  it('Entra: a malformed principal is 401, checked before the role', async () => {
    expectProblem(await ask(q, { principal: AS.malformed }), 401, 'unauthorized');
  });

  it('an auditor limited to another workspace gets the same 404 as for a model that does not exist', async () => {
    const hidden: Answer = await ask(q, { principal: AS.auditorOfOther });
    expectProblem(hidden, 404, 'not-found');
    expectProblem(await ask({ ...q, format: 'markdown' }, { principal: AS.auditorOfOther }), 404, 'not-found');
    expect(hidden.text).not.toContain('rawEvents');
  });
});
