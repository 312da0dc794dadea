import { HttpRequest, InvocationContext } from '@azure/functions';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { chatopsSlackRoute } from '../../functions/chatopsSlack.js';
import { chatopsTeamsRoute } from '../../functions/chatopsTeams.js';
import { bounded, capLines, fitChars, LIMITS, listed, type Answer } from '../../shared/chatops/answer.js';
import { normalizeText, parseCommand, type Command } from '../../shared/chatops/commands.js';
import { startCommand, withinBudget, type ExecDeps } from '../../shared/chatops/executor.js';
import { apiLink, linkBase } from '../../shared/chatops/links.js';
import { chatopsSettings } from '../../shared/chatops/settings.js';
import { SlackReplayCache, verifySlackSignature, verifyTeamsSignature } from '../../shared/chatops/signature.js';
import { escapeMrkdwn, responseUrlAllowed, SLACK_LIMITS, toBlockKit } from '../../shared/chatops/slack.js';
import { diffSummary, gateSummary, impactSummary, lineageSummary, lineageAsOfSummary } from '../../shared/chatops/summaries.js';
import { TEAMS_MAX_BYTES, toTeamsMessage } from '../../shared/chatops/teams.js';
import type { Services } from '../../shared/composition.js';
import type { LineageAnswer, LineageNode } from '../../shared/usecases/traversal.js';
import { slackSignature as sign } from '../helpers/chatops.js';

const WS =
  '/subscriptions/6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const MODEL = `${WS}/models/credit-default/versions/3`;

const ok = (text: string) => {
  const parsed = parseCommand(text);
  if (!parsed.ok) throw new Error(`expected "${text}" to parse, got: ${parsed.error}`);
  return parsed;
};
const command = (text: string): Command => ok(text).command;
const failure = (text: string): string => {
  const parsed = parseCommand(text);
  if (parsed.ok) throw new Error(`expected "${text}" not to parse, got ${JSON.stringify(parsed.command)}`);
  return parsed.error;
};

