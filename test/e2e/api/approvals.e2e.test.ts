import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lineageAnswerSchema, nodeSchema } from '../../../shared/api/schemas.js';
import { ADMIN, AS, S, SHA256, WS, expectOk, expectProblem, type Api, withSampleApi } from './harness.js';

/**
 * Approvals a pipeline posts (POST /api/approvals) and who is behind an identity hash
 * (GET /api/identities/{hash}), through the local host with the sample workspace.
 */
const SECRET = 'e2e-approval-signing-secret-5b1d';
let api: Api;
withSampleApi((started) => (api = started), { APPROVAL_SIGNING_SECRET: SECRET });

const posted = z.object({ approval: nodeSchema, model: nodeSchema, hash: z.string(), duplicate: z.boolean() });
const revealed = z.object({
  hash: z.string(),
  value: z.string(),
  firstSeenAt: z.string(),
  revealedAt: z.string(),
  revealedBy: z.string(),
  log: z.string(),
});
const APPROVER = 'Dana.Lee@contoso.com';

/** What a GitHub Actions job posts after its environment approval (see README). */
const githubApproval = {
  model: 'azureml:credit-default:3',
  workspace: WS,
  decision: 'approved',
  approver: APPROVER,
  ticket: 'CHG-1042',
  link: 'https://github.com/contoso/credit-models/actions/runs/4412',
  source: 'github-actions',
  id: '4412-1',
};

/** A pipeline behind Entra ID: the function key and the Lineage.Approver role (a key alone is a key-only caller). */
const post = (body: unknown, options: Parameters<Api['post']>[2] = { principal: AS.approver }) =>
  api.post('/api/approvals', JSON.stringify(body), options);
const tokenOf = (text: string) => /identity:([0-9a-f]{24})/.exec(text)?.[1] as string;

describe('approvals posted by pipelines', () => {
  it('a pipeline with the function key and the approver role records a decision; it shows in the lineage, gate and evidence, and the approver only as a hash', async () => {
    const res = await post(githubApproval);
    expect(res.status, res.text).toBe(201);
    const a = posted.parse(res.body);
    expect(a).toMatchObject({ model: { label: 'credit-default:3' }, duplicate: false, hash: expect.stringMatching(SHA256) });
    expect(a.approval.properties).toMatchObject({
      decision: 'approved',
      ticket: 'CHG-1042',
      source: 'github-actions',
      at: expect.any(String),
    });
    expect(a.approval.properties.by).toMatch(/^identity:[0-9a-f]{24}$/);
    expect(res.text.toLowerCase()).not.toContain('dana');

    const lineage = expectOk(await api.get('/api/lineage', { ref: S.models.v3, direction: 'upstream', depth: '1' }), lineageAnswerSchema);
    const node = lineage.nodes.find((n) => n.kind === 'approval');
    expect(node?.properties).toMatchObject({ decision: 'approved', source: 'github-actions', link: githubApproval.link });
    expect(lineage.edges).toContainEqual(expect.objectContaining({ kind: 'approvalOf', from: node?.id }));

    expect((await api.get('/api/gate', { ref: S.models.v3, require: 'approval,metric:auc>=0.8' })).status).toBe(200);

    const evidence = await api.get('/api/evidence', { ref: S.models.v3 }, { principal: AS.auditor });
    expect(evidence.status).toBe(200);
    const rawEvents = (evidence.body as { rawEvents: Array<{ hash: string; eventType: string }> }).rawEvents;
    expect(rawEvents).toContainEqual(expect.objectContaining({ hash: a.hash, eventType: 'aml-lineage:approval' }));
    const markdown = await api.get('/api/evidence', { ref: S.models.v3, format: 'markdown' }, { principal: AS.auditor });
    expect(markdown.text).toContain(a.hash);
    for (const text of [lineage, evidence.text, markdown.text].map((x) => (typeof x === 'string' ? x : JSON.stringify(x))))
      expect(text.toLowerCase()).not.toMatch(/dana|priya raman/);
  });

  it('the same decision posted again is one approval; a rejection after it makes the gate fail', async () => {
    const again = posted.parse((await post(githubApproval)).body);
    expect(again.duplicate).toBe(true);
    const rejected = await post({ ...githubApproval, decision: 'rejected', id: '4413-1', at: new Date(Date.now() + 1000).toISOString() });
    expect(rejected.status).toBe(201);
    const p = expectProblem(await api.get('/api/gate', { ref: S.models.v3, require: 'approval' }), 422, 'gate-failed');
    expect(p.detail).toBe('credit-default:3 does not meet approval.');
    const lineage = expectOk(await api.get('/api/lineage', { ref: S.models.v3, direction: 'upstream', depth: '1' }), lineageAnswerSchema);
    expect(
      lineage.nodes
        .filter((n) => n.kind === 'approval')
        .map((n) => n.properties.decision)
        .sort(),
    ).toEqual(['approved', 'rejected']);
  });

  it('Entra: the approver role may post, a reader may not; a signature stands in for the role, a wrong one is 401', async () => {
    const azdo = {
      ...githubApproval,
      source: 'azure-devops',
      id: 'azdo-77',
      approver: { objectId: '7b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e' },
    };
    expectProblem(await post(azdo, { principal: AS.reader }), 403, 'forbidden');
    const byRole = await post(azdo, { principal: AS.approver });
    expect(byRole.status, byRole.text).toBe(201);
    // An Entra object id is kept as given: it is what makes the decision accountable.
    expect(posted.parse(byRole.body).approval.properties.byObjectId).toBe('7b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e');

    const body = JSON.stringify({ ...githubApproval, id: 'signed-1' });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
    const signed = await api.post('/api/approvals', body, {
      principal: AS.reader,
      headers: { 'x-lineage-signature': sig, 'x-lineage-timestamp': ts },
    });
    expect(signed.status, signed.text).toBe(201);
    const forged = await api.post('/api/approvals', body, {
      headers: { 'x-lineage-signature': `sha256=${'0'.repeat(64)}`, 'x-lineage-timestamp': ts },
    });
    expectProblem(forged, 401, 'unauthorized');
  });

  it('refuses a decision about something that is not a model version, or an unknown one', async () => {
    expectProblem(await post({ ...githubApproval, model: S.jobs.train }), 400, 'invalid-ref');
    expectProblem(await post({ ...githubApproval, model: 'azureml:credit-default:9' }), 404, 'not-found');
    expectProblem(await post({ ...githubApproval, decision: 'maybe' }), 400, 'invalid-request');
  });
});

