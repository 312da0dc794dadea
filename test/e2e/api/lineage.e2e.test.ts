import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lineageAnswerSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  S,
  SHA256,
  WS,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  labels,
  mentionsSampleWorkspace,
  REGISTRY_MODEL_URI,
  sampleEvents,
  seedSample,
  startApi,
  type Api,
  type CallOptions,
} from './harness.js';

/** GET /api/lineage: bounded upstream/downstream walks, paging, filters, reference forms. */
let api: Api;

beforeAll(async () => {
  api = await startApi();
  await seedSample(api);
  // A model registered with the same name and version as the code asset credit-src:7 makes the
  // azureml:credit-src:7 shorthand name two nodes.
  const registered = sampleEvents.find((e) => e.eventType === 'Microsoft.MachineLearningServices.ModelRegistered') as Record<
    string,
    unknown
  >;
  await api.eventGrid([
    {
      ...registered,
      id: 'e2e-ambiguous-model-0001',
      subject: 'models/credit-src:7',
      eventTime: '2024-05-03T10:00:00Z',
      data: { ModelName: 'credit-src', ModelVersion: 7, ModelTags: {}, ModelProperties: {} },
    },
  ]);
});
afterAll(async () => {
  await api?.stop();
});

type Answer = z.infer<typeof lineageAnswerSchema>;

const lineage = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/lineage', params, options), lineageAnswerSchema);

function edgeLines(a: Answer): string[] {
  const label = Object.fromEntries(a.nodes.map((n) => [n.id, `${n.kind} ${n.label}`]));
  return a.edges.map((e) => `${label[e.from]} -${e.kind}-> ${label[e.to]}`);
}

function expectClosedEdges(a: Answer): void {
  const ids = new Set(a.nodes.map((n) => n.id));
  for (const e of a.edges) {
    expect(ids.has(e.from), `edge ${e.id} starts outside the answer`).toBe(true);
    expect(ids.has(e.to), `edge ${e.id} ends outside the answer`).toBe(true);
  }
  expect(new Set(a.nodes.map((n) => n.id)).size).toBe(a.nodes.length);
}

/** Every page of an answer, following cursors. */
async function allPages(params: Record<string, string>, options: CallOptions = {}): Promise<Answer[]> {
  const pages: Answer[] = [];
  let cursor: string | undefined;
  do {
    const page = await lineage({ ...params, ...(cursor ? { cursor } : {}) }, options);
    pages.push(page);
    cursor = page.cursor;
  } while (cursor && pages.length < 100);
  return pages;
}

const UPSTREAM_OF_V3 = [
  // The anonymous component versions the prep and train steps ran (componentOf).
  'azureml_anonymous:6b0d3c1e-5a2f-4e7d-9c81-0f4b2a6d8e13',
  'azureml_anonymous:d2f8a4b7-3c6e-4a91-8b5d-7e0c1f9a2b64',
  'cpu-cluster',
  'credit-applications:3',
  'credit-baseline:1',
  'credit-bureau-features:2',
  'credit-default:3',
  'credit-prep-20240501',
  'credit-src:7',
  'credit-train-20240501',
  'github.com/contoso/credit-models@9c1e4f7a2b3d',
  // credit-applications:3's files (locationOf), by storage URL and by datastore path: where a
  // Spark job writing them (OpenLineage) joins.
  'https://stcreditml7f3a.blob.core.windows.net/azureml-blobstore-9e2b7c4d-1f3a-4b6e-8d5c-2a7f0e1b3c94/credit-applications/2024-04-30',
  'lightgbm-env:5',
  'workspaceblobstore/azureml/credit-prep-20240501/prepared_data',
  'workspaceblobstore/credit-applications/2024-04-30',
];