describe('command grammar', () => {
  it('parses each verb', () => {
    expect(command('help')).toEqual({ verb: 'help' });
    expect(command(`lineage ${MODEL}`)).toEqual({ verb: 'lineage', ref: MODEL });
    expect(command(`impact azureml:credit-applications:3 in ${WS}`)).toEqual({
      verb: 'impact',
      ref: 'azureml:credit-applications:3',
      workspace: WS,
    });
    expect(command('gate azureml:credit-default:3')).toEqual({ verb: 'gate', ref: 'azureml:credit-default:3' });
    expect(command(`diff azureml:credit-default:2 azureml:credit-default:3 in ${WS}`)).toEqual({
      verb: 'diff',
      from: 'azureml:credit-default:2',
      to: 'azureml:credit-default:3',
      workspace: WS,
    });
    expect(command(`served ${WS}/onlineEndpoints/credit-scoring at 2024-05-20T00:00:00Z`)).toEqual({
      verb: 'served',
      endpoint: `${WS}/onlineEndpoints/credit-scoring`,
      at: '2024-05-20T00:00:00Z',
    });
    expect(command(`served credit-scoring at now in ${WS}`)).toEqual({
      verb: 'served',
      endpoint: 'credit-scoring',
      at: 'now',
      workspace: WS,
    });
    expect(command(`timeline credit-scoring in ${WS}`)).toEqual({ verb: 'timeline', endpoint: 'credit-scoring', workspace: WS });
    expect(command(`ROLLBACK ${WS}/batchEndpoints/credit-batch`)).toEqual({
      verb: 'rollback',
      endpoint: `${WS}/batchEndpoints/credit-batch`,
    });
    expect(command('reproduce credit-default:3 in ws-credit')).toEqual({
      verb: 'reproduce',
      ref: 'credit-default:3',
      workspace: 'ws-credit',
    });
    expect(command('request 5f1e7a9c-0d3b-4c2a-9e8f-7a6b5c4d3e2f')).toEqual({
      verb: 'request',
      id: '5f1e7a9c-0d3b-4c2a-9e8f-7a6b5c4d3e2f',
    });
  });

  it('treats empty text and "?" as help, and verbs and keywords case-insensitively', () => {
    expect(command('')).toEqual({ verb: 'help' });
    expect(command('   ')).toEqual({ verb: 'help' });
    expect(command('?')).toEqual({ verb: 'help' });
    expect(command(`LINEAGE ${MODEL}`)).toEqual({ verb: 'lineage', ref: MODEL });
    expect(command(`Gate azureml:m:1 IN ${WS}`)).toEqual({ verb: 'gate', ref: 'azureml:m:1', workspace: WS });
    expect(command(`SERVED ep AT 2024-05-20T00:00:00Z`)).toEqual({ verb: 'served', endpoint: 'ep', at: '2024-05-20T00:00:00Z' });
  });

  it('tolerates extra spaces, tabs and newlines', () => {
    expect(command(`  lineage \t ${MODEL}   `)).toEqual({ verb: 'lineage', ref: MODEL });
    expect(command(`diff   a:1\n b:2   in\t${WS}\n`)).toEqual({ verb: 'diff', from: 'a:1', to: 'b:2', workspace: WS });
  });

  it('ignores a leading bot mention: Teams <at>, &nbsp; and HTML wrappers, Slack <@U…>, plain @name', () => {
    expect(command(`<at>Lineage Bot</at> lineage ${MODEL}`)).toEqual({ verb: 'lineage', ref: MODEL });
    expect(command('<at>Lineage</at>&nbsp;gate azureml:m:1')).toEqual({ verb: 'gate', ref: 'azureml:m:1' });
    expect(command('<p><at>Lineage</at> help</p>\n')).toEqual({ verb: 'help' });
    expect(command('<@U024BE7LH> request r-1')).toEqual({ verb: 'request', id: 'r-1' });
    expect(command('<@U024BE7LH|lineage> request r-1')).toEqual({ verb: 'request', id: 'r-1' });
    expect(command('@lineage-bot impact azureml:d:1')).toEqual({ verb: 'impact', ref: 'azureml:d:1' });
    expect(command('<at>Bot</at>')).toEqual({ verb: 'help' });
  });

  it('decodes the entities Slack escapes and unwraps Slack links', () => {
    expect(normalizeText('a &amp; b &lt;c&gt;')).toBe('a & b <c>');
    expect(command('request <https://example.com/x|x>')).toEqual({ verb: 'request', id: 'https://example.com/x' });
  });

  it('takes a trailing --public (any case) as "answer the channel"', () => {
    expect(ok(`lineage ${MODEL} --public`)).toEqual({ ok: true, public: true, command: { verb: 'lineage', ref: MODEL } });
    expect(ok(`gate azureml:m:1 in ${WS} --PUBLIC`).public).toBe(true);
    expect(ok(`lineage ${MODEL}`).public).toBe(false);
    expect(failure(`lineage --public ${MODEL}`)).toContain('Usage: lineage REF');
  });

  it('answers bad input with a short usage reason', () => {
    expect(failure('lineage')).toBe('Usage: lineage REF [in WORKSPACE]');
    expect(failure('lineage a b')).toBe('Usage: lineage REF [in WORKSPACE]');
    expect(failure('diff azureml:m:1')).toContain('Usage: diff REF REF');
    expect(failure('served ep 2024-05-20T00:00:00Z')).toContain('Usage: served ENDPOINT at TIME');
    expect(failure('served ep on 2024-05-20T00:00:00Z')).toContain('Usage: served ENDPOINT at TIME');
    expect(failure('request')).toBe('Usage: request ID');
    expect(failure('timeline')).toBe('Usage: timeline ENDPOINT [in WORKSPACE]');
    expect(failure('rollback a b')).toBe('Usage: rollback ENDPOINT [in WORKSPACE]');
    expect(failure('reproduce')).toBe('Usage: reproduce REF [in WORKSPACE]');
    expect(failure(`request r-1 in ${WS}`)).toContain('no workspace');
    expect(failure('help me')).toBe('help takes no arguments.');
    expect(failure('deploy everything')).toBe('Unknown command "deploy".');
    expect(failure(`lineage ${'x'.repeat(9000)}`)).toContain('longer than');
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const parsed = parseCommand(text);
        expect(typeof parsed.ok).toBe('boolean');
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('lineage', 'in', 'at', '--public', '<at>x</at>', 'diff', 'served', 'a:1', ' '), { maxLength: 8 }),
        (words) => void parseCommand(words.join(' ')),
      ),
    );
  });
});

describe('Slack signatures', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const body =
    'token=x&team_id=T1&command=%2Flineage&text=gate+azureml%3Acredit-default%3A3&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1%2F2%2F3';
  const now = 1_714_560_000;
  const ts = String(now);
  const verify = (over: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) =>
    verifySlackSignature({
      secret,
      timestamp: ts,
      signature: sign(secret, ts, body),
      body: Buffer.from(body),
      nowSeconds: now,
      replays: new SlackReplayCache(), // each call a first use: these tests are about the signature
      ...over,
    });

  it('accepts a correct signature, up to five minutes either way', () => {
    expect(verify()).toEqual({ ok: true });
    const old = String(now - 300);
    expect(verify({ timestamp: old, signature: sign(secret, old, body) })).toEqual({ ok: true });
    expect(verify({ signature: sign(secret, ts, body).toUpperCase().replace('V0=', 'v0=') })).toEqual({ ok: true });
  });

  it('rejects a wrong signature, a changed body, a wrong secret', () => {
    expect(verify({ signature: `v0=${'0'.repeat(64)}` })).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') });
    expect(verify({ body: Buffer.from(body.replace('gate', 'lineage')) })).toMatchObject({ ok: false });
    expect(verify({ secret: 'another-secret' })).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') });
    expect(verify({ signature: sign(secret, ts, body).slice(0, -2) })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a v0'),
    });
    expect(verify({ signature: sign(secret, ts, body).replace('v0=', 'v1=') })).toMatchObject({ ok: false });
  });

  it('rejects stale and future timestamps even when correctly signed', () => {
    for (const t of [now - 301, now + 301, now - 86_400]) {
      const stamp = String(t);
      expect(verify({ timestamp: stamp, signature: sign(secret, stamp, body) }), stamp).toMatchObject({
        ok: false,
        reason: expect.stringContaining('five minutes'),
      });
    }
    expect(verify({ timestamp: 'yesterday', signature: sign(secret, 'yesterday', body) })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('Unix time'),
    });
  });

  it('rejects missing headers', () => {
    expect(verify({ signature: null })).toMatchObject({ ok: false, reason: expect.stringContaining('required') });
    expect(verify({ timestamp: null })).toMatchObject({ ok: false, reason: expect.stringContaining('required') });
    expect(verify({ signature: '' })).toMatchObject({ ok: false });
  });
});

