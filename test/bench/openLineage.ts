import { randomUUID } from 'node:crypto';
import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';
import { startHost } from '../../infra/local/host.js';
import { buildServices, getServices } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config.js';
import { checkEvent } from '../../shared/ingest/openlineage/schema.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { StoreMeter } from '../../shared/store/storeMeter.js';
import { captureOpenLineage } from '../../shared/usecases/captureOpenLineage.js';
import { fixed, heading, int, median, runSectionAlone, table } from './report.js';

/**
 * Section 10: OpenLineage in. A generated stream shaped like the Spark integration's output: chains
 * of jobs, each run a START (inputs, schema) and a COMPLETE (outputs with schema, version and
 * output statistics, a parent run facet), each job reading the previous one's output by `abfss://`.
 *  a. Events per second through POST /api/v1/lineage on the local host (in this process, embedded
 *     Cosmos server and Azurite): one event per request as the HTTP transport sends them, and
 *     arrays of 50; with the median request time.
 *  b. Cosmos requests per OpenLineage event through capture, by kind, on redelivery, and as the
 *     graph grows (the first 100 events vs the last 100 of about 970).
 *  c. The spec's JSON Schema: compile time (paid once per process, on the first event) and
 *     validations per second on one core.
 */
const KEY = 'bench-openlineage-key';
const PRODUCER = 'https://github.com/OpenLineage/OpenLineage/tree/1.30.0/integration/spark';
const facet = (schema: string, body: Record<string, unknown>) => ({ _producer: PRODUCER, _schemaURL: schema, ...body });
const SCHEMA = 'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet';

interface Generated {
  kind: 'START' | 'COMPLETE' | 'DatasetEvent';
  body: Record<string, unknown>;
}

