import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, spawnHost, type SpawnedHost } from '../helpers/localHost.js';
import { until } from '../helpers/until.js';
import { Api, playSampleRollout } from './api/harness.js';

/**
 * Chat-ops through the local host, as Slack and Teams call it: signed requests to the anonymous
 * routes, answered from the sample workspace's lineage once enrichment has filled it in.
 */
const WS =
  '/subscriptions/6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const MODEL3 = `${WS}/models/credit-default/versions/3`;
const events = readFileSync(join(ROOT, 'infra', 'local', 'sample-events.json'), 'utf8');
const SLACK_SECRET = 'e2e-slack-signing-secret-0123456789';
const TEAMS_SECRET = Buffer.from('e2e teams outgoing webhook token').toString('base64');
const SECRETS = { SLACK_SIGNING_SECRET: SLACK_SECRET, TEAMS_WEBHOOK_SECRET: TEAMS_SECRET, SLACK_RESPONSE_URL_ALLOW_ANY: 'true' };

type Block = { type: string; text?: { type: string; text: string }; elements?: Array<{ type: string; text: string }> };
type SlackMessage = { response_type: string; text: string; blocks: Block[] };
type Card = { type: string; version: string; body: Array<{ type: string; text: string }>; actions?: Array<{ type: string; url: string }> };
type TeamsMessage = { type: string; text: string; attachments: Array<{ contentType: string; content: Card }> };

const deliver = (host: SpawnedHost) =>
  fetch(`${host.url}/runtime/webhooks/eventgrid?functionName=captureEventGrid`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
    body: events,
  });
/** The Activity Log's endpoint write, as `npm run sample` plays it: enrichment then reaches the deployed model 2 and its job. */
const endpointWrite = (host: SpawnedHost) =>
  fetch(`${host.url}/admin/functions/captureEventHub`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      input: {
        records: [
          {
            time: '2024-05-02T07:15:01Z',
            resourceId: `${WS}/onlineEndpoints/credit-scoring`.toUpperCase(),
            operationName: 'MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/ONLINEENDPOINTS/WRITE',
            category: 'Administrative',
            resultType: 'Success',
            properties: {},
          },
        ],
      },
    }),
  });

function slack(
  host: SpawnedHost,
  text: string,
  options: { timestamp?: number; secret?: string; responseUrl?: string; unsigned?: boolean } = {},
) {
  const body = new URLSearchParams({
    token: 'legacy',
    team_id: 'T0001',
    channel_id: 'C0001',
    user_id: 'U0001',
    command: '/lineage',
    text,
    response_url: options.responseUrl ?? 'https://hooks.slack.com/commands/T0001/1/abc',
  }).toString();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', options.secret ?? SLACK_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex')}`;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (!options.unsigned) Object.assign(headers, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature });
  return fetch(`${host.url}/api/chatops/slack`, { method: 'POST', headers, body });
}

function teams(host: SpawnedHost, text: string, options: { secret?: string } = {}) {
  const body = JSON.stringify({
    type: 'message',
    id: '1',
    from: { id: '29:1', name: 'Ada' },
    text: `<at>Lineage Bot</at>&nbsp;${text}\n`,
    conversation: { id: '19:x' },
  });
  const signature = createHmac('sha256', Buffer.from(options.secret ?? TEAMS_SECRET, 'base64'))
    .update(body, 'utf8')
    .digest('base64');
  return fetch(`${host.url}/api/chatops/teams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `HMAC ${signature}` },
    body,
  });
}

const sectionOf = (m: SlackMessage) => m.blocks.find((b) => b.type === 'section')?.text?.text ?? '';
const headerOf = (m: SlackMessage) => m.blocks.find((b) => b.type === 'header')?.text?.text ?? '';
const linkOf = (m: SlackMessage) =>
  /<([^|>]+)\|Full JSON>/.exec(m.blocks.find((b) => b.type === 'context')?.elements?.[0]?.text ?? '')?.[1];
const viewOf = (m: SlackMessage) =>
  /<([^|>]+)\|Open in the lineage explorer>/.exec(m.blocks.find((b) => b.type === 'context')?.elements?.[1]?.text ?? '')?.[1];
const cardOf = (m: TeamsMessage) => m.attachments[0]?.content as Card;
const cardText = (m: TeamsMessage) => cardOf(m).body.map((b) => b.text);