describe('Teams signatures', () => {
  const secret = Buffer.from('a 32-byte key for outgoing hooks').toString('base64');
  const body = JSON.stringify({ type: 'message', text: '<at>Lineage</at> help' });
  const hmac = (key: string, text: string) => createHmac('sha256', Buffer.from(key, 'base64')).update(text).digest('base64');
  const verify = (authorization: string | null, over: { secret?: string; body?: string } = {}) =>
    verifyTeamsSignature({ secret: over.secret ?? secret, authorization, body: Buffer.from(over.body ?? body) });

  it('accepts HMAC base64(HMAC-SHA256(base64-decoded token, body))', () => {
    expect(verify(`HMAC ${hmac(secret, body)}`)).toEqual({ ok: true });
    expect(verify(`hmac   ${hmac(secret, body)}`)).toEqual({ ok: true });
  });

  it('rejects a signature of another body, or under another secret', () => {
    expect(verify(`HMAC ${hmac(secret, `${body} `)}`)).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') });
    const other = Buffer.from('another key').toString('base64');
    expect(verify(`HMAC ${hmac(other, body)}`)).toMatchObject({ ok: false });
    // Keyed with the token's text rather than its decoded bytes: a common mistake, and wrong.
    expect(verify(`HMAC ${createHmac('sha256', secret).update(body).digest('base64')}`)).toMatchObject({ ok: false });
  });

  it('rejects missing, other-scheme and malformed headers', () => {
    expect(verify(null)).toMatchObject({ ok: false, reason: expect.stringContaining('HMAC') });
    expect(verify(`Bearer ${hmac(secret, body)}`)).toMatchObject({ ok: false });
    expect(verify('HMAC')).toMatchObject({ ok: false });
    expect(verify('HMAC !!!not-base64!!!')).toMatchObject({ ok: false, reason: expect.stringContaining('not base64') });
    expect(verify(`HMAC ${hmac(secret, body).slice(1)}`)).toMatchObject({ ok: false });
    expect(verify(`HMAC ${hmac(secret, body).replace(/=+$/, '')}x`)).toMatchObject({ ok: false });
  });
});

describe('response_url allow-list', () => {
  it('allows only https://hooks.slack.com/', () => {
    expect(responseUrlAllowed('https://hooks.slack.com/commands/T0001/1234/abcd')).toBe(true);
    expect(responseUrlAllowed('https://hooks.slack.com:443/commands/x')).toBe(true);
    for (const bad of [
      'http://hooks.slack.com/commands/x',
      'https://hooks.slack.com.evil.example/commands/x',
      'https://evilhooks.slack.com/commands/x',
      'https://a.hooks.slack.com/commands/x',
      'https://evil.example/https://hooks.slack.com/',
      'https://user:pw@hooks.slack.com/commands/x',
      'https://hooks.slack.com:8443/commands/x',
      'https://slack.com/commands/x',
      'http://127.0.0.1:8080/x',
      'not a url',
      '',
      null,
      undefined,
    ]) {
      expect(responseUrlAllowed(bad), String(bad)).toBe(false);
    }
  });

  it('allows any http(s) URL when SLACK_RESPONSE_URL_ALLOW_ANY is on, nothing else', () => {
    expect(responseUrlAllowed('http://127.0.0.1:8080/x', true)).toBe(true);
    expect(responseUrlAllowed('https://example.com/x', true)).toBe(true);
    expect(responseUrlAllowed('file:///etc/passwd', true)).toBe(false);
    expect(responseUrlAllowed('not a url', true)).toBe(false);
  });
});

const node = (kind: string, label: string, id = `${kind}-${label}`): LineageNode => ({
  id,
  kind,
  key: `k/${id}`,
  label,
  workspace: WS.toLowerCase(),
  placeholder: false,
  properties: {},
  history: {},
  provenance: { facts: {}, events: [] },
});
const edge = (kind: string, from: LineageNode, to: LineageNode) => ({
  id: `${from.id}~${kind}~${to.id}`,
  kind,
  from: from.id,
  to: to.id,
  properties: {},
  history: {},
  provenance: [],
});

