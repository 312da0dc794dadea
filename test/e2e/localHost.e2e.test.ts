import { BlobServiceClient } from '@azure/storage-blob';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURITE_ACCOUNT, AZURITE_KEY, startCosmos } from '../../infra/local/embeddedServices.js';
import { SAMPLE_IDS } from '../../infra/local/azureMlStandIn/sampleWorkspace.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import { modelDeployed, modelRegistered } from '../helpers/events.js';
import { azureMlStandInUrl, eventHubsConnection, spawnHost, type SpawnedHost, ROOT } from '../helpers/localHost.js';
import { join } from 'node:path';

/**
 * The local host end to end, as `npm start` runs it: embedded Cosmos DB and Azurite, the
 * function app loaded through its Azure registrations, real HTTP on loopback.
 */
const PLACEHOLDER_WS =
  '/subscriptions/{subscription-id}/resourceGroups/{resource-group-name}/providers/Microsoft.MachineLearningServices/workspaces/{workspace-name}';
const WEBHOOK = '/runtime/webhooks/eventgrid?functionName=captureEventGrid';

let host: SpawnedHost;
beforeAll(async () => {
  host = await spawnHost();
});
afterAll(async () => {
  await host?.stop();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${host.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification', ...headers },
  });
const get = (path: string) => fetch(`${host.url}${path}`);
/** The connection string of the Event Hubs stand-in the host started (its port is picked at start). */
const hubConnection = () => eventHubsConnection(host);
const lineageUrl = (params: Record<string, string>) => `/api/lineage?${new URLSearchParams(params).toString()}`;

describe('local host', () => {
  it('lists the functions and answers health once the store is reachable', async () => {
    expect(host.output()).toContain('captureEventGrid: eventGridTrigger');
    expect(host.output()).toContain('/api/lineage');
    const res = await get('/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers the Event Grid subscription validation handshake', async () => {
    const res = await post(WEBHOOK, fixtureText('azureml-eventgrid/eventgrid-SubscriptionValidation.json'), {
      'aeg-event-type': 'SubscriptionValidation',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(fixture('azureml-eventgrid/eventgrid-SubscriptionValidation-response.json'));
  });

  it('answers the CloudEvents OPTIONS handshake', async () => {
    const res = await fetch(`${host.url}${WEBHOOK}`, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
  });

  it('accepts Event Grid arrays and CloudEvents (single and batched), then answers lineage from them', async () => {
    for (const type of ['RunCompleted', 'ModelRegistered', 'DatasetDriftDetected']) {
      const res = await post(WEBHOOK, fixtureText(`azureml-eventgrid/eventgrid-${type}.json`));
      expect(res.status, type).toBe(202);
    }
    const single = JSON.stringify(fixture<unknown[]>('azureml-eventgrid/cloudevents-ModelDeployed.json')[0]);
    expect((await post(WEBHOOK, single, { 'content-type': 'application/cloudevents+json; charset=utf-8' })).status).toBe(202);
    const batch = JSON.stringify([
      ...fixture<unknown[]>('azureml-eventgrid/cloudevents-RunStatusChanged.json'),
      ...fixture<unknown[]>('azureml-eventgrid/cloudevents-ModelRegistered.json'),
    ]);
    expect((await post(WEBHOOK, batch, { 'content-type': 'application/cloudevents-batch+json; charset=utf-8' })).status).toBe(202);

    const res = await get(
      lineageUrl({ ref: 'azureml:sklearn_regression_model:1', workspace: PLACEHOLDER_WS, direction: 'downstream', depth: '2' }),
    );
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      root: string;
      nodes: Array<{ id: string; kind: string; label: string; placeholder: boolean; provenance: { events: unknown[] } }>;
      edges: Array<{ kind: string }>;
      partial: boolean;
    };
    expect(answer.partial).toBe(false);
    expect(answer.nodes.map((n) => [n.kind, n.label]).sort()).toEqual([
      ['model', 'sklearn_regression_model:1'],
      ['service', 'my-sklearn-service'],
    ]);
    expect(answer.nodes.find((n) => n.id === answer.root)?.placeholder).toBe(true); // deployed, never registered
    expect(answer.edges.map((e) => e.kind)).toEqual(['deployedTo']);

    const model = await get(lineageUrl({ ref: `${PLACEHOLDER_WS}/models/sklearn_regression_model/versions/20`, direction: 'both' }));
    const modelAnswer = (await model.json()) as {
      nodes: Array<{ properties: Record<string, unknown>; provenance: { events: Array<{ eventType: string }> } }>;
    };
    expect(modelAnswer.nodes[0]?.properties).toMatchObject({ name: 'sklearn_regression_model', version: '20' });
    // Asserted by the Event Grid and the CloudEvents spelling of the registration: two events.
    expect(modelAnswer.nodes[0]?.provenance.events.map((e) => e.eventType).filter((t) => t.startsWith('Microsoft.'))).toEqual([
      'Microsoft.MachineLearningServices.ModelRegistered',
      'Microsoft.MachineLearningServices.ModelRegistered',
    ]);
  });

  it('answers an event naming 250 models at once and works the queued parts on the fan-out queue', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `fan-${i}:1`);
    const event = modelDeployed('fan-service', ids.join(','), { id: 'dep-fan-250' });
    expect((await post(WEBHOOK, JSON.stringify([event]))).status).toBe(202);
    // Models 0-99 are linked inline; 100-249 by projectFanOutPart, polled from Azurite's queue.
    const deployedTo = async (model: string) => {
      const res = await get(lineageUrl({ ref: `azureml:${model}`, workspace: event.topic as string, direction: 'downstream', depth: '1' }));
      const answer = (await res.json()) as { nodes?: Array<{ kind: string; label: string }> };
      return (answer.nodes ?? []).filter((n) => n.kind === 'service').map((n) => n.label);
    };
    expect(await deployedTo('fan-0:1')).toEqual(['fan-service']);
    for (let waited = 0; !/projected fan-out part[\s\S]*projected fan-out part/.test(host.output()); waited += 500) {
      if (waited > 240_000) throw new Error(`the fan-out parts were not worked:\n${host.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    for (const model of ['fan-100:1', 'fan-199:1', 'fan-249:1']) expect(await deployedTo(model), model).toEqual(['fan-service']);
    // The parts left closures to the closure stage (they nudge CLOSURE_QUEUE, which the host polls):
    // the queued models' lookups come to answer from closures, with the same service.
    const fromClosures = async (model: string) => {
      const res = await get(lineageUrl({ ref: `azureml:${model}`, workspace: event.topic as string, direction: 'downstream', depth: '1' }));
      const answer = (await res.json()) as { answeredFrom?: string; nodes?: Array<{ kind: string; label: string }> };
      return answer.answeredFrom === 'closures' && (answer.nodes ?? []).some((n) => n.kind === 'service' && n.label === 'fan-service');
    };
    for (const model of ['fan-100:1', 'fan-249:1'])
      for (let waited = 0; !(await fromClosures(model)); waited += 500) {
        if (waited > 120_000) throw new Error(`${model}'s lookup never answered from closures:\n${host.output().slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
  }, 300_000);

  it('completes an invalid event (202) and dead-letters it with the reason', async () => {
    const bad = structuredClone(fixture<Array<Record<string, unknown>>>('azureml-eventgrid/eventgrid-ModelDeployed.json'));
    (bad[0]?.data as Record<string, unknown>).ModelIds = 'no-version-here';
    expect((await post(WEBHOOK, JSON.stringify(bad))).status).toBe(202);
    const blobPort = /Azurite, in memory\): http:\/\/127\.0\.0\.1:(\d+)/.exec(host.output())?.[1];
    const blobs = new BlobServiceClient(
      `http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT}`,
      new (await import('@azure/storage-blob')).StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    );
    const letters: string[] = [];
    for await (const b of blobs.getContainerClient('deadletters').listBlobsFlat({ prefix: 'pending/' })) letters.push(b.name);
    expect(letters).toHaveLength(1);
    const body = JSON.parse(
      (
        await blobs
          .getContainerClient('deadletters')
          .getBlobClient(letters[0] as string)
          .downloadToBuffer()
      ).toString(),
    ) as { reason: string };
    expect(body.reason).toContain('data.ModelIds.0');
  });

  it('invokes non-HTTP functions through the admin endpoint', async () => {
    const event = modelRegistered('from-admin', 1);
    const res = await post('/admin/functions/captureEventGrid', JSON.stringify({ input: event }));
    expect(res.status).toBe(202);
    const ws = event.topic as string;
    const found = await get(lineageUrl({ ref: `${ws}/models/from-admin/versions/1` }));
    expect(found.status).toBe(200);
    expect((await post('/admin/functions/nope', '{}')).status).toBe(404);
  });

  it('uses one problem-JSON shape for errors', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 400, 'invalid-request'],
      [{ ref: 'credit' }, 400, 'invalid-ref'],
      [{ ref: 'azureml:x:1', workspace: PLACEHOLDER_WS }, 404, 'not-found'],
      [{ ref: `${PLACEHOLDER_WS}/models/m/versions/1`, depth: '0' }, 400, 'invalid-request'],
      [{ ref: `${PLACEHOLDER_WS}/models/m/versions/1`, depth: '1000' }, 400, 'invalid-request'],
      [{ ref: `${PLACEHOLDER_WS}/models/m/versions/1`, direction: 'sideways' }, 400, 'invalid-request'],
    ];
    for (const [params, status, code] of cases) {
      const res = await get(lineageUrl(params));
      expect(res.status, JSON.stringify(params)).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status, code, type: `/problems/${code}`, title: expect.any(String), detail: expect.any(String) });
      expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+/); // no stack traces
    }
    const malformed = (await (await get(lineageUrl({ ref: 'credit' }))).json()) as { acceptedForms: string[] };
    expect(malformed.acceptedForms.length).toBeGreaterThanOrEqual(4);
  });

  it('npm run sample delivers the sample workspace and prints its lineage', async () => {
    const { execFile } = await import('node:child_process');
    const output = await new Promise<string>((resolveRun, reject) =>
      execFile(
        process.execPath,
        [join(ROOT, 'infra', 'local', 'sample.mjs')],
        {
          env: {
            ...process.env,
            LINEAGE_URL: host.url,
            EVENTHUB_CONNECTION: hubConnection(),
            AZUREML_STANDIN_URL: azureMlStandInUrl(host),
          },
        },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolveRun(stdout)),
      ),
    );
    expect(output).toContain('Delivered 8 events: HTTP 202');
    expect(output).toContain('Sent 3 resource-log records to Event Hubs hub insights-logs-amlworkspace over AMQP');
    expect(output).toContain('job credit-train-20240501 --produced--> model credit-default:3');
    expect(output).toContain('commit github.com/contoso/credit-models@9c1e4f7a2b3d --commitOf--> job credit-train-20240501');
    expect(output).toContain('data credit-applications:3 --inputOf--> job credit-prep-20240501');
    expect(output).toContain('credit-scoring/blue: 100% traffic, model credit-default:2');
    expect(output).toContain('credit-scoring/blue served model credit-default:2');
    // Q4 by value: each metric of the two MLflow runs, with its delta and which way is better.
    expect(output).toContain('metric auc: 0.781 -> 0.803 (+0.022, better)');
    expect(output).toContain('metric log_loss: 0.412 -> 0.395 (-0.017, better)');
    expect(output).toContain('metric f1: 0.611 -> 0.598 (-0.013, worse)');
    expect(output).toContain('parameters num_leaves: "31" -> "63"');
    expect(output).toMatch(/Q7\. May credit-default:3 be promoted .*\(HTTP 200\)\n {2}yes: .*auc=0\.803/);
    // The registry copy, read from the registry the Activity Log record names, is linked to the
    // workspace version it was promoted from, and its lineage reaches back through it.
    expect(output).toContain("Where did the registry's credit-default:2 come from? (HTTP 200)");
    expect(output).toContain('model credit-default:2 (ws-credit) --copiedTo--> model credit-default:2 (registry contoso-ml-registry)');
    expect(output).toContain('job credit-train-20240415 (ws-credit) --produced--> model credit-default:2 (ws-credit)');
    const promoted = (await (await get(lineageUrl({ ref: `${SAMPLE_IDS.models.v2}`, direction: 'downstream', depth: '1' }))).json()) as {
      nodes: Array<{ id: string; key: string; placeholder: boolean }>;
      edges: Array<{ kind: string; to: string }>;
    };
    const copy = promoted.nodes.find((n) => n.key === SAMPLE_IDS.registryPromotedUri);
    expect(copy?.placeholder).toBe(false);
    expect(promoted.edges).toContainEqual(expect.objectContaining({ kind: 'copiedTo', to: copy?.id }));
    // The rollout of credit-default:3, observed through the stand-in and the Activity Log, then rolled back.
    expect(output).toContain('(drift check HTTP 200, timeline HTTP 200)');
    expect(output).toMatch(/2024-05-22T08:00:00[.0]*\+00:00: credit-scoring\/green traffic 10 -> 100/);
    expect(output).toMatch(/2024-05-23T10:00:00[.0]*\+00:00: credit-scoring\/blue traffic 0 -> 100/);
    expect(output).toMatch(/credit-default:3: not good \(.*drift signal/);
    expect(output).toContain('last good: credit-default:2');
    expect(output).toContain('az ml online-endpoint update --name credit-scoring --traffic "blue=100 green=0"');
    // The script waits up to 20 s for enrichment after its deliveries and after each rollout step: 22 s alone, more under load.
  }, 240_000);

  it('replays the raw event log and dead letters on POST /api/replay: 202, then the operation reports it', async () => {
    const res = await post('/api/replay', JSON.stringify({}));
    expect(res.status).toBe(202);
    expect(res.headers.get('retry-after')).toBe('2');
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`^${host.url}/api/operations/[0-9a-f-]{36}$`));
    expect(await res.json()).toMatchObject({ kind: 'replay', state: 'queued', request: { events: true, deadLetters: true } });
    type Op = {
      state: string;
      attempts: number;
      result?: { events: { replayed: number }; deadLetters: { retried: number; stillFailing: number } };
    };
    let op: Op = { state: 'queued', attempts: 0 };
    for (let i = 0; i < 240 && !['succeeded', 'failed'].includes(op.state); i++) {
      await new Promise((r) => setTimeout(r, 250));
      op = (await (await fetch(location)).json()) as Op;
    }
    expect(op).toMatchObject({ state: 'succeeded', attempts: 1 });
    const report = op.result as NonNullable<Op['result']>;
    expect(report.events.replayed).toBeGreaterThan(5);
    expect(report.deadLetters.stillFailing).toBe(report.deadLetters.retried);
    expect((await post('/api/replay', JSON.stringify({ everything: true }))).status).toBe(400);
  });

  it('refuses what is not an event delivery', async () => {
    expect((await post(WEBHOOK, 'not json')).status).toBe(400);
    expect((await post('/runtime/webhooks/eventgrid?functionName=lineage', '[]')).status).toBe(400);
    expect((await post('/runtime/webhooks/eventgrid?functionName=missing', '[]')).status).toBe(404);
  });
});