describe('identities', () => {
  it('an auditor reveals who approved; the reveal is logged and counted in the compliance report; a reader is refused', async () => {
    const a = posted.parse((await post(githubApproval)).body);
    const hash = tokenOf(String(a.approval.properties.by));
    expectProblem(await api.get(`/api/identities/${hash}`, {}, { principal: AS.reader }), 403, 'forbidden');
    // Identities belong to no workspace: an auditor limited to one may not reveal them.
    expectProblem(await api.get(`/api/identities/${hash}`, {}, { principal: AS.auditorOfSample }), 403, 'forbidden');

    const r = revealed.parse(expectOk(await api.get(`/api/identities/${hash}`, { reason: 'CASE-7' }, { principal: AS.auditor }), revealed));
    expect(r).toMatchObject({ hash, value: 'dana.lee@contoso.com', revealedBy: expect.stringMatching(/^identity:/) });
    expect(r.log).toMatch(/^reveals\/\d{4}\/\d{2}\/\d{2}\//);
    expectProblem(await api.get('/api/identities/0123456789abcdef01234567', {}, { principal: AS.auditor }), 404, 'not-found');

    // The sample's data scientist is a hash in systemData and in the MLflow run, and can be revealed too.
    const lineage = await api.get('/api/lineage', { ref: S.models.v3, direction: 'upstream', depth: '3' });
    const train = (lineage.body as z.infer<typeof lineageAnswerSchema>).nodes.find((n) => n.label === 'credit-train-20240501');
    const user = (train?.properties.mlflowTags as Record<string, string>)['mlflow.user'] as string;
    expect(user).toMatch(/^identity:/);
    const priya = revealed.parse((await api.get(`/api/identities/${tokenOf(user)}`, {}, { principal: AS.auditor })).body);
    expect(priya.value).toBe('Priya Raman');

    const run = await api.post('/api/compliance/run?wait=120', JSON.stringify({ checks: ['pii'] }), ADMIN);
    expect(run.status, run.text).toBe(200);
    const report = (run.body as { identityReveals?: { total: number; byAuditor: Record<string, number> } }).identityReveals;
    expect(report?.total).toBeGreaterThanOrEqual(2);
    expect(report?.byAuditor[r.revealedBy]).toBeGreaterThanOrEqual(2);
    expect(run.text.toLowerCase()).not.toMatch(/dana|priya|alex@contoso/);
  });
});