describe('answers stay short', () => {
  it('caps lines and items with "… and N more"', () => {
    expect(listed(['a', 'b', 'c'])).toBe('a, b, c');
    expect(listed(Array.from({ length: 10 }, (_, i) => `n${i}`))).toBe('n0, n1, n2, n3, n4, n5 … and 4 more');
    expect(capLines(['1', '2', '3'], 3)).toEqual(['1', '2', '3']);
    expect(capLines(['1', '2', '3', '4', '5'], 3)).toEqual(['1', '2', '… and 3 more']);
    expect(fitChars(['aaaa', 'bbbb', 'cccc', 'dddd'], 9)).toEqual(['… and 4 more']);
    expect(fitChars(['aaaa', 'bbbb', 'cccc', 'dddd'], 19)).toEqual(['aaaa', 'bbbb', 'cccc', 'dddd']);
    expect(capLines(['1', '2', '3', '… and 5 more'], 3)).toEqual(['1', '2', '… and 6 more']);
    expect(fitChars(['aa', 'bb', 'cc', '… and 5 more'], 15)).toEqual(['aa', '… and 7 more']);
  });

  it('bounds title, line count and line length', () => {
    const long = bounded({
      title: `T${'x'.repeat(400)}`,
      lines: Array.from({ length: 40 }, (_, i) => `${i} ${'y'.repeat(500)}`),
      tone: 'info',
    });
    expect(long.lines).toHaveLength(LIMITS.lines);
    expect(long.lines.at(-1)).toBe(`… and ${40 - (LIMITS.lines - 1)} more`);
    expect(Math.max(...long.lines.map((l) => l.length))).toBeLessThanOrEqual(LIMITS.lineChars);
    expect(long.lines[0]?.endsWith('…')).toBe(true);
    expect([...long.title].length).toBe(LIMITS.titleChars);
  });

  it('summarises an impact with many dependants in a few lines', () => {
    const root = node('data', 'credit-applications:3');
    const item = (n: LineageNode) => ({ node: n, path: [root.id, n.id] });
    const answer = bounded(
      impactSummary(
        {
          root,
          models: Array.from({ length: 100 }, (_, i) => item(node('model', `m${String(i).padStart(3, '0')}:1`))),
          deployments: [
            {
              ...item(node('deployment', 'credit-scoring/blue')),
              servingNow: true,
              trafficShare: 100,
              model: `${WS}/models/m000/versions/1`,
            },
          ],
          endpoints: [{ ...item(node('endpoint', 'credit-scoring')), servingDeployments: ['deployment-credit-scoring/blue'] }],
          jobs: Array.from({ length: 30 }, (_, i) => item(node('job', `j${i}`))),
          other: [],
          partial: false,
        },
        'http://x/api/impact?ref=r',
      ),
    );
    expect(answer.title).toBe('Impact of data credit-applications:3');
    expect(answer.lines).toContain('Model versions (100): m000:1, m001:1, m002:1, m003:1, m004:1, m005:1 … and 94 more');
    expect(answer.lines).toContain('Serving now: credit-scoring/blue (100%, m000:1)');
    expect(answer.lines.find((l) => l.startsWith('Jobs (30)'))).toContain('… and 24 more');
    expect(answer.lines.length).toBeLessThanOrEqual(LIMITS.lines);
    expect(answer.tone).toBe('warning');
  });

  it('summarises lineage as producing job, data, code, commit, environment', () => {
    const model = node('model', 'credit-default:3');
    const job = node('job', 'credit-train-20240501');
    const prep = node('job', 'credit-prep-20240501');
    const nodes = [
      model,
      job,
      prep,
      node('data', 'credit-applications:3'),
      node('commit', 'github.com/contoso/credit-models@9c1e4f7a2b3d'),
      node('code', 'credit-src:7'),
      node('environment', 'lightgbm-env:5'),
    ];
    const answer: LineageAnswer = {
      root: model.id,
      direction: 'upstream',
      depth: 6,
      nodes,
      edges: [edge('produced', job, model), edge('produced', prep, job)],
      partial: false,
      answeredFrom: 'closures',
    };
    const summary = lineageSummary(answer, 'http://x/api/lineage');
    expect(summary.title).toBe('Lineage of model credit-default:3');
    expect(summary.lines).toEqual([
      'Produced by: job credit-train-20240501',
      'Data: credit-applications:3',
      'Code: credit-src:7',
      'Commit: github.com/contoso/credit-models@9c1e4f7a2b3d',
      'Environment: lightgbm-env:5',
      'Earlier jobs: credit-prep-20240501',
      'Upstream: 6 node(s), 2 edge(s) within 6 hop(s).',
    ]);
  });

  it('says passed or missing for the gate, and shows served deployments with shares and models', () => {
    const model = node('model', 'credit-default:3');
    const check = (present: boolean, evidence: string[] = []) => ({ present, evidence });
    const checks = {
      job: check(true, ['credit-train-20240501']),
      data: check(true, ['credit-applications:3']),
      code: check(false),
      environment: check(true, ['lightgbm-env:5']),
      metrics: check(false),
      approval: check(false),
    };
    const failed = gateSummary({ model, passed: false, required: ['data', 'code', 'environment', 'job'], checks, missing: ['code'] }, 'l');
    expect(failed.title).toBe('❌ credit-default:3 does not meet code');
    expect(failed.lines).toEqual([
      '✓ data: credit-applications:3',
      '✗ code: nothing recorded',
      '✓ environment: lightgbm-env:5',
      '✓ job: credit-train-20240501',
      'Policy: data, code, environment, job',
    ]);
    expect(gateSummary({ model, passed: true, required: ['job'], checks, missing: [] }, 'l').title).toBe(
      '✅ credit-default:3 passes the gate',
    );

    const served = lineageAsOfSummary(
      {
        endpoint: node('endpoint', 'credit-scoring'),
        at: '2024-05-20T00:00:00Z',
        serving: [
          {
            deployment: node('deployment', 'credit-scoring/blue'),
            trafficShare: 90,
            trafficSince: 't',
            model: node('model', 'credit-default:2'),
            modelSince: '2024-04-16T00:00:00Z',
            upstream: null,
          },
        ],
        notServing: [{ deployment: node('deployment', 'credit-scoring/green'), trafficShare: 0, trafficSince: 't' }],
      },
      'l',
    );
    expect(served.lines).toEqual([
      'credit-scoring/blue: 90% → model credit-default:2 (since 2024-04-16T00:00:00Z)',
      'Not serving: credit-scoring/green (0%)',
    ]);

    const diff = diffSummary(
      {
        from: node('model', 'credit-default:2'),
        to: model,
        differences: [
          {
            aspect: 'job',
            from: { value: ['credit-train-20240415'], provenance: [] },
            to: { value: ['credit-train-20240501'], provenance: [] },
          },
        ],
        same: ['environment'],
        partial: false,
      },
      'l',
    );
    expect(diff.title).toBe('credit-default:2 → credit-default:3: 1 difference');
    expect(diff.lines).toEqual(['job: credit-train-20240415 → credit-train-20240501', 'Same: environment']);
  });

  it('shows metric changes by value with their direction, approvals, and thresholds with the observed value', () => {
    const model = node('model', 'credit-default:3');
    const approval = { decision: 'approved', by: 'identity:0123456789abcdef01234567', source: 'tag' };
    const diff = diffSummary(
      {
        from: node('model', 'credit-default:2'),
        to: model,
        differences: [
          {
            aspect: 'metrics',
            from: { value: { auc: 0.781, f1: 0.611 }, provenance: [] },
            to: { value: { auc: 0.803, f1: 0.598 }, provenance: [] },
            changes: [
              { name: 'auc', from: 0.781, to: 0.803, delta: 0.022, direction: 'higher', verdict: 'better' },
              { name: 'f1', from: 0.611, to: 0.598, delta: -0.013, direction: 'higher', verdict: 'worse' },
            ],
          },
          { aspect: 'approvals', from: { value: [approval], provenance: [] }, to: { value: [], provenance: [] } },
        ],
        same: [],
        partial: false,
      },
      'l',
    );
    expect(diff.lines).toEqual([
      'metrics: auc 0.781 → 0.803 (+0.022, ▲ better); f1 0.611 → 0.598 (-0.013, ▼ worse)',
      'approvals: approved by identity:0123456789abcdef01234567 (tag) → —',
    ]);

    const gate = gateSummary(
      {
        model,
        passed: false,
        required: ['approval', 'metric:auc>=0.8', 'metric:ks>0.3'],
        checks: {
          approval: { present: true, evidence: ['approved by identity:0123456789abcdef01234567 at 2024-05-02T00:00:00Z (github-actions)'] },
          'metric:auc>=0.8': { present: true, evidence: ['auc=0.803 (credit-train-20240501)'], observed: 0.803 },
          'metric:ks>0.3': { present: false, evidence: [], observed: null },
        },
        missing: ['metric:ks>0.3'],
      },
      'l',
    );
    expect(gate.title).toBe('❌ credit-default:3 does not meet metric:ks>0.3 (observed no such metric)');
    expect(gate.lines).toEqual([
      '✓ approval: approved by identity:0123456789abcdef01234567 at 2024-05-02T00:00:00Z (github-actions)',
      '✓ metric:auc>=0.8: auc=0.803 (credit-train-20240501)',
      '✗ metric:ks>0.3: observed no such metric',
      'Policy: approval, metric:auc>=0.8, metric:ks>0.3',
    ]);
  });
});