describe('local host against configured endpoints', () => {
  it('uses a Cosmos endpoint from settings, and fails deliveries (500) while it is down so Event Grid retries', async () => {
    const cosmos = await startCosmos(0);
    const other = await spawnHost({ COSMOS_ENDPOINT: cosmos.url, COSMOS_KEY: cosmos.key });
    try {
      expect(other.output()).not.toContain('Cosmos DB (embedded');
      expect((await fetch(`${other.url}/api/health`)).status).toBe(200);
      await cosmos.stop();
      const res = await fetch(`${other.url}${WEBHOOK}`, {
        method: 'POST',
        body: fixtureText('azureml-eventgrid/eventgrid-ModelRegistered.json'),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(500);
      expect((await fetch(`${other.url}/api/health`)).status).toBe(503);
    } finally {
      await other.stop();
    }
  });

  it('runs timer functions on their schedules (%SETTING% resolved) and stops everything on Ctrl-C', async () => {
    const timerHost = await spawnHost({ LOCAL_HOST_ENTRY: join(ROOT, 'test', 'e2e', 'timer-app.mjs'), TICK_SCHEDULE: '* * * * * *' });
    const azuritePort = Number(/Azurite, in memory\): http:\/\/127\.0\.0\.1:(\d+)/.exec(timerHost.output())?.[1]);
    let body: { fired: number; lastTimer: { scheduleStatus?: { next?: string }; isPastDue?: boolean } | null } = {
      fired: 0,
      lastTimer: null,
    };
    for (let i = 0; i < 50 && body.fired < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      body = (await (await fetch(`${timerHost.url}/api/ticks`)).json()) as typeof body;
    }
    expect(body.fired).toBeGreaterThanOrEqual(2);
    expect(body.lastTimer?.scheduleStatus?.next).toMatch(/^\d{4}-/); // converted to camelCase by the library, as in Azure
    expect(await timerHost.stop('SIGINT')).toBe(0);
    expect(timerHost.output()).toContain('SIGINT: stopping');
    const listening = await new Promise<boolean>((r) => {
      const s = connect(azuritePort, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    expect(listening).toBe(false);
  });
});
