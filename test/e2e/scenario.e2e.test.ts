import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { azureMlStandInUrl, spawnHost, ROOT, type SpawnedHost } from '../helpers/localHost.js';
import { endpointWrite } from './api/harness.js';
import { until } from '../helpers/until.js';

/**
 * Issue 3's scenario through the local host, with the REST stand-in's sample workspace:
 * a pipeline whose steps read data -> a model version naming its training job -> a managed
 * online deployment -> a traffic change -> traffic-log requests. Q1, Q2 and Q3 must come out right.
 */
const WS =
  '/subscriptions/6f1a0c7e-2b7d-4c1e-9a51-3d2f1e0b9c41/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/ws-credit';
const ENDPOINT = `${WS}/onlineEndpoints/credit-scoring`;
const events = JSON.parse(readFileSync(join(ROOT, 'infra', 'local', 'sample-events.json'), 'utf8')) as unknown[];

let host: SpawnedHost;
let standIn: string;
beforeAll(async () => {
  host = await spawnHost();
  standIn = azureMlStandInUrl(host);
});
afterAll(async () => {
  await host?.stop();
});

const get = async (path: string) => {
  const res = await fetch(`${host.url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const eventHub = (records: unknown[]) =>
  fetch(`${host.url}/admin/functions/captureEventHub`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: { records } }),
  });
const request = (id: string, deployment: string, time: string) => ({
  time,
  resourceId: ENDPOINT.toUpperCase(),
  category: 'AmlOnlineEndpointTrafficLog',
  properties: {
    XRequestId: id,
    EndpointName: 'credit-scoring',
    DeploymentName: deployment,
    Method: 'POST',
    Path: '/score',
    ResponseCode: 200,
    ModelStatusCode: 200,
    TotalDurationMs: 31,
  },
});

type Node = { id: string; kind: string; label: string };

/** Labels in the upstream of the first serving deployment's model (not anywhere in the JSON). */
function upstreamLabels(body: Record<string, unknown>): string[] {
  const serving = (body.serving ?? []) as Array<{ upstream?: { nodes: Node[] } | null }>;
  return serving[0]?.upstream?.nodes.map((n) => n.label) ?? [];
}
type Edge = { kind: string; from: string; to: string };

/** Q1: what the upstream of credit-default:3 must show once capture and enrichment are done. */
const EXPECTED_UPSTREAM = [
  'job credit-train-20240501 -produced-> model credit-default:3',
  'commit github.com/contoso/credit-models@9c1e4f7a2b3d -commitOf-> job credit-train-20240501',
  'environment lightgbm-env:5 -environmentOf-> job credit-train-20240501',
  'code credit-src:7 -codeOf-> job credit-train-20240501',
  'compute cpu-cluster -computeOf-> job credit-train-20240501',
  'model credit-baseline:1 -inputOf-> job credit-train-20240501',
  'job credit-prep-20240501 -produced-> storage workspaceblobstore/azureml/credit-prep-20240501/prepared_data',
  'storage workspaceblobstore/azureml/credit-prep-20240501/prepared_data -inputOf-> job credit-train-20240501',
  'data credit-applications:3 -inputOf-> job credit-prep-20240501',
];

describe('scenario: data -> jobs -> model -> deployment -> traffic change -> requests', () => {
  it('Q1: upstream of a model version shows data, code commit, environment, parameters, compute, producing job and parent model', async () => {
    const res = await fetch(`${host.url}/runtime/webhooks/eventgrid?functionName=captureEventGrid`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(202);
    const path = `/api/lineage?${new URLSearchParams({ ref: `${WS}/models/credit-default/versions/3`, direction: 'upstream', depth: '6' }).toString()}`;
    const edgesOf = (body: Record<string, unknown>) => {
      const label = Object.fromEntries(((body.nodes ?? []) as Node[]).map((n) => [n.id, `${n.kind} ${n.label}`]));
      return ((body.edges ?? []) as Edge[]).map((e) => `${label[e.from]} -${e.kind}-> ${label[e.to]}`);
    };
    // Enrichment fills these in over several queue messages (the jobs, then the assets they name):
    // wait for the last of them, not the first.
    const answer = await until(
      'the model upstream to reach the raw data and the registry base model',
      () => get(path),
      (r) => EXPECTED_UPSTREAM.every((e) => edgesOf(r.body).includes(e)),
    );
    const nodes = answer.body.nodes as Array<Node & { properties: Record<string, unknown> }>;
    expect(edgesOf(answer.body)).toEqual(expect.arrayContaining(EXPECTED_UPSTREAM));
    const train = nodes.find((n) => n.label === 'credit-train-20240501');
    expect(train?.properties.parameters).toMatchObject({ learning_rate: expect.anything(), n_estimators: expect.anything() });
  });

  it('Q2: which deployment and model served the endpoint before and after a traffic change', async () => {
    expect((await eventHub([endpointWrite('2024-05-02T07:15:01Z')])).status).toBe(202);
    const before = await until(
      'blue serving credit-default:2, with its training job enriched',
      () => get(`/api/lineage/as-of?${new URLSearchParams({ endpoint: ENDPOINT, at: '2024-05-20T00:00:00Z' }).toString()}`),
      // Enrichment cascades (endpoint -> deployment -> model -> job): wait for the end of it.
      (r) => upstreamLabels(r.body).includes('credit-train-20240415'),
    );
    const serving = before.body.serving as Array<{ deployment: Node; trafficShare: number; model: Node; upstream: { nodes: Node[] } }>;
    expect(serving.map((s) => [s.deployment.label, s.trafficShare, s.model?.label])).toEqual([
      ['credit-scoring/blue', 100, 'credit-default:2'],
    ]);
    expect(serving[0]?.upstream.nodes.map((n) => n.label)).toContain('credit-train-20240415');

    // Traffic moves to green on 1 June; the Activity Log reports the endpoint write.
    const moved = await fetch(`${standIn}/_standin/setTraffic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'credit-scoring', traffic: { blue: 0, green: 100 }, at: '2024-06-01T00:00:00.0000000+00:00' }),
    });
    expect(moved.status).toBe(200);
    expect((await eventHub([endpointWrite('2024-06-01T00:00:01Z')])).status).toBe(202);
    const after = await until(
      'green serving credit-default:3',
      () => get(`/api/lineage/as-of?${new URLSearchParams({ endpoint: ENDPOINT, at: '2024-06-02T00:00:00Z' }).toString()}`),
      (r) => upstreamLabels(r.body).includes('credit-train-20240501'),
    );
    expect(
      (after.body.serving as Array<{ deployment: Node; trafficShare: number; model: Node }>).map((s) => [
        s.deployment.label,
        s.trafficShare,
        s.model?.label,
      ]),
    ).toEqual([['credit-scoring/green', 100, 'credit-default:3']]);
    // Asking about the earlier moment again still gives the earlier answer.
    const again = await get(`/api/lineage/as-of?${new URLSearchParams({ endpoint: ENDPOINT, at: '2024-05-20T00:00:00Z' }).toString()}`);
    expect((again.body.serving as Array<{ deployment: Node }>).map((s) => s.deployment.label)).toEqual(['credit-scoring/blue']);
  });

  it('Q3: which deployment and model answered a request', async () => {
    expect(
      (await eventHub([request('req-before', 'blue', '2024-05-20T10:00:00Z'), request('req-after', 'green', '2024-06-05T10:00:00Z')]))
        .status,
    ).toBe(202);
    const before = await get('/api/requests/req-before');
    expect(before.status).toBe(200);
    expect([(before.body.deployment as Node).label, (before.body.model as Node).label]).toEqual([
      'credit-scoring/blue',
      'credit-default:2',
    ]);
    const after = await get('/api/requests/req-after');
    expect([(after.body.deployment as Node).label, (after.body.model as Node).label]).toEqual(['credit-scoring/green', 'credit-default:3']);
    expect((after.body.upstream as { nodes: Node[] }).nodes.map((n) => n.label)).toContain('credit-train-20240501');
    const missing = await get('/api/requests/never-seen');
    expect(missing.status).toBe(404);
  });

  it('bad input to the new routes is a 400 problem', async () => {
    expect((await get(`/api/lineage/as-of?${new URLSearchParams({ endpoint: ENDPOINT, at: 'yesterday' }).toString()}`)).status).toBe(400);
    expect(
      (
        await get(
          `/api/lineage/as-of?${new URLSearchParams({ endpoint: `${WS}/models/x/versions/1`, at: '2024-06-01T00:00:00Z' }).toString()}`,
        )
      ).body,
    ).toMatchObject({ code: 'invalid-ref' });
    expect((await get(`/api/lineage/as-of?${new URLSearchParams({ at: '2024-06-01T00:00:00Z' }).toString()}`)).status).toBe(400);
  });
});