describe('platform rendering', () => {
  const answer: Answer = {
    title: 'Lineage of model credit-default:3',
    lines: ['Produced by: job a_b', 'Data: <x> & y'],
    link: 'https://lineage.example/api/lineage?ref=%2Fsubscriptions%2Fx&depth=6',
    tone: 'info',
  };

  it('Slack: header, mrkdwn section (escaped), context link; ephemeral or in_channel', () => {
    const message = toBlockKit(answer, 'ephemeral');
    expect(message).toEqual({
      response_type: 'ephemeral',
      text: 'Lineage of model credit-default:3',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Lineage of model credit-default:3', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Produced by: job a_b\nData: &lt;x&gt; &amp; y' } },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: '<https://lineage.example/api/lineage?ref=%2Fsubscriptions%2Fx&depth=6|Full JSON>' }],
        },
      ],
    });
    expect(toBlockKit(answer, 'in_channel').response_type).toBe('in_channel');
  });

  it('Slack and Teams: link the explorer view beside the full JSON', () => {
    const view = 'https://lineage.example/api/explorer/lineage?ref=%2Fsubscriptions%2Fx&direction=upstream&depth=6';
    const context = toBlockKit({ ...answer, view }, 'ephemeral').blocks.find((b) => b.type === 'context');
    expect(context?.elements).toEqual([
      { type: 'mrkdwn', text: `<${answer.link}|Full JSON>` },
      { type: 'mrkdwn', text: `<${view}|Open in the lineage explorer>` },
    ]);
    const card = toTeamsMessage({ ...answer, view }).attachments[0]?.content as { actions: unknown[] };
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Full JSON', url: answer.link },
      { type: 'Action.OpenUrl', title: 'Open in the lineage explorer', url: view },
    ]);
  });

  it('Slack: stays within section and block limits even when escaping lengthens the text', () => {
    const worst = bounded({
      title: 'x'.repeat(500),
      lines: Array.from({ length: 50 }, () => '&'.repeat(1000)),
      link: 'https://x/api',
      tone: 'info',
    });
    const message = toBlockKit(worst, 'ephemeral');
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const header = message.blocks[0] as { text: { text: string } };
    expect([...header.text.text].length).toBeLessThanOrEqual(SLACK_LIMITS.headerChars);
    const section = message.blocks[1] as { text: { text: string } };
    expect(section.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
    expect(section.text.text).toMatch(/… and \d+ more$/);
    expect(Number(/… and (\d+) more$/.exec(section.text.text)?.[1]) + section.text.text.split('\n').length - 1).toBe(50);
    expect(escapeMrkdwn('<@U1> & <!channel>')).toBe('&lt;@U1&gt; &amp; &lt;!channel&gt;');
  });

  it('Teams: a message with an Adaptive Card 1.4, one TextBlock per line and an OpenUrl action, well under 28 KB', () => {
    const message = toTeamsMessage(answer);
    expect(message.type).toBe('message');
    expect(message.text).toBe(answer.title);
    expect(message.attachments).toHaveLength(1);
    const [attachment] = message.attachments;
    expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = attachment?.content as {
      type: string;
      version: string;
      body: Array<{ type: string; text: string; wrap: boolean }>;
      actions: Array<{ type: string; url: string }>;
    };
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.4');
    expect(card.body.map((b) => b.text)).toEqual([answer.title, ...answer.lines]);
    expect(card.body.every((b) => b.type === 'TextBlock' && b.wrap)).toBe(true);
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Full JSON', url: answer.link }]);

    const worst = toTeamsMessage(
      bounded({
        title: 't'.repeat(1000),
        lines: Array.from({ length: 100 }, () => '€'.repeat(5000)),
        link: `https://x/api/diff?from=${'%2F'.repeat(2000)}`,
        tone: 'error',
      }),
    );
    expect(Buffer.byteLength(JSON.stringify(worst))).toBeLessThan(TEAMS_MAX_BYTES);
    const unbounded = toTeamsMessage({ title: 't', lines: Array.from({ length: 100 }, () => '€'.repeat(5000)), tone: 'info' });
    expect(Buffer.byteLength(JSON.stringify(unbounded))).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
    const texts = (unbounded.attachments[0]?.content as { body: Array<{ text: string }> }).body.map((b) => b.text);
    expect(Number(/… and (\d+) more/.exec(texts.at(-1) ?? '')?.[1]) + texts.length - 2).toBe(100); // title and marker aside, every line is accounted for
  });
});