describe('chat-ops against the sample workspace', () => {
  let host: SpawnedHost;
  beforeAll(async () => {
    host = await spawnHost(SECRETS);
    expect((await deliver(host)).status).toBe(202);
    expect((await endpointWrite(host)).status).toBe(202);
    // Wait for the enrichment cascade: model 3's upstream down to the raw data, and model 2's training job.
    // Labels of the nodes in the answer (not any text in it: facts mention names before their links exist).
    const lineage = (ref: string) =>
      fetch(`${host.url}/api/lineage?${new URLSearchParams({ ref, direction: 'upstream', depth: '6' }).toString()}`)
        .then((r) => r.json() as Promise<{ nodes?: Array<{ label: string }> }>)
        .then((a) => (a.nodes ?? []).map((n) => n.label));
    await until(
      'credit-default:3 upstream to reach the raw data',
      () => lineage(MODEL3),
      (t) => t.includes('credit-applications:3') && t.includes('lightgbm-env:5'),
    );
    await until(
      'credit-default:2 upstream to reach its training job',
      () => lineage(`${WS}/models/credit-default/versions/2`),
      (t) => t.includes('credit-train-20240415'),
    );
    await playSampleRollout(new Api(host));
  }, 240_000);
  afterAll(async () => {
    await host?.stop();
  });

  it('Slack lineage names the producing job, data, commit and environment, with a working link', async () => {
    const res = await slack(host, `  LINEAGE   ${MODEL3}  `);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const message = (await res.json()) as SlackMessage;
    expect(message.response_type).toBe('ephemeral');
    expect(headerOf(message)).toBe('Lineage of model credit-default:3');
    const section = sectionOf(message);
    expect(section).toContain('Produced by: job credit-train-20240501');
    expect(section).toMatch(/^Data: .*credit-applications:3/m);
    expect(section).toContain('Commit: github.com/contoso/credit-models@9c1e4f7a2b3d');
    expect(section).toContain('Environment: lightgbm-env:5');
    const link = linkOf(message);
    expect(link?.startsWith(`${host.url}/api/lineage?`)).toBe(true);
    const full = (await (await fetch(link as string)).json()) as { root: string; nodes: Array<{ id: string; label: string }> };
    expect(full.nodes.find((n) => n.id === full.root)?.label).toBe('credit-default:3');
    // And to the same lineage in the explorer, a page the app serves.
    const view = viewOf(message);
    expect(view).toBe(
      `${host.url}/api/explorer/lineage?${new URLSearchParams({ ref: MODEL3, direction: 'upstream', depth: '6' }).toString()}`,
    );
    const page = await fetch(view as string);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('Slack gate answers the channel with --public and says the model passes', async () => {
    const res = await slack(host, `gate azureml:credit-default:3 in ${WS} --public`);
    expect(res.status).toBe(200);
    const message = (await res.json()) as SlackMessage;
    expect(message.response_type).toBe('in_channel');
    expect(headerOf(message)).toBe('✅ credit-default:3 passes the gate');
    expect(sectionOf(message)).toContain('✓ job: credit-train-20240501');
    expect(linkOf(message)).toContain('/api/gate?ref=azureml%3Acredit-default%3A3');
  });

  it('Slack lineage NAME:VERSION needs no workspace when only one workspace has it; the link answers the same', async () => {
    for (const text of ['lineage credit-default:3', 'lineage credit-default:3 in ws-credit']) {
      const message = (await (await slack(host, text)).json()) as SlackMessage;
      expect(headerOf(message), text).toBe('Lineage of model credit-default:3');
      expect(sectionOf(message)).toContain('Produced by: job credit-train-20240501');
      const full = (await (await fetch(linkOf(message) as string)).json()) as { root: string; nodes: Array<{ id: string; label: string }> };
      expect(full.nodes.find((n) => n.id === full.root)?.label).toBe('credit-default:3');
    }
    const missing = (await (await slack(host, 'lineage credit-default:3 in ws-fraud')).json()) as SlackMessage;
    expect(sectionOf(missing)).toContain('No lineage is recorded for credit-default:3 in ws-fraud.');
  });

  it('Slack timeline and rollback name the endpoint by its name alone', async () => {
    const timeline = (await (await slack(host, 'timeline credit-scoring')).json()) as SlackMessage;
    expect(headerOf(timeline)).toBe('credit-scoring (online) timeline');
    expect(sectionOf(timeline)).toContain('Now: credit-scoring/blue 100% → credit-default:2');
    // Whether credit-default:2 is the last good version depends on its lineage being complete (the
    // gate) by now; the rule itself is covered in test/integration/endpointTimeline.test.ts.
    // The sample's rollout: credit-default:3 breached its monitor on green and was rolled back.
    expect(sectionOf(timeline)).toContain('credit-default:3: not good (1 drift signal(s) while it served)');
    expect(sectionOf(timeline)).toContain('Last good: credit-default:2 on credit-scoring/blue');
    const rollback = (await (await slack(host, 'rollback credit-scoring in ws-credit')).json()) as SlackMessage;
    expect(headerOf(rollback)).toBe('Rollback credit-scoring to credit-default:2');
    expect(sectionOf(rollback)).toContain(
      'az ml online-endpoint update --name credit-scoring --traffic "blue=100 green=0" --resource-group rg-ml-prod --workspace-name ws-credit',
    );
  });

  it('Slack reproduce names the producing job, what is not pinned and the command; the link holds the YAML', async () => {
    const message = (await (await slack(host, 'reproduce credit-default:3')).json()) as SlackMessage;
    expect(headerOf(message)).toBe('Reproduce credit-train-20240501 (4 gaps)');
    expect(sectionOf(message)).toContain('credit-default:3 was produced by job credit-train-20240501.');
    expect(sectionOf(message)).toContain(
      'inputs.training_data: Read from azureml://datastores/workspaceblobstore/paths/azureml/credit-prep-20240501/prepared_data/',
    );
    expect(sectionOf(message)).toContain(
      'az ml job create --file reproduce-credit-train-20240501.yml --resource-group rg-ml-prod --workspace-name ws-credit',
    );
    const full = (await (await fetch(linkOf(message) as string)).json()) as { yaml: string };
    expect(full.yaml).toContain('environment: azureml:lightgbm-env:5');
  });

  it('Slack refuses unsigned, stale, future and wrongly signed requests with 401 problem JSON', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [name, res] of [
      ['unsigned', await slack(host, 'help', { unsigned: true })],
      ['stale', await slack(host, 'help', { timestamp: now - 10 * 60 })],
      ['future', await slack(host, 'help', { timestamp: now + 10 * 60 })],
      ['wrong secret', await slack(host, 'help', { secret: 'not-the-secret' })],
    ] as const) {
      expect(res.status, name).toBe(401);
      expect(res.headers.get('content-type'), name).toContain('application/problem+json');
      expect(await res.json(), name).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    expect((await slack(host, 'help')).status).toBe(200); // the same request, signed now, passes
  });

  it('Teams help and diff answer with an Adaptive Card', async () => {
    const help = await teams(host, 'help');
    expect(help.status).toBe(200);
    const helpMessage = (await help.json()) as TeamsMessage;
    expect(helpMessage.type).toBe('message');
    expect(helpMessage.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(cardOf(helpMessage)).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(cardText(helpMessage)).toContain('@Lineage Bot diff REF REF [in WORKSPACE]');

    const diff = await teams(host, `DIFF azureml:credit-default:2   azureml:credit-default:3 in ${WS}`);
    expect(diff.status).toBe(200);
    const diffMessage = (await diff.json()) as TeamsMessage;
    expect(diffMessage.text).toMatch(/^credit-default:2 → credit-default:3: \d+ differences?$/);
    expect(cardText(diffMessage)).toContain('job: credit-train-20240415 → credit-train-20240501');
    expect(cardOf(diffMessage).actions?.[0]?.url).toContain('/api/diff?from=azureml%3Acredit-default%3A2&to=azureml%3Acredit-default%3A3');
  });

  it('Teams refuses a wrong signature with 401', async () => {
    const res = await teams(host, 'help', { secret: Buffer.from('another token').toString('base64') });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'unauthorized' });
    const unsigned = await fetch(`${host.url}/api/chatops/teams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"message","text":"help"}',
    });
    expect(unsigned.status).toBe(401);
  });

  it('publishes both routes in the OpenAPI document, without a function key', async () => {
    const doc = (await (await fetch(`${host.url}/api/openapi.json`)).json()) as {
      paths: Record<string, { post?: { operationId: string; security: unknown[] } }>;
    };
    expect(doc.paths['/chatops/slack']?.post).toMatchObject({ operationId: 'chatopsSlack', security: [] });
    expect(doc.paths['/chatops/teams']?.post).toMatchObject({ operationId: 'chatopsTeams', security: [] });
  });
});

describe('chat-ops answers that take longer than the platform waits', () => {
  let host: SpawnedHost;
  let hook: Server;
  let hookUrl: string;
  const received: Array<{ contentType: string | undefined; body: SlackMessage }> = [];
  beforeAll(async () => {
    hook = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        received.push({ contentType: req.headers['content-type'], body: JSON.parse(data) as SlackMessage });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/commands/T0001/1/abc`;
    host = await spawnHost({ ...SECRETS, CHATOPS_TIME_BUDGET_MS: '1' });
    expect((await deliver(host)).status).toBe(202);
  });
  afterAll(async () => {
    await host?.stop();
    await new Promise((r) => hook?.close(r));
  });

  it('Slack acknowledges at once and posts the answer to response_url', async () => {
    const started = Date.now();
    const res = await slack(host, `lineage ${MODEL3}`, { responseUrl: hookUrl });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_500); // Slack gives up after 3 s
    const ack = (await res.json()) as SlackMessage;
    expect(headerOf(ack)).toBe('Working on it…');
    expect(linkOf(ack)).toContain('/api/lineage?ref=');
    const [posted] = await until(
      'the deferred answer',
      async () => received,
      (r) => r.length > 0,
    );
    expect(posted?.contentType).toContain('application/json');
    expect(posted?.body.response_type).toBe('ephemeral');
    expect(headerOf(posted?.body as SlackMessage)).toBe('Lineage of model credit-default:3');
  });

  it('Teams, which cannot post later, answers "still working" with the link', async () => {
    const res = await teams(host, `gate ${MODEL3}`);
    expect(res.status).toBe(200);
    const message = (await res.json()) as TeamsMessage;
    expect(message.text).toBe('Still working on it');
    expect(cardOf(message).actions?.[0]?.url).toBe(`${host.url}/api/gate?${new URLSearchParams({ ref: MODEL3 }).toString()}`);
  });
});