describe('happy', () => {
  it('upstream of credit-default:3 shows the job, data, code, commit, environment, compute and parent model that built it', async () => {
    const a = await lineage({ ref: S.models.v3, direction: 'upstream', depth: '6' });
    expect(a).toMatchObject({ direction: 'upstream', depth: 6, partial: false });
    expect(a.cursor).toBeUndefined();
    expect(labels(a.nodes)).toEqual(UPSTREAM_OF_V3);
    const root = a.nodes.find((n) => n.id === a.root);
    expect(root).toMatchObject({ kind: 'model', label: 'credit-default:3', distance: 0, placeholder: false });
    expect(root?.properties).toMatchObject({ name: 'credit-default', version: '3', tags: { team: 'risk', stage: 'candidate' } });
    expect(edgeLines(a)).toEqual(
      expect.arrayContaining([
        'job credit-train-20240501 -produced-> model credit-default:3',
        'commit github.com/contoso/credit-models@9c1e4f7a2b3d -commitOf-> job credit-train-20240501',
        'environment lightgbm-env:5 -environmentOf-> job credit-train-20240501',
        'code credit-src:7 -codeOf-> job credit-train-20240501',
        'compute cpu-cluster -computeOf-> job credit-train-20240501',
        'model credit-baseline:1 -inputOf-> job credit-train-20240501',
        'storage workspaceblobstore/azureml/credit-prep-20240501/prepared_data -inputOf-> job credit-train-20240501',
        'job credit-prep-20240501 -produced-> storage workspaceblobstore/azureml/credit-prep-20240501/prepared_data',
        'data credit-applications:3 -inputOf-> job credit-prep-20240501',
        'data credit-bureau-features:2 -inputOf-> job credit-prep-20240501',
      ]),
    );
    expectClosedEdges(a);
    const distance = Object.fromEntries(a.nodes.map((n) => [n.label, n.distance]));
    expect(distance).toMatchObject({
      'credit-train-20240501': 1,
      'credit-src:7': 2,
      'credit-prep-20240501': 3,
      'credit-applications:3': 4,
    });
    expect(a.nodes.find((n) => n.label === 'credit-train-20240501')?.properties.parameters).toEqual({
      learning_rate: '0.05',
      n_estimators: '400',
    });
    // Every fact and every edge carries the content hash of the raw event that asserted it.
    for (const n of a.nodes) {
      for (const f of Object.values(n.provenance.facts)) expect(f.hash).toMatch(SHA256);
      for (const p of n.provenance.events) expect(p.hash).toMatch(SHA256);
      if (!n.placeholder) expect(n.provenance.events.length, n.label).toBeGreaterThan(0);
    }
    for (const e of a.edges) {
      expect(e.provenance.length, e.id).toBeGreaterThan(0);
      for (const p of e.provenance) expect(p.hash).toMatch(SHA256);
    }
  });

  it('downstream of credit-default:3 reaches the green deployment, the v1 web service and the endpoint', async () => {
    const a = await lineage({ ref: S.models.v3, direction: 'downstream', depth: '5' });
    expect(a.partial).toBe(false);
    expect(a.nodes.map((n) => `${n.kind} ${n.label.toLowerCase()}`).sort()).toEqual([
      'deployment credit-scoring/green',
      'endpoint credit-scoring',
      'model credit-default:3',
      'service credit-scoring',
    ]);
    expect(edgeLines(a).map((l) => l.toLowerCase())).toContain('deployment credit-scoring/green -serves-> endpoint credit-scoring');
    expectClosedEdges(a);
  });

  it('both directions is the union of upstream and downstream', async () => {
    const [up, down, both] = await Promise.all([
      lineage({ ref: S.models.v3, direction: 'upstream', depth: '10' }),
      lineage({ ref: S.models.v3, direction: 'downstream', depth: '10' }),
      lineage({ ref: S.models.v3, direction: 'both', depth: '10' }),
    ]);
    expect(both.direction).toBe('both');
    expect(new Set(both.nodes.map((n) => n.id))).toEqual(new Set([...up.nodes, ...down.nodes].map((n) => n.id)));
    expect(new Set(both.edges.map((e) => e.id))).toEqual(new Set([...up.edges, ...down.edges].map((e) => e.id)));
  });

  it('defaults to upstream, depth 3', async () => {
    const a = await lineage({ ref: S.models.v3 });
    expect(a).toMatchObject({ direction: 'upstream', depth: 3 });
    expect(Math.max(...a.nodes.map((n) => n.distance ?? 0))).toBe(3);
    expect(labels(a.nodes)).not.toContain('credit-applications:3'); // four hops up
  });

  it('accepts every reference form for the same node: ARM id in any casing, azureml: prefix, shorthand with workspace, node id', async () => {
    const first = await lineage({ ref: S.models.v3, depth: '1' });
    const forms = [S.models.v3.toUpperCase(), S.models.v3.toLowerCase(), `azureml:${S.models.v3}`, 'azureml:credit-default:3', first.root];
    for (const ref of forms) {
      const a = await lineage({ ref, depth: '1', workspace: WS });
      expect(a.root, ref).toBe(first.root);
      expect(labels(a.nodes), ref).toEqual(['credit-default:3', 'credit-train-20240501']);
    }
  });

  it('starts from a registry asset, which belongs to no workspace', async () => {
    const a = await lineage({ ref: REGISTRY_MODEL_URI, direction: 'downstream', depth: '2' });
    const root = a.nodes.find((n) => n.id === a.root);
    expect(root).toMatchObject({ kind: 'model', label: 'credit-baseline:1', workspace: null });
    expect(labels(a.nodes)).toEqual([
      'credit-baseline:1',
      'credit-default:3',
      'credit-train-20240501',
      'workspaceblobstore/azureml/credit-train-20240501/model_output',
    ]);
  });

  it('depth 1 gives only the producing job', async () => {
    const a = await lineage({ ref: S.models.v3, depth: '1' });
    expect(labels(a.nodes)).toEqual(['credit-default:3', 'credit-train-20240501']);
    expect(edgeLines(a)).toEqual(['job credit-train-20240501 -produced-> model credit-default:3']);
  });

  it('kinds returns the root and nodes of those kinds only, with only edges between them', async () => {
    const a = await lineage({ ref: S.models.v3, depth: '6', kinds: 'data' });
    expect(a.nodes.map((n) => `${n.kind} ${n.label}`).sort()).toEqual([
      'data credit-applications:3',
      'data credit-bureau-features:2',
      'model credit-default:3',
    ]);
    expect(a.edges).toEqual([]); // no data version is directly linked to the model
    const two = await lineage({ ref: S.models.v3, depth: '6', kinds: ' job , environment ' });
    expect(two.nodes.map((n) => `${n.kind} ${n.label}`).sort()).toEqual([
      'environment lightgbm-env:5',
      'job credit-prep-20240501',
      'job credit-train-20240501',
      'model credit-default:3',
    ]);
    expect(edgeLines(two).sort()).toEqual([
      'environment lightgbm-env:5 -environmentOf-> job credit-prep-20240501',
      'environment lightgbm-env:5 -environmentOf-> job credit-train-20240501',
      'job credit-train-20240501 -produced-> model credit-default:3',
    ]);
  });

  it('since and until keep the root and the nodes asserted by events in the window', async () => {
    const all = await lineage({ ref: S.models.v3, depth: '6' });
    const since = '2024-05-01T08:30:00Z';
    const until = '2024-04-30T23:00:00Z';
    const after = await lineage({ ref: S.models.v3, depth: '6', since });
    const before = await lineage({ ref: S.models.v3, depth: '6', until });
    const assertedIn = (n: Answer['nodes'][number], from?: string, to?: string) =>
      n.provenance.events.some(
        (p) => (!from || Date.parse(p.eventTime) >= Date.parse(from)) && (!to || Date.parse(p.eventTime) <= Date.parse(to)),
      );
    const expected = (from?: string, to?: string) => labels(all.nodes.filter((n) => n.id === all.root || assertedIn(n, from, to)));
    expect(labels(after.nodes)).toEqual(expected(since));
    expect(labels(before.nodes)).toEqual(expected(undefined, until));
    expect(labels(after.nodes)).toContain('credit-train-20240501');
    expect(labels(before.nodes)).toContain('credit-applications:3');
    expect(labels(before.nodes)).not.toContain('credit-train-20240501');
    expectClosedEdges(after);
    expectClosedEdges(before);
  });

  it('timeBudgetMs accepts its minimum (50); a cut answer says time-budget and carries no cursor', async () => {
    const a = await lineage({ ref: S.models.v3, depth: '10', direction: 'both', timeBudgetMs: '50' });
    if (a.partial && a.partialReason === 'time-budget') expect(a.cursor).toBeUndefined();
    else expect(a.partial).toBe(false);
    expect(a.nodes.find((n) => n.id === a.root)).toBeDefined();
    expectClosedEdges(a);
  });

  it('a small limit answers partial: true with reason node-budget and a cursor', async () => {
    const a = await lineage({ ref: S.models.v3, depth: '6', limit: '3' });
    expect(a.nodes).toHaveLength(3);
    expect(a).toMatchObject({ partial: true, partialReason: 'node-budget' });
    expect(a.cursor).toEqual(expect.any(String));
    expect(a.nodes[0]?.id).toBe(a.root);
    expectClosedEdges(a);
  });

  it('following cursors downstream of credit-applications:3 yields every node exactly once, the last page complete', async () => {
    const full = await lineage({ ref: S.data.v3, direction: 'downstream', depth: '10' });
    expect(full.partial).toBe(false);
    for (const limit of ['2', '4']) {
      const pages = await allPages({ ref: S.data.v3, direction: 'downstream', depth: '10', limit });
      const ids = pages.flatMap((p) => p.nodes.map((n) => n.id));
      expect(ids.sort(), `limit ${limit}`).toEqual(full.nodes.map((n) => n.id).sort());
      expect(pages.slice(0, -1).every((p) => p.partial && p.cursor)).toBe(true);
      expect(pages.at(-1)).toMatchObject({ partial: false });
      expect(pages.at(-1)?.cursor).toBeUndefined();
    }
  });

  it('following cursors upstream of credit-default:3, where a level is wider than the page, yields every node exactly once', async () => {
    const full = await lineage({ ref: S.models.v3, direction: 'both', depth: '10' });
    expect(full.partial).toBe(false);
    const label = Object.fromEntries(full.nodes.map((n) => [n.id, n.label]));
    for (const direction of ['upstream', 'both']) {
      const expected = (await lineage({ ref: S.models.v3, direction, depth: '10' })).nodes.map((n) => label[n.id]).sort();
      for (const limit of ['2', '3']) {
        const pages = await allPages({ ref: S.models.v3, direction, depth: '10', limit });
        const got = pages.flatMap((p) => p.nodes.map((n) => label[n.id] ?? n.label)).sort();
        expect(got, `${direction}, limit ${limit}`).toEqual(expected);
      }
    }
  });

  it('kinds with a small limit pages through every matching node', async () => {
    const complete = await lineage({ ref: S.models.v3, depth: '6', kinds: 'data' });
    const pages = await allPages({ ref: S.models.v3, depth: '6', kinds: 'data', limit: '2' });
    expect(pages.flatMap((p) => p.nodes.map((n) => n.label)).sort()).toEqual(labels(complete.nodes));
  });

  // A window that holds every event: the same nodes as without it, but since/until are answered by
  // walking the graph instead of from closures (shared/usecases/lineage.ts:207), so these pin the
  // walk's paging.
  const EVERYTHING = '2000-01-01T00:00:00Z';

  // Regression guard (was a bug): on the walk path, the cursor is an offset into a walk redone with a larger node budget for
  // every page. When a level has more nodes than the budget left, walk() keeps the first ones in
  // edge order, then sorts them (shared/usecases/lineage.ts:157-166, 269), so that level's order
  // differs from page to page: some nodes come twice, others never.
  it('following cursors on a walked answer (since/until) yields every node exactly once', async () => {
    const full = await lineage({ ref: S.models.v3, direction: 'upstream', depth: '10', since: EVERYTHING });
    // A time filter keeps nodes asserted by events in the window: placeholders (referenced, never
    // asserted) have none and drop out; everything else upstream stays.
    const asserted = full.nodes.filter((n) => !n.placeholder);
    expect(asserted).toHaveLength(full.nodes.length);
    expect(labels(full.nodes)).toEqual(UPSTREAM_OF_V3.filter((l) => labels(full.nodes).includes(l)));
    expect(full.nodes.length).toBeGreaterThanOrEqual(6);
    for (const limit of ['2', '3']) {
      const pages = await allPages({ ref: S.models.v3, direction: 'upstream', depth: '10', since: EVERYTHING, limit });
      expect(pages.flatMap((p) => p.nodes.map((n) => n.label)).sort(), `limit ${limit}`).toEqual(labels(full.nodes));
    }
  });

  // A filtered page cut short must say partial and carry a cursor to the matching nodes it left out.
  it('kinds with a small limit on a walked answer (since/until) does not claim a complete answer while matching nodes are left out', async () => {
    const complete = await lineage({ ref: S.models.v3, depth: '6', kinds: 'data,job', since: EVERYTHING });
    expect(labels(complete.nodes)).toEqual(['credit-applications:3', 'credit-default:3', 'credit-prep-20240501', 'credit-train-20240501']);
    const pages = await allPages({ ref: S.models.v3, depth: '6', kinds: 'data,job', since: EVERYTHING, limit: '2' });
    expect(pages.flatMap((p) => p.nodes.map((n) => n.label)).sort()).toEqual(labels(complete.nodes));
  });
});