describe('executor without a store', () => {
  const settings = chatopsSettings({});
  const deps = (over: Partial<ExecDeps> = {}): ExecDeps => ({
    services: () => Promise.reject(new Error('the store must not be touched')),
    settings,
    linkBase: 'https://lineage.example',
    prefix: '/lineage',
    ...over,
  });

  it('answers help and usage errors without the store', async () => {
    const help = startCommand(parseCommand('help'), deps());
    expect(help.link).toBe('https://lineage.example/api/openapi.json');
    const answer = await help.answer;
    expect(answer.lines).toContain('/lineage lineage REF [in WORKSPACE]');
    expect(answer.lines).toContain('/lineage served ENDPOINT at TIME [in WORKSPACE]');
    const usage = await startCommand(parseCommand('lineage'), deps()).answer;
    expect(usage).toMatchObject({
      title: 'Not a command I understand',
      lines: ['Usage: lineage REF [in WORKSPACE]', 'Try: /lineage help'],
      tone: 'warning',
    });
  });

  it('links each command to its route, with the default workspace and bare endpoint names resolved', () => {
    const withWs = deps({ settings: chatopsSettings({ CHATOPS_DEFAULT_WORKSPACE: WS }), now: () => new Date('2024-06-01T00:00:00Z') });
    const link = (text: string) => startCommand(parseCommand(text), withWs).link;
    const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
    expect(link('gate azureml:credit-default:3')).toBe(
      `https://lineage.example/api/gate?${q({ ref: 'azureml:credit-default:3', workspace: WS })}`,
    );
    expect(link(`lineage ${MODEL}`)).toBe(
      `https://lineage.example/api/lineage?${q({ ref: MODEL, workspace: WS, direction: 'upstream', depth: '6' })}`,
    );
    expect(
      link(
        'diff azureml:m:1 azureml:m:2 in /subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/other',
      ),
    ).toContain('workspaces%2Fother');
    expect(link('served credit-scoring at now')).toBe(
      `https://lineage.example/api/lineage/as-of?${q({ endpoint: `${WS}/onlineEndpoints/credit-scoring`, at: '2024-06-01T00:00:00.000Z' })}`,
    );
    // Without a default workspace, a short workspace name or none at all goes into the link as typed.
    const bare = (text: string) => startCommand(parseCommand(text), deps()).link;
    expect(bare('lineage credit-default:3')).toBe(
      `https://lineage.example/api/lineage?${q({ ref: 'credit-default:3', direction: 'upstream', depth: '6' })}`,
    );
    expect(bare('gate credit-default:3 in ws-credit')).toBe(
      `https://lineage.example/api/gate?${q({ ref: 'credit-default:3', workspace: 'ws-credit' })}`,
    );
    expect(link('timeline credit-scoring')).toBe(
      `https://lineage.example/api/endpoints/timeline?${q({ endpoint: 'credit-scoring', workspace: WS })}`,
    );
    expect(link('rollback credit-scoring')).toBe(link('timeline credit-scoring'));
    expect(bare('reproduce credit-train-20240501')).toBe(`https://lineage.example/api/reproduce?${q({ ref: 'credit-train-20240501' })}`);
    expect(link('request a/b c')).toBeUndefined(); // does not parse: one id only
    expect(link('request a/b')).toBe('https://lineage.example/api/requests/a%2Fb');
  });

  it('links each command to the explorer view of what it talks about', () => {
    const withWs = deps({ settings: chatopsSettings({ CHATOPS_DEFAULT_WORKSPACE: WS }), now: () => new Date('2024-06-01T00:00:00Z') });
    const view = (text: string) => startCommand(parseCommand(text), withWs).view;
    const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
    const upstream = `https://lineage.example/api/explorer/lineage?${q({ ref: MODEL, workspace: WS, direction: 'upstream', depth: '6' })}`;
    expect(view(`lineage ${MODEL}`)).toBe(upstream);
    expect(view(`gate ${MODEL}`)).toBe(upstream);
    expect(view(`impact ${MODEL}`)).toBe(`https://lineage.example/api/explorer/impact?${q({ ref: MODEL, workspace: WS })}`);
    expect(view('diff azureml:m:1 azureml:m:2')).toBe(
      `https://lineage.example/api/explorer/diff?${q({ from: 'azureml:m:1', to: 'azureml:m:2', workspace: WS })}`,
    );
    expect(view('served credit-scoring at now')).toBe(
      `https://lineage.example/api/explorer/endpoint?${q({ endpoint: `${WS}/onlineEndpoints/credit-scoring`, at: '2024-06-01T00:00:00.000Z' })}`,
    );
    expect(view('help')).toBe('https://lineage.example/api/explorer/search');
  });

  it('turns an unexpected failure into a short answer and logs it', async () => {
    const logged: string[] = [];
    const answer = await startCommand(parseCommand(`lineage ${MODEL}`), deps({ log: (m) => logged.push(m) })).answer;
    expect(answer).toMatchObject({ title: 'Internal error', lines: ['An unexpected error occurred.'], tone: 'error' });
    expect(logged.join()).toContain('the store must not be touched');
  });

  it('answers a reference the API would refuse with its first sentence and a hint, not the whole form list', async () => {
    // resolveRef refuses these before the graph is read.
    const services = () =>
      Promise.resolve({ graph: {}, settings: { LINEAGE_MAX_NODES: 1000, LINEAGE_MAX_DEPTH: 25 } } as unknown as Services);
    const malformed = await startCommand(parseCommand('gate credit'), deps({ services })).answer;
    expect(malformed.lines).toEqual(['"credit" is not a reference this API accepts.', 'Try: /lineage help']);
  });

  it('reports whether work finished within its time budget', async () => {
    expect(await withinBudget(Promise.resolve(1), 50)).toEqual({ done: true, value: 1 });
    expect(await withinBudget(new Promise((r) => setTimeout(() => r(1), 200)), 10)).toEqual({ done: false });
  });
});

