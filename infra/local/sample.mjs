// `npm run sample`: plays a small, coherent history of the sample workspace (ws-credit) into the
// running local host, as Event Grid and Event Hubs would deliver it (the resource-log records go over
// AMQP with the Event Hubs producer client, to the stand-in `npm start` runs or to EVENTHUB_CONNECTION),
// waits for capture and enrichment, and prints the answers: what built the model (Q1), what the
// endpoint served on a day (Q2), which model answered a request (Q3), what differs between versions 2
// and 3 by value (Q4, metrics from their MLflow runs), whether version 3 meets a threshold (Q7) and
// where version 2 was promoted to (the registry copy, read from the registry the Activity Log names);
// then it plays the rollout of version 3 and its rollback, and prints the endpoint timeline.
import { EventHubProducerClient } from '@azure/event-hubs';
import { readFile } from 'node:fs/promises';

const base = process.env.LINEAGE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 7071}`;
const events = JSON.parse(await readFile(new URL('./sample-events.json', import.meta.url), 'utf8'));
const workspace = events[0].topic;
const endpoint = `${workspace}/onlineEndpoints/credit-scoring`;
// The shared registry of the stand-in's sample (infra/local/azureMlStandIn/sampleWorkspace.ts).
const registry = workspace.replace(
  /resourceGroups\/[^/]+\/providers\/Microsoft\.MachineLearningServices\/workspaces\/.*$/,
  'resourceGroups/rg-ml-shared/providers/Microsoft.MachineLearningServices/registries/contoso-ml-registry',
);
const promoted = `${registry}/models/credit-default/versions/2`;

async function call(path, init) {
  try {
    return await fetch(`${base}${path}`, init);
  } catch (error) {
    console.error(`Cannot reach the local host at ${base} (${error.cause?.code ?? error.message}). Start it with "npm start" first.`);
    process.exit(1);
  }
}
const post = (path, body, headers = {}) =>
  call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const get = async (path, params) => {
  const res = await call(`${path}?${new URLSearchParams(params)}`);
  return { status: res.status, body: await res.json() };
};

const delivery = await post('/runtime/webhooks/eventgrid?functionName=captureEventGrid', events, { 'aeg-event-type': 'Notification' });
console.log(`Delivered ${events.length} events: HTTP ${delivery.status}`);
const records = [
  // The Activity Log's record of the endpoint write, then a scoring request, as diagnostic settings stream them.
  {
    time: '2024-05-02T07:15:01Z',
    resourceId: endpoint.toUpperCase(),
    operationName: 'MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/ONLINEENDPOINTS/WRITE',
    category: 'Administrative',
    resultType: 'Success',
    properties: {},
  },
  // credit-default:2 promoted to the shared registry: the registry version is read from there.
  {
    time: '2024-04-16T09:30:13Z',
    resourceId: promoted,
    operationName: 'Microsoft.MachineLearningServices/registries/models/versions/write',
    category: 'Administrative',
    resultType: 'Success',
    properties: {},
  },
  {
    time: '2024-05-20T10:00:00Z',
    resourceId: endpoint.toUpperCase(),
    category: 'AmlOnlineEndpointTrafficLog',
    properties: {
      XRequestId: 'sample-request-0001',
      EndpointName: 'credit-scoring',
      DeploymentName: 'blue',
      Method: 'POST',
      Path: '/score',
      ResponseCode: 200,
      TotalDurationMs: 38,
    },
  },
];
// The stand-in's address when `npm start` runs it on its default port with the emulator's key.
const connection =
  process.env.EVENTHUB_CONNECTION ??
  'Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true';
const hubName = process.env.EVENTHUB_NAME ?? 'insights-logs-amlworkspace';
const producer = new EventHubProducerClient(connection, hubName, { retryOptions: { maxRetries: 1, timeoutInMs: 10_000 } });
async function sendRecords(list) {
  try {
    // Diagnostic settings send one {"records": [...]} envelope per message.
    const batch = await producer.createBatch();
    batch.tryAdd({ body: { records: list } });
    await producer.sendBatch(batch);
  } catch (error) {
    console.error(
      `Cannot send to Event Hubs hub ${hubName} (${error.message}). Start the local host with "npm start", or set EVENTHUB_CONNECTION.`,
    );
    await producer.close();
    process.exit(1);
  }
}
await sendRecords(records);
console.log(`Sent ${records.length} resource-log records to Event Hubs hub ${hubName} over AMQP`);

// Event Hubs records are consumed, and enrichment runs off a queue against the REST stand-in; wait
// (up to 20 s) until the request is captured and enrichment has filled in the links each answer needs.
const q1 = { ref: `${workspace}/models/credit-default/versions/3`, direction: 'upstream', depth: '6' };
const q2 = { endpoint, at: '2024-05-20T00:00:00Z' };
const q4 = { from: `${workspace}/models/credit-default/versions/2`, to: q1.ref };
const registryCopy = {
  ref: 'azureml://registries/contoso-ml-registry/models/credit-default/versions/2',
  direction: 'upstream',
  depth: '4',
};
const ready = async () =>
  (await get('/api/requests/sample-request-0001', {})).status === 200 &&
  ((await get('/api/lineage', q1)).body.nodes ?? []).some((n) => n.label === 'credit-applications:3') &&
  ((await get('/api/lineage/as-of', q2)).body.serving?.[0]?.upstream?.nodes ?? []).some((n) => n.label === 'credit-train-20240415') &&
  ((await get('/api/lineage', registryCopy)).body.nodes ?? []).some((n) => n.label === 'credit-train-20240415') &&
  // Both training runs' MLflow metrics have arrived (fetched off the queue after their jobs).
  ((await get('/api/diff', q4)).body.differences ?? []).some(
    (d) => d.aspect === 'metrics' && Object.keys(d.from.value).length > 0 && Object.keys(d.to.value).length > 0,
  );
for (let i = 0; i < 80 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 250));

function show(title, answer) {
  console.log(`\n${title}`);
  const label = Object.fromEntries(
    answer.nodes.map((n) => [n.id, `${n.kind} ${n.label}${n.placeholder ? ' (referenced, not yet seen)' : ''}`]),
  );
  for (const e of answer.edges) console.log(`  ${label[e.from]} --${e.kind}--> ${label[e.to]}`);
}

const lineage = await get('/api/lineage', q1);
show(`Q1. What built credit-default:3? (HTTP ${lineage.status})`, lineage.body);
const train = lineage.body.nodes.find((n) => n.label === 'credit-train-20240501');
if (train) console.log(`  hyperparameters of ${train.label}: ${JSON.stringify(train.properties.parameters)}`);

const asOf = await get('/api/lineage/as-of', q2);
console.log(`\nQ2. What did credit-scoring serve on 2024-05-20? (HTTP ${asOf.status})`);
for (const s of asOf.body.serving ?? [])
  console.log(`  ${s.deployment.label}: ${s.trafficShare}% traffic, model ${s.model?.label ?? '(unknown)'}`);

const request = await get('/api/requests/sample-request-0001', {});
console.log(`\nQ3. Which model answered request sample-request-0001? (HTTP ${request.status})`);
console.log(`  ${request.body.time}: ${request.body.deployment?.label} served model ${request.body.model?.label}`);

const diff = await get('/api/diff', q4);
console.log(`\nQ4. What differs between credit-default:2 and :3? (HTTP ${diff.status})`);
const signed = (n) => (n > 0 ? `+${n}` : String(n));
for (const d of diff.body.differences ?? [])
  for (const c of d.changes ?? [])
    console.log(
      d.aspect === 'metrics'
        ? `  metric ${c.name}: ${c.from} -> ${c.to}${typeof c.delta === 'number' ? ` (${signed(c.delta)}, ${c.verdict})` : ` (${c.verdict})`}`
        : `  ${d.aspect} ${c.name}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`,
    );

const gate = await get('/api/gate', { ref: q1.ref, require: 'data,code,metric:auc>=0.8,metric:log_loss<0.4' });
console.log(`\nQ7. May credit-default:3 be promoted with auc>=0.8 and log_loss<0.4? (HTTP ${gate.status})`);
console.log(
  gate.status === 200
    ? `  yes: ${Object.values(gate.body.checks)
        .flatMap((c) => c.evidence)
        .join(', ')}`
    : `  no: ${gate.body.detail}`,
);

const copy = await get('/api/lineage', registryCopy);
console.log(`\nWhere did the registry's credit-default:2 come from? (HTTP ${copy.status})`);
// Where each node lives: its workspace, its registry (registry assets are keyed azureml://registries/NAME/…), or neither (commits, storage).
const home = (n) =>
  n.workspace
    ? ` (${n.workspace.split('/').pop()})`
    : (/^azureml:\/\/registries\/([^/]+)\//.exec(n.key ?? '')?.[1] ?? '').replace(/.+/, ' (registry $&)');
const where = Object.fromEntries((copy.body.nodes ?? []).map((n) => [n.id, `${n.kind} ${n.label}${home(n)}`]));
for (const e of copy.body.edges ?? []) console.log(`  ${where[e.from]} --${e.kind}--> ${where[e.to]}`);

console.log(`\nFull JSON: curl '${base}/api/lineage?${new URLSearchParams(q1)}'`);

// The on-call story: credit-default:3 rolls out on green, its monitor breaches, traffic returns to
// blue. Each traffic step is set on the REST stand-in (its control routes, which `npm start` serves
// on port 7072 by default) and reaches the app as Azure delivers it: an Activity Log endpoint write,
// after which enrichment reads the endpoint again. Against real Azure (no stand-in) this part is skipped.
const standIn = process.env.AZUREML_STANDIN_URL ?? 'http://127.0.0.1:7072';
const control = (route, body) =>
  fetch(`${standIn}/_standin/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const standInUp = await fetch(`${standIn}/_standin`).then(
  (r) => r.ok,
  () => false,
);
if (!standInUp) {
  console.log(`\nRollout: no Azure ML stand-in at ${standIn} (set AZUREML_STANDIN_URL to the address npm start printed); skipped.`);
} else {
  const { SAMPLE_ROLLOUT } = await import('../../dist/infra/local/azureMlStandIn/sampleWorkspace.js');
  const timeline = () => get('/api/endpoints/timeline', { endpoint });
  for (const step of SAMPLE_ROLLOUT) {
    const set = await control('setTraffic', { endpoint: 'credit-scoring', traffic: step.traffic, at: step.at });
    if (!set.ok) throw new Error(`the stand-in refused the traffic step of ${step.at}: HTTP ${set.status}`);
    const observed = new Date(Date.parse(step.at) + 1000).toISOString();
    await sendRecords([{ ...records[0], time: observed }]);
    const seen = async () =>
      ((await timeline()).body.changes ?? []).some(
        (c) =>
          c.kind === 'traffic' &&
          c.deployment.endsWith('/green') &&
          Date.parse(c.at) === Date.parse(step.at) &&
          c.to === step.traffic.green,
      );
    for (let i = 0; i < 80 && !(await seen()); i++) await new Promise((r) => setTimeout(r, 250));
  }
  // The drift check attributes the monitor's breach to the version serving when it fired.
  const run = await call('/api/compliance/run?wait=200', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ checks: ['drift'] }),
  });
  const answer = await timeline();
  console.log(
    `\nOn call. What served credit-scoring, and what was the last good version? (drift check HTTP ${run.status}, timeline HTTP ${answer.status})`,
  );
  for (const c of answer.body.changes ?? []) console.log(`  ${c.at}: ${c.deployment} ${c.kind} ${c.from ?? '-'} -> ${c.to ?? '-'}`);
  for (const v of answer.body.versions ?? [])
    console.log(`  ${v.model.label}: ${v.good ? 'good' : `not good (${v.notGoodBecause.join('; ')})`}`);
  console.log(`  last good: ${answer.body.lastGood?.model ?? '(none)'}`);
  for (const s of answer.body.rollback?.steps ?? []) console.log(`  ${s.action}: ${s.command}`);
}
await producer.close();