describe('when the REST API keeps failing, nothing is lost', () => {
  it('dead-letters the enrichment after the last delivery, and a replay after the fix completes it', async () => {
    const faulty = await spawnHost({ AZUREML_REST_MAX_ATTEMPTS: '1', ENRICHMENT_MAX_ATTEMPTS: '2' });
    try {
      const api = azureMlStandInUrl(faulty);
      const json = { 'content-type': 'application/json' };
      await fetch(`${api}/_standin/faults`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ path: 'jobs/credit-prep-20240501$', status: 500, times: 'forever' }),
      });
      const prep = (events as Array<Record<string, unknown>>).filter((e) => String(e.subject).endsWith('/runs/credit-prep-20240501'));
      const res = await fetch(`${faulty.url}/runtime/webhooks/eventgrid?functionName=captureEventGrid`, {
        method: 'POST',
        headers: { ...json, 'aeg-event-type': 'Notification' },
        body: JSON.stringify(prep),
      });
      expect(res.status).toBe(202); // capture itself succeeded; enrichment is queued

      await until(
        'the enrichment to be dead-lettered',
        async () => faulty.output(),
        (out) => /dead-lettered enrichment request: failed after 2 deliveries/.test(out),
      );
      const ask = () =>
        fetch(`${faulty.url}/api/lineage?${new URLSearchParams({ ref: `${WS}/jobs/credit-prep-20240501`, depth: '1' }).toString()}`).then(
          (r) => r.json() as Promise<{ edges: unknown[] }>,
        );
      expect((await ask()).edges).toEqual([]); // no links yet: the REST API never answered

      await fetch(`${api}/_standin/faults`, { method: 'DELETE' });
      const replay = await fetch(`${faulty.url}/api/replay?wait=200`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ events: false }),
      });
      expect(await replay.json()).toMatchObject({ deadLetters: { retried: 1, resolved: 1, stillFailing: 0 } });
      const linked = await until('the replayed enrichment to link the job', ask, (a) => a.edges.length >= 3);
      expect(JSON.stringify(linked)).toContain('credit-applications');
    } finally {
      await faulty.stop();
    }
  });
});
