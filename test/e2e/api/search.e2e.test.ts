import { describe, expect, it } from 'vitest';
import { searchAnswerSchema } from '../../../shared/api/schemas.js';
import {
  AS,
  REGISTRY_MODEL_URI,
  S,
  WS,
  expectInvalidParameter,
  expectOk,
  expectProblem,
  labels,
  mentionsSampleWorkspace,
  type Api,
  type CallOptions,
  withSampleApi,
} from './harness.js';

/** GET /api/search: nodes by any reference form, by tag, or by the start of a name. */
let api: Api;
withSampleApi((started) => (api = started));

const search = async (params: Record<string, string>, options: CallOptions = {}) =>
  expectOk(await api.get('/api/search', params, options), searchAnswerSchema);

describe('happy', () => {
  it('by name prefix, case-insensitively', async () => {
    expect(labels((await search({ q: 'credit-default' })).nodes)).toEqual(['credit-default:2', 'credit-default:3']);
    expect(labels((await search({ q: 'CREDIT-DEF' })).nodes)).toEqual(['credit-default:2', 'credit-default:3']);
    // green runs on a curated environment from Microsoft's registry, blue on the workspace's own.
    expect(labels((await search({ q: 'lightgbm' })).nodes)).toEqual(['lightgbm-3.3:43', 'lightgbm-env:5']);
    expect(labels((await search({ q: 'lightgbm-e' })).nodes)).toEqual(['lightgbm-env:5']);
  });

  it('by name prefix with kind, workspace and limit', async () => {
    const models = await search({ q: 'credit', kind: 'model' });
    expect(models.nodes.every((n) => n.kind === 'model')).toBe(true);
    expect(labels(models.nodes)).toEqual(['credit-baseline:1', 'credit-default:2', 'credit-default:3']);
    // The workspace filter leaves out registry assets, which belong to no workspace.
    const inWorkspace = await search({ q: 'credit', kind: 'model', workspace: WS });
    expect(labels(inWorkspace.nodes)).toEqual(['credit-default:2', 'credit-default:3']);
    const limited = await search({ q: 'credit', limit: '3' });
    expect(limited.nodes).toHaveLength(3);
  });

  it('by ARM id, azureml: shorthand, registry URI and node id', async () => {
    const byArm = await search({ q: S.models.v3 });
    expect(byArm.nodes.map((n) => [n.kind, n.label])).toEqual([['model', 'credit-default:3']]);
    expect((await search({ q: S.deployments.blue.toUpperCase() })).nodes.map((n) => n.label)).toEqual(['credit-scoring/blue']);
    expect((await search({ q: 'azureml:credit-default:3', workspace: WS })).nodes.map((n) => n.id)).toEqual([byArm.nodes[0]?.id]);
    expect((await search({ q: REGISTRY_MODEL_URI })).nodes.map((n) => [n.label, n.workspace])).toEqual([['credit-baseline:1', null]]);
    expect((await search({ q: byArm.nodes[0]?.id ?? '' })).nodes.map((n) => n.label)).toEqual(['credit-default:3']);
  });

  it('answers an empty list when nothing matches', async () => {
    expect((await search({ q: 'no-such-asset' })).nodes).toEqual([]);
    expect((await search({ q: `${WS}/models/credit-default/versions/99` })).nodes).toEqual([]);
  });

  // Regression guard (was a bug): the tag filter reads `c.facts.tags.value`, but VALUE is a reserved word of the Cosmos DB
  // query language; the query does not parse and the route answers 500
  // (shared/store/graphStore.ts:247; `c.facts.tags["value"]` would parse).
  it('by tag:KEY=VALUE (tag:team=risk)', async () => {
    const res = await api.get('/api/search', { q: 'tag:team=risk' });
    const found = expectOk(res, searchAnswerSchema);
    expect(labels(found.nodes)).toEqual(expect.arrayContaining(['credit-default:2', 'credit-default:3']));
    for (const n of found.nodes) expect((n.properties.tags as Record<string, unknown> | undefined)?.team, n.label).toBe('risk');
    expect(labels((await search({ q: 'tag:stage=production', kind: 'model' })).nodes)).toEqual(['credit-default:2']);
  });

  it('by tag:KEY (any value)', async () => {
    const found = expectOk(await api.get('/api/search', { q: 'tag:stage', kind: 'model' }), searchAnswerSchema);
    expect(labels(found.nodes)).toEqual(['credit-default:2', 'credit-default:3']);
  });
});

describe('errors', () => {
  it('a missing, blank or oversized q is 400 naming q', async () => {
    expectInvalidParameter(await api.get('/api/search'), 'q');
    expectInvalidParameter(await api.get('/api/search', { q: '   ' }), 'q');
    expectInvalidParameter(await api.get('/api/search', { q: 'q'.repeat(513) }), 'q');
  });

  it('absurd limits are refused naming limit: 0, 101, 100000, not a number', async () => {
    for (const limit of ['0', '101', '100000', 'all'])
      expectInvalidParameter(await api.get('/api/search', { q: 'credit', limit }), 'limit');
  });

  it('an unknown kind is 400 naming kind', async () => {
    expectInvalidParameter(await api.get('/api/search', { q: 'credit', kind: 'spaceship' }), 'kind');
  });

  it('a workspace that is not a workspace ARM id is 400 invalid-request', async () => {
    const p = expectProblem(await api.get('/api/search', { q: 'credit', workspace: 'ws-credit' }), 400, 'invalid-request');
    expect(p.detail).toMatch(/workspace/);
  });
});

describe('security', () => {
  const q = { q: 'credit-default' };

  it('without a key, or with a wrong one, the host answers 401; function and admin keys open it', async () => {
    expect((await api.get('/api/search', q, { key: 'none' })).status).toBe(401);
    expect((await api.get('/api/search', q, { key: { value: 'wrong' }, keyIn: 'header' })).status).toBe(401);
    await search(q, { key: 'function', keyIn: 'header' });
    await search(q, { key: 'admin' });
  });

  it('Entra: readers search; no lineage role is 403; a malformed header is 401', async () => {
    expect((await search(q, { principal: AS.readerOfSample })).nodes).toHaveLength(2);
    expectProblem(await api.get('/api/search', q, { principal: AS.noRoles }), 403, 'forbidden');
    expectProblem(await api.get('/api/search', q, { principal: AS.malformed }), 401, 'unauthorized');
  });

  it('a reader limited to another workspace finds no node of the sample workspace, by any form', async () => {
    const as = { principal: AS.readerOfOther };
    const forms: Array<Record<string, string>> = [
      { q: 'credit' },
      { q: 'c', limit: '100' },
      { q: S.models.v3 },
      { q: 'azureml:credit-default:3', workspace: WS },
      { q: 'credit', workspace: WS },
    ];
    for (const params of forms) {
      const found = await search(params, as);
      expect(mentionsSampleWorkspace(found), JSON.stringify(params)).toBe(false);
      expect(found.nodes.every((n) => n.workspace === null)).toBe(true);
    }
    // Registry assets belong to no workspace: every reader may find them.
    expect(labels((await search({ q: 'credit', kind: 'model' }, as)).nodes)).toEqual(['credit-baseline:1']);
  });
});