describe('errors', () => {
  it('a missing or blank ref is 400 naming ref', async () => {
    expectInvalidParameter(await api.get('/api/lineage'), 'ref');
    expectInvalidParameter(await api.get('/api/lineage', { ref: '   ' }), 'ref');
  });

  it('an oversized ref (over 2048 characters) is 400 naming ref', async () => {
    expectInvalidParameter(await api.get('/api/lineage', { ref: `${S.models.v3}/${'x'.repeat(2100)}` }), 'ref');
  });

  it('a URL over 8 KiB is 400 invalid-request', async () => {
    const p = expectProblem(await api.get('/api/lineage', { ref: S.models.v3, workspace: 'w'.repeat(9000) }), 400, 'invalid-request');
    expect(p.detail).toMatch(/URL/);
  });

  it('absurd depths are refused naming depth: 0, 1000, negative, fractional, not a number', async () => {
    for (const depth of ['0', '1000', '-1', '2.5', 'three', ''])
      expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, depth }), 'depth');
  });

  it('depth up to 50 is answered, 51 is refused naming depth', async () => {
    expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, depth: '51' }), 'depth');
    await lineage({ ref: S.models.v3, depth: '50' });
  });

  it('limit 0, 501 and 100000 are refused naming limit', async () => {
    for (const limit of ['0', '501', '100000']) expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, limit }), 'limit');
  });

  it('timeBudgetMs under 50 or over 30000 is refused naming timeBudgetMs', async () => {
    for (const timeBudgetMs of ['49', '0', '30001'])
      expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, timeBudgetMs }), 'timeBudgetMs');
  });

  it('an unknown direction or node kind is refused naming the parameter', async () => {
    expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, direction: 'sideways' }), 'direction');
    expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, kinds: 'data,unicorn' }), 'kinds');
    expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, kinds: 'data,'.repeat(80) }), 'kinds');
  });

  it('since and until that are not ISO 8601 date-times are refused', async () => {
    expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, since: 'yesterday' }), 'since');
    expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, until: '2024-13-01T00:00:00Z' }), 'until');
  });

  it('a ref in no accepted form is 400 invalid-ref listing the accepted forms', async () => {
    for (const ref of ['credit-default', 'https://example.com/model', `${WS}/notebooks/x`]) {
      const p = expectProblem(await api.get('/api/lineage', { ref }), 400, 'invalid-ref');
      expect(z.array(z.string()).min(4).parse(p.acceptedForms)).toEqual(
        expect.arrayContaining([expect.stringContaining('azureml:NAME:VERSION')]),
      );
    }
  });

  it('NAME:VERSION without a workspace ARM id resolves across the workspaces the caller may see, or in the short-named one', async () => {
    const root = expectOk(await api.get('/api/lineage', { ref: S.models.v3 }), lineageAnswerSchema).root;
    const forms: Array<Record<string, string>> = [
      { ref: 'azureml:credit-default:3' },
      { ref: 'credit-default:3' },
      { ref: 'CREDIT-DEFAULT:3', workspace: 'ws-credit' },
    ];
    for (const params of forms)
      expect(expectOk(await api.get('/api/lineage', params), lineageAnswerSchema).root, JSON.stringify(params)).toBe(root);
    expectProblem(await api.get('/api/lineage', { ref: 'credit-default:3', workspace: 'ws-other' }), 404, 'not-found');
    expectProblem(await api.get('/api/lineage', { ref: 'credit-default:3' }, { principal: AS.readerOfOther }), 404, 'not-found');
    expectProblem(
      await api.get('/api/lineage', { ref: 'azureml:credit-default:3', workspace: 'not a workspace!' }),
      400,
      'invalid-request',
    );
  });

  it('an unknown ref is 404 not-found', async () => {
    expectProblem(await api.get('/api/lineage', { ref: `${WS}/models/credit-default/versions/99` }), 404, 'not-found');
    expectProblem(await api.get('/api/lineage', { ref: 'azureml:nothing-here:1', workspace: WS }), 404, 'not-found');
    expectProblem(await api.get('/api/lineage', { ref: `model-${'0'.repeat(32)}` }), 404, 'not-found');
  });

  it('an ambiguous shorthand is 409 ambiguous-ref listing the candidates, each of which resolves', async () => {
    const p = expectProblem(await api.get('/api/lineage', { ref: 'azureml:credit-src:7', workspace: WS }), 409, 'ambiguous-ref');
    const candidates = z.array(z.object({ id: z.string(), kind: z.string(), key: z.string() })).parse(p.candidates);
    expect(candidates.map((c) => c.kind).sort()).toEqual(['code', 'model']);
    for (const c of candidates) expect((await lineage({ ref: c.id, depth: '1' })).root).toBe(c.id);
    // Across workspaces too, each candidate naming its workspace.
    const across = expectProblem(await api.get('/api/lineage', { ref: 'credit-src:7' }), 409, 'ambiguous-ref');
    expect(across.candidates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'code', label: 'credit-src:7', workspace: 'ws-credit' }),
        expect.objectContaining({ kind: 'model', label: 'credit-src:7', workspace: 'ws-credit' }),
      ]),
    );
  });

  it('a cursor this API did not issue is 400 naming cursor', async () => {
    const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of ['garbage', forged({ offset: -1 }), forged({ offset: 1.5 }), forged({ offset: 10_000_000 }), forged({})]) {
      expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, cursor }), 'cursor');
    }
    expectInvalidParameter(await api.get('/api/lineage', { ref: S.models.v3, cursor: 'c'.repeat(201) }), 'cursor');
  });
});