describe('chat-ops settings and links', () => {
  const WS_CREDIT = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
  const WS_FRAUD = '/subscriptions/s2/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-fraud';

  it('parses the settings, treating empty values as unset', () => {
    const s = chatopsSettings({
      CHATOPS_WORKSPACES: ` ${WS_CREDIT.toUpperCase()}, ${WS_FRAUD} ,`,
      PUBLIC_BASE_URL: 'https://lineage.example/',
      SLACK_RESPONSE_URL_ALLOW_ANY: 'true',
      CHATOPS_TIME_BUDGET_MS: '1',
      SLACK_SIGNING_SECRET: '',
    });
    expect(s.CHATOPS_WORKSPACES).toEqual(new Set([WS_CREDIT.toLowerCase(), WS_FRAUD.toLowerCase()]));
    expect(s.PUBLIC_BASE_URL).toBe('https://lineage.example');
    expect(s.SLACK_RESPONSE_URL_ALLOW_ANY).toBe(true);
    expect(s.CHATOPS_TIME_BUDGET_MS).toBe(1);
    expect(s.SLACK_SIGNING_SECRET).toBeUndefined();
    expect(chatopsSettings({})).toMatchObject({ CHATOPS_WORKSPACES: null, SLACK_RESPONSE_URL_ALLOW_ANY: false });
    expect(() => chatopsSettings({ CHATOPS_DEFAULT_WORKSPACE: 'ws-credit' })).toThrow(/CHATOPS_DEFAULT_WORKSPACE/);
    // A name is ambiguous across subscriptions and resource groups (hole 1): only ARM ids scope chat.
    expect(() => chatopsSettings({ CHATOPS_WORKSPACES: `${WS_CREDIT},ws-fraud` })).toThrow(/CHATOPS_WORKSPACES.*ws-fraud/);
    expect(() => chatopsSettings({ TEAMS_WEBHOOK_SECRET: 'not base64!' })).toThrow(/TEAMS_WEBHOOK_SECRET/);
  });

  it('builds links from PUBLIC_BASE_URL or the request origin', () => {
    expect(linkBase(undefined, 'http://127.0.0.1:7071/api/chatops/slack?x=1')).toBe('http://127.0.0.1:7071');
    expect(linkBase('https://lineage.example', 'http://127.0.0.1:7071/api/chatops/slack')).toBe('https://lineage.example');
    expect(apiLink('https://h/', 'gate', { ref: 'a b', workspace: undefined })).toBe('https://h/api/gate?ref=a+b');
  });
});