/** `runs` Spark runs in chains of 10 jobs, START and COMPLETE each, plus one DatasetEvent per chain. */
export function openLineageStream(runs: number, seed = 'bench'): Generated[] {
  const out: Generated[] = [];
  const path = (chain: number, step: number) => ({
    namespace: `abfss://curated@stbench${chain % 7}.dfs.core.windows.net`,
    name: `${seed}/chain-${chain}/step-${step}`,
  });
  const fields = Array.from({ length: 12 }, (_, i) => ({ name: `col_${i}`, type: i % 3 === 0 ? 'string' : 'double' }));
  for (let r = 0; r < runs; r++) {
    const chain = Math.floor(r / 10);
    const step = r % 10;
    const runId = randomUUID();
    const job = { namespace: 'spark-bench', name: `etl_${seed}_${chain}.step_${step}` };
    const time = (minutes: number) => new Date(Date.UTC(2024, 4, 1) + (r * 10 + minutes) * 60_000).toISOString();
    const base = { producer: PRODUCER, schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent', job };
    const inputs = [step === 0 ? { namespace: 'postgres://orders-db:5432', name: `sales.public.orders_${chain}` } : path(chain, step - 1)];
    const parent = facet('https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet', {
      run: { runId: randomUUID() },
      job: { namespace: 'airflow-bench', name: `dag_${chain}` },
    });
    out.push({
      kind: 'START',
      body: { ...base, eventType: 'START', eventTime: time(0), run: { runId, facets: { parent } }, inputs, outputs: [] },
    });
    out.push({
      kind: 'COMPLETE',
      body: {
        ...base,
        eventType: 'COMPLETE',
        eventTime: time(5),
        run: { runId, facets: { parent } },
        inputs,
        outputs: [
          {
            ...path(chain, step),
            facets: {
              schema: facet(SCHEMA, { fields }),
              version: facet('https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json', { datasetVersion: time(5) }),
            },
            outputFacets: {
              outputStatistics: facet('https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json', {
                rowCount: 1000 + r,
                size: 65_536 + r,
              }),
            },
          },
        ],
      },
    });
    if (step === 9)
      out.push({
        kind: 'DatasetEvent',
        body: {
          eventTime: time(6),
          producer: PRODUCER,
          schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
          dataset: { ...path(chain, step), facets: { schema: facet(SCHEMA, { fields }) } },
        },
      });
  }
  return out;
}

export async function runOpenLineageBench(): Promise<void> {
  console.log(heading('10. OpenLineage in: POST /api/v1/lineage (Spark-shaped events: runs with inputs, outputs, facets)'));
  const [cosmos, azurite] = await Promise.all([startCosmos(0), startAzurite({ blob: 0, queue: 0, table: 0 })]);
  const env = {
    COSMOS_ENDPOINT: cosmos.url,
    COSMOS_KEY: cosmos.key,
    COSMOS_DATABASE: 'bench-openlineage',
    STORAGE_CONNECTION_STRING: azurite.connectionString,
    AzureWebJobsStorage: azurite.connectionString,
    ENRICHMENT_QUEUE: 'enrichment',
    EVENTHUB_NAME: 'insights-logs-amlworkspace',
    EVENTHUB_CONSUMER_GROUP: '$Default',
    COMPLIANCE_LINEAGE_SCHEDULE: '0 0 2 * * *',
    COMPLIANCE_DRIFT_SCHEDULE: '0 15 2 * * *',
    COMPLIANCE_RETENTION_SCHEDULE: '0 30 2 * * *',
    COMPLIANCE_PII_SCHEDULE: '0 45 2 * * *',
    LOCAL_FUNCTION_KEY: KEY,
    OPENLINEAGE_API_KEY: KEY,
  };
  Object.assign(process.env, env);
  // Neither the hub consumer nor OpenLineage out: this section measures the endpoint alone.
  for (const name of ['EVENTHUB_CONNECTION', 'OPENLINEAGE_EVENTHUB_NAME', 'OPENLINEAGE_EVENTHUB_CONNECTION']) delete process.env[name];
  const settings = loadSettings();
  const client = await createCosmosClient(settings);
  await ensureCosmos(client, settings.COSMOS_DATABASE);
  await ensureCosmos(client, 'bench-openlineage-requests');
  client.dispose();
  await (await buildServices(settings)).ensureStorage();
  const host = await startHost({ port: 0, log: () => undefined });
  try {
    await throughput(host.url);
    await requestsPerEvent(settings);
  } finally {
    await host.stop();
    await Promise.all([azurite.stop(), cosmos.stop()]);
  }
  await validation();
}

async function throughput(url: string): Promise<void> {
  const post = async (body: unknown): Promise<number> => {
    const started = performance.now();
    const res = await fetch(`${url}/api/v1/lineage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`POST /api/v1/lineage answered ${res.status}`);
    return performance.now() - started;
  };
  // Warm-up: the first event compiles the schema and builds the clients.
  await post(openLineageStream(1, 'warmup')[0]?.body);
  const { meter } = await getServices(); // the services the host's handlers use
  const requests0 = meter.storeRequests;
  const rows: string[][] = [];
  const single = openLineageStream(150, 'single').map((e) => e.body);
  let started = performance.now();
  const latencies: number[] = [];
  for (const e of single) latencies.push(await post(e));
  let ms = performance.now() - started;
  rows.push([
    'one event per request (the HTTP transport)',
    int(single.length),
    int(single.length),
    int(ms),
    fixed((single.length / ms) * 1000, 1),
    fixed(median(latencies), 1),
  ]);
  const batched = openLineageStream(500, 'batched').map((e) => e.body);
  const arrays = Array.from({ length: Math.ceil(batched.length / 50) }, (_, i) => batched.slice(i * 50, i * 50 + 50));
  started = performance.now();
  const batchLatencies: number[] = [];
  for (const a of arrays) batchLatencies.push(await post(a));
  ms = performance.now() - started;
  rows.push([
    'arrays of 50 events',
    int(batched.length),
    int(arrays.length),
    int(ms),
    fixed((batched.length / ms) * 1000, 1),
    fixed(median(batchLatencies), 1),
  ]);
  console.log('  a. Through the endpoint (local host in this process, embedded Cosmos server, Azurite)');
  console.log(table(['requests', 'events', 'requests sent', 'total (ms)', 'events/s', 'median request (ms)'], rows));
  const events = single.length + batched.length;
  console.log(
    `  Cosmos requests made by the app for these ${int(events)} events: ${int(meter.storeRequests - requests0)}, ${fixed((meter.storeRequests - requests0) / events, 1)} per event`,
  );
}

async function requestsPerEvent(settings: ReturnType<typeof loadSettings>): Promise<void> {
  const meter = new StoreMeter();
  const services = await buildServices({ ...settings, COSMOS_DATABASE: 'bench-openlineage-requests' }, meter);
  const stream = openLineageStream(460, 'requests');
  const byKind = new Map<string, { events: number; requests: number; dupRequests: number }>();
  const perEvent: number[] = [];
  for (const e of stream) {
    const before = meter.storeRequests;
    const report = await captureOpenLineage(services.capture, e.body);
    // Figures for dead letters would measure the wrong path.
    if (report.projected !== 1) throw new Error(`a generated ${e.kind} was not projected: ${JSON.stringify(report.events)}`);
    const first = meter.storeRequests - before;
    perEvent.push(first);
    const again = meter.storeRequests;
    await captureOpenLineage(services.capture, e.body);
    const dup = meter.storeRequests - again;
    const k = byKind.get(e.kind) ?? { events: 0, requests: 0, dupRequests: 0 };
    byKind.set(e.kind, { events: k.events + 1, requests: k.requests + first, dupRequests: k.dupRequests + dup });
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  console.log('\n  b. Cosmos requests per OpenLineage event through capture (raw log, graph documents, closures)');
  console.log(
    table(
      ['event', 'events', 'requests/event', 'on redelivery'],
      [...byKind].map(([kind, k]) => [
        kind === 'START'
          ? 'RunEvent START (1 input)'
          : kind === 'COMPLETE'
            ? 'RunEvent COMPLETE (1 input, 1 output, 3 facets)'
            : 'DatasetEvent (schema)',
        int(k.events),
        fixed(k.requests / k.events, 1),
        fixed(k.dupRequests / k.events, 1),
      ]),
    ),
  );
  console.log(
    `  as the graph grows: ${fixed(avg(perEvent.slice(0, 100)), 1)} requests/event over the first 100 events, ${fixed(avg(perEvent.slice(-100)), 1)} over the last 100 of ${int(perEvent.length)}`,
  );
}

async function validation(): Promise<void> {
  const events = openLineageStream(500, 'validation').map((e) => e.body);
  console.log('\n  c. JSON Schema validation (ajv, spec 2-0-2), one core');
  // The schema compiles on a module's first event and stays compiled; the endpoint above compiled
  // it already, so a fresh copy of the module (another URL, same file) pays it again here.
  const fresh = (await import(new URL(`../../shared/ingest/openlineage/schema.js?fresh=${Date.now()}`, import.meta.url).href)) as {
    checkEvent: typeof checkEvent;
  };
  let started = performance.now();
  if (!fresh.checkEvent(events[0]).ok) throw new Error('a generated event is not valid');
  const firstMs = performance.now() - started;
  started = performance.now();
  let ok = 0;
  for (let round = 0; round < 4; round++) for (const e of events) if (checkEvent(e).ok) ok++;
  const ms = performance.now() - started;
  if (ok !== events.length * 4) throw new Error(`${events.length * 4 - ok} generated events are not valid`);
  console.log(`  first event of a process (compiles the spec and the interpreted facets' schemas): ${fixed(firstMs, 1)} ms`);
  console.log(`  then ${int(ok)} events validated in ${int(ms)} ms: ${int((ok / ms) * 1000)} events/s`);
}

runSectionAlone(import.meta.url, '10', () => runOpenLineageBench());