describe('security', () => {
  const ref = { ref: S.models.v3, depth: '1' };

  it('without a key, or with a wrong one, the host answers 401', async () => {
    expect((await api.get('/api/lineage', ref, { key: 'none' })).status).toBe(401);
    expect((await api.get('/api/lineage', ref, { key: { value: 'not-the-key' } })).status).toBe(401);
    expect((await api.get('/api/lineage', ref, { key: { value: 'not-the-key' }, keyIn: 'header' })).status).toBe(401);
  });

  it('the function key and the admin key both open it, in the query or the x-functions-key header', async () => {
    for (const key of ['function', 'admin'] as const) {
      for (const keyIn of ['query', 'header'] as const) expectOk(await api.get('/api/lineage', ref, { key, keyIn }), lineageAnswerSchema);
    }
  });

  it('Entra: readers, auditors and admins read lineage; a principal with no lineage role is 403', async () => {
    for (const p of [AS.reader, AS.auditor, AS.admin, AS.readerOfSample])
      expect((await lineage(ref, { principal: p })).root).toMatch(/^model-/);
    expectProblem(await api.get('/api/lineage', ref, { principal: AS.noRoles }), 403, 'forbidden');
  });

  it('Entra: a malformed client principal header is 401 unauthorized', async () => {
    expectProblem(await api.get('/api/lineage', ref, { principal: AS.malformed }), 401, 'unauthorized');
    expectProblem(await api.get('/api/lineage', ref, { principal: 'not base64 at all!' }), 401, 'unauthorized');
  });

  it('a reader limited to another workspace gets 404 for every form of the sample refs, as for refs that do not exist', async () => {
    const unknown = expectProblem(
      await api.get('/api/lineage', { ref: `${WS}/models/credit-default/versions/99` }, { principal: AS.readerOfOther }),
      404,
      'not-found',
    );
    const root = (await lineage(ref)).root;
    for (const r of [S.models.v3, 'azureml:credit-default:3', root, S.jobs.train, S.endpoint]) {
      const p = expectProblem(await api.get('/api/lineage', { ref: r, workspace: WS }, { principal: AS.readerOfOther }), 404, 'not-found');
      expect(p.title).toBe(unknown.title);
      expect(Object.keys(p).sort()).toEqual(Object.keys(unknown).sort());
    }
    // The ambiguous shorthand must not tell that two hidden nodes exist.
    expectProblem(
      await api.get('/api/lineage', { ref: 'azureml:credit-src:7', workspace: WS }, { principal: AS.readerOfOther }),
      404,
      'not-found',
    );
  });

  it('a reader limited to another workspace sees a registry asset but none of the sample workspace below it', async () => {
    const a = await lineage({ ref: REGISTRY_MODEL_URI, direction: 'downstream', depth: '5' }, { principal: AS.readerOfOther });
    expect(labels(a.nodes)).toEqual(['credit-baseline:1']);
    expect(a.edges).toEqual([]);
    expect(a.hidden).toBeGreaterThan(0);
    expect(mentionsSampleWorkspace(a)).toBe(false);
    // Paging does not reveal them either.
    const pages = await allPages(
      { ref: REGISTRY_MODEL_URI, direction: 'downstream', depth: '5', limit: '1' },
      { principal: AS.readerOfOther },
    );
    expect(pages.flatMap((p) => p.nodes.map((n) => n.label))).toEqual(['credit-baseline:1']);
    expect(mentionsSampleWorkspace(pages)).toBe(false);
  });
});