describe('chat routes, called as the worker calls them', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const context = () => new InvocationContext({ functionName: 'test', invocationId: 'i' });
  const request = (url: string, body: string, headers: Record<string, string> = {}) =>
    new HttpRequest({ method: 'POST', url, body: { string: body }, headers });

  it('answers 503 (not configured) without the secret, even for a request that looks signed', async () => {
    delete process.env.SLACK_SIGNING_SECRET;
    delete process.env.TEAMS_WEBHOOK_SECRET;
    const ts = String(Math.floor(Date.now() / 1000));
    const slack = await chatopsSlackRoute.handler(
      request('http://h/api/chatops/slack', 'text=help', {
        'x-slack-request-timestamp': ts,
        'x-slack-signature': sign('', ts, 'text=help'),
      }),
      context(),
    );
    expect(slack.status).toBe(503);
    expect(slack.jsonBody).toMatchObject({ code: 'not-configured', detail: expect.stringContaining('SLACK_SIGNING_SECRET') });
    const teams = await chatopsTeamsRoute.handler(request('http://h/api/chatops/teams', '{}', { authorization: 'HMAC AAAA' }), context());
    expect(teams.status).toBe(503);
    expect(teams.jsonBody).toMatchObject({ code: 'not-configured', detail: expect.stringContaining('TEAMS_WEBHOOK_SECRET') });
    process.env.SLACK_SIGNING_SECRET = 's';
    process.env.CHATOPS_DEFAULT_WORKSPACE = 'not-an-arm-id';
    expect((await chatopsSlackRoute.handler(request('http://h/api/chatops/slack', 'text=help'), context())).status).toBe(503);
  });

  it('answers a signed Slack help at once, and 401 problem JSON for a bad signature', async () => {
    process.env.SLACK_SIGNING_SECRET = 'unit-secret';
    const ts = String(Math.floor(Date.now() / 1000));
    const body = 'command=%2Flineage&text=help+--public';
    const good = await chatopsSlackRoute.handler(
      request('http://h/api/chatops/slack', body, { 'x-slack-request-timestamp': ts, 'x-slack-signature': sign('unit-secret', ts, body) }),
      context(),
    );
    expect(good.status ?? 200).toBe(200);
    expect(good.jsonBody).toMatchObject({ response_type: 'in_channel', text: 'Lineage bot commands' });
    const bad = await chatopsSlackRoute.handler(
      request('http://h/api/chatops/slack', body, { 'x-slack-request-timestamp': ts, 'x-slack-signature': sign('other', ts, body) }),
      context(),
    );
    expect(bad.status).toBe(401);
    expect(bad.headers).toMatchObject({ 'content-type': expect.stringContaining('application/problem+json') });
    expect(bad.jsonBody).toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('answers 400 for a signed Teams body that is not an Activity', async () => {
    const secret = Buffer.from('k'.repeat(32)).toString('base64');
    process.env.TEAMS_WEBHOOK_SECRET = secret;
    const body = 'not json';
    const auth = `HMAC ${createHmac('sha256', Buffer.from(secret, 'base64')).update(body).digest('base64')}`;
    const res = await chatopsTeamsRoute.handler(request('http://h/api/chatops/teams', body, { authorization: auth }), context());
    expect(res.status).toBe(400);
    expect(res.jsonBody).toMatchObject({ code: 'invalid-request' });
  });
});
