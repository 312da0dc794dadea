import { buildServices, type Services } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { maintainClosures } from '../../shared/usecases/closures.js';
import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';
import { fixed, heading, int, mean, table } from './report.js';
import { recordFigures, round } from './results.js';
import { AML_TYPES, type AmlType, type BenchEvent } from './stream.js';

/**
 * Section 2: Cosmos round trips per captured event, through the real stores (@azure/cosmos against
 * the embedded Cosmos server, @azure/storage-blob against Azurite). Round trips are the
 * hardware-independent cost figure; timings here depend on the machine.
 */
const SMALL_GRAPH_AT = 100; // events already captured when the small-graph batch starts
const LARGE_GRAPH_AT = 2_300; // ... and when the larger-graph batch starts
const BATCH = 200;
export const STORE_EVENTS = LARGE_GRAPH_AT + BATCH;
/**
 * Events between two runs of the closure stage: its queue coalesces the nudges of the events that
 * arrive while a run is busy, so under load one run serves many events.
 */
const STAGE_EVERY = 50;

/** What capturing one event cost. */
interface Sample {
  type: AmlType;
  requests: number;
  /** Request units real Cosmos DB would charge, estimated from documented costs (ruEstimate.ts). */
  ru: number;
  /** Graph documents the event touched: created + updated + unchanged. */
  docs: number;
  /** Its requests by operation (`create`, `read 404`, `batch`, ...): where the round trips go. */
  operations: Map<string, number>;
}

/** What delivering some events cost, event by event. */
interface Delivery {
  ms: number;
  samples: Sample[];
  outcomes: Map<string, number>;
  writes: { created: number; updated: number; unchanged: number };
  /** The closure stage's runs between (and after) these events, metered apart from capture. */
  stage: { runs: number; requests: number; ru: number; links: number; written: number };
}

function emptyDelivery(): Delivery {
  return {
    ms: 0,
    samples: [],
    outcomes: new Map(),
    writes: { created: 0, updated: 0, unchanged: 0 },
    stage: { runs: 0, requests: 0, ru: 0, links: 0, written: 0 },
  };
}

async function runStage(services: Services, into: Delivery): Promise<void> {
  const before = services.meter.storeRequests;
  const ruBefore = services.meter.estimatedRequestUnits;
  const run = await maintainClosures(services.graph);
  into.stage.runs++;
  into.stage.requests += services.meter.storeRequests - before;
  into.stage.ru += services.meter.estimatedRequestUnits - ruBefore;
  into.stage.links += run.links;
  into.stage.written += run.written;
}

async function deliver(services: Services, events: readonly BenchEvent[]): Promise<Delivery> {
  const result = emptyDelivery();
  const start = performance.now();
  // One event at a time, so each round trip is attributed to the event that made it.
  for (const [i, event] of events.entries()) {
    if (i > 0 && i % STAGE_EVERY === 0) await runStage(services, result);
    const before = services.meter.storeRequests;
    const ruBefore = services.meter.estimatedRequestUnits;
    const operationsBefore = new Map(services.meter.byOperation);
    const outcome = await captureEvent(services.capture, event.raw, { channel: 'eventgrid' });
    const label = outcome.status === 'projected' && outcome.duplicate ? 'projected (duplicate)' : outcome.status;
    result.outcomes.set(label, (result.outcomes.get(label) ?? 0) + 1);
    let docs = 0;
    if (outcome.status === 'projected') {
      const { created, updated, unchanged } = outcome.writes;
      docs = created + updated + unchanged;
      result.writes.created += created;
      result.writes.updated += updated;
      result.writes.unchanged += unchanged;
    }
    result.samples.push({
      type: event.type,
      requests: services.meter.storeRequests - before,
      ru: services.meter.estimatedRequestUnits - ruBefore,
      docs,
      operations: new Map(
        [...services.meter.byOperation]
          .map(([operation, n]): [string, number] => [operation, n - (operationsBefore.get(operation) ?? 0)])
          .filter(([, n]) => n > 0),
      ),
    });
  }
  await runStage(services, result);
  result.ms = performance.now() - start;
  return result;
}

function combine(...parts: Delivery[]): Delivery {
  const all = emptyDelivery();
  for (const p of parts) {
    all.ms += p.ms;
    all.samples.push(...p.samples);
    for (const [o, n] of p.outcomes) all.outcomes.set(o, (all.outcomes.get(o) ?? 0) + n);
    all.writes.created += p.writes.created;
    all.writes.updated += p.writes.updated;
    all.writes.unchanged += p.writes.unchanged;
    for (const k of ['runs', 'requests', 'ru', 'links', 'written'] as const) all.stage[k] += p.stage[k];
  }
  return all;
}

const requestsOf = (d: Delivery, type?: AmlType) => d.samples.filter((s) => type === undefined || s.type === type).map((s) => s.requests);
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/**
 * Round trips to the graph container per graph document the events touched (the one event-log
 * append per event left out). It does not depend on the mix of event shapes in a batch, so it
 * is the figure that shows whether cost grows with the graph.
 */
function graphRequestsPerDoc(d: Delivery): string {
  return fixed(graphRequestsPerDocument(d), 2);
}

function graphRequestsPerDocument(d: Delivery): number {
  return sum(d.samples.map((s) => s.requests - 1)) / sum(d.samples.map((s) => s.docs));
}

/** Mean requests per event of each operation, by event type: which round trips an event makes. */
function operationsTable(d: Delivery): string {
  const operations = [...new Set(d.samples.flatMap((s) => [...s.operations.keys()]))].sort();
  return table(
    ['event type', ...operations],
    AML_TYPES.map((t) => {
      const samples = d.samples.filter((s) => s.type === t);
      return [t, ...operations.map((o) => fixed(sum(samples.map((s) => s.operations.get(o) ?? 0)) / Math.max(1, samples.length), 2))];
    }),
  );
}

const ruOf = (d: Delivery, type?: AmlType) => d.samples.filter((s) => type === undefined || s.type === type).map((s) => s.ru);

/** `mean (min-max)` requests per event, or `-` when there were none of that type. */
function perEvent(requests: readonly number[]): string {
  if (requests.length === 0) return '-';
  const lo = Math.min(...requests);
  const hi = Math.max(...requests);
  return `${fixed(mean(requests), 2)} (${lo === hi ? lo : `${lo}-${hi}`})`;
}

function outcomesLine(d: Delivery): string {
  const { created, updated, unchanged } = d.writes;
  const outcomes = [...d.outcomes].map(([o, n]) => `${int(n)} ${o}`).join(', ');
  return `${outcomes}; graph documents ${int(created)} created, ${int(updated)} updated, ${int(unchanged)} unchanged`;
}

export async function runStoreBench(events: readonly BenchEvent[]): Promise<void> {
  if (events.length < STORE_EVENTS) throw new Error(`the store bench needs ${STORE_EVENTS} events`);
  console.log(heading('2. Cosmos requests per event (embedded Cosmos server + Azurite)'));
  const [cosmos, azurite] = await Promise.all([startCosmos(0), startAzurite({ blob: 0, queue: 0, table: 0 })]);
  try {
    const settings = loadSettings({
      COSMOS_ENDPOINT: cosmos.url,
      COSMOS_KEY: cosmos.key,
      COSMOS_DATABASE: 'bench',
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      DEADLETTER_CONTAINER: 'deadletters',
    });
    const admin = await createCosmosClient(settings);
    await ensureCosmos(admin, settings.COSMOS_DATABASE);
    admin.dispose();
    const services = await buildServices(settings);
    await services.ensureStorage(); // dead-letter container and enrichment queue (capture enqueues REST follow-ups)

    console.log(`  capturing ${int(STORE_EVENTS)} events, then redelivering ${BATCH} of them ...`);
    console.log('  (enrichment follow-ups are enqueued on Azurite: Storage requests, not counted here and never drained; see section 4)');
    const warm = await deliver(services, events.slice(0, SMALL_GRAPH_AT));
    const small = await deliver(services, events.slice(SMALL_GRAPH_AT, SMALL_GRAPH_AT + BATCH));
    const fill = await deliver(services, events.slice(SMALL_GRAPH_AT + BATCH, LARGE_GRAPH_AT));
    const large = await deliver(services, events.slice(LARGE_GRAPH_AT, LARGE_GRAPH_AT + BATCH));
    // Event Grid delivers at least once: the small batch again, byte for byte.
    const sameBytes = (e: BenchEvent): BenchEvent => ({ ...e, raw: JSON.parse(JSON.stringify(e.raw)) as Record<string, unknown> });
    const again = await deliver(services, events.slice(SMALL_GRAPH_AT, SMALL_GRAPH_AT + BATCH).map(sameBytes));
    const first = combine(warm, small, fill, large);

    console.log(`  first delivery: ${outcomesLine(first)}`);
    console.log(`  redelivery:     ${outcomesLine(again)}\n`);
    console.log('  requests per event by type, mean (min-max); one event at a time');
    console.log(
      table(
        ['event type', 'first: events', 'first: requests/event', 'redelivery: events', 'redelivery: requests/event'],
        [
          ...AML_TYPES.map((t) => {
            const f = requestsOf(first, t);
            const a = requestsOf(again, t);
            return [t, int(f.length), perEvent(f), int(a.length), perEvent(a)];
          }),
          [
            'all types (stream mix)',
            int(first.samples.length),
            perEvent(requestsOf(first)),
            int(again.samples.length),
            perEvent(requestsOf(again)),
          ],
        ],
      ),
    );
    console.log('  (run events vary with git provenance and sweep parents; ModelDeployed with the models it serves)');
    console.log('\n  requests per event by operation (failed ones with their status), first delivery');
    console.log(operationsTable(first));
    console.log('  ... and on redelivery');
    console.log(operationsTable(again));

    const docsBefore = (...parts: Delivery[]) => sum(parts.map((p) => p.writes.created));
    console.log(`\n  requests per event as the graph grows (first delivery, ${BATCH} new events per batch)`);
    console.log(
      table(
        ['', `small graph: ${int(SMALL_GRAPH_AT)} events in`, `larger graph: ${int(LARGE_GRAPH_AT)} events in`],
        [
          ['graph documents before batch', int(docsBefore(warm)), int(docsBefore(warm, small, fill))],
          ...AML_TYPES.map((t) => [`${t} requests/event`, perEvent(requestsOf(small, t)), perEvent(requestsOf(large, t))]),
          ['all types requests/event', perEvent(requestsOf(small)), perEvent(requestsOf(large))],
          [
            'graph documents touched/event',
            fixed(sum(small.samples.map((x) => x.docs)) / BATCH, 2),
            fixed(sum(large.samples.map((x) => x.docs)) / BATCH, 2),
          ],
          ['graph requests/document touched', graphRequestsPerDoc(small), graphRequestsPerDoc(large)],
        ],
      ),
    );
    console.log(
      '  (per-type means move with the event shapes that land in each batch; requests per document touched\n  does not depend on the mix, so compare that row)',
    );

    console.log('\n  throughput through the embedded store (MACHINE-DEPENDENT: the Cosmos server runs in this');
    console.log('  same Node process and is not real Cosmos DB; one event at a time, no concurrency)');
    const phases: Array<[string, Delivery]> = [
      ['first delivery, all batches', first],
      ['small-graph batch', small],
      ['larger-graph batch', large],
      ['redelivery', again],
    ];
    console.log(
      table(
        ['phase', 'events', 'seconds', 'events/s', 'requests/s'],
        phases.map(([label, d]) => {
          const seconds = d.ms / 1000;
          return [label, int(d.samples.length), fixed(seconds, 1), int(d.samples.length / seconds), int(sum(requestsOf(d)) / seconds)];
        }),
      ),
    );

    const { storeRequests: requests, requestUnits } = services.meter.snapshot();
    console.log(
      `\n  metered in total: ${int(requests)} requests, ${fixed(requestUnits, 1)} "request units" as the embedded server charged them`,
    );
    if (requestUnits === requests)
      console.log('  (the embedded server answers every request with a flat x-ms-request-charge of 1, so its RU = requests)');
    console.log('\n  request units real Cosmos DB would charge, ESTIMATED from the documented cost of reads and writes by');
    console.log('  document size (shared/store/ruEstimate.ts: Microsoft\'s "Understand request unit consumption" table), mean per event');
    console.log(
      table(
        ['event type', 'first delivery RU/event', 'redelivery RU/event'],
        [
          ...AML_TYPES.map((t) => [t, fixed(mean(ruOf(first, t)), 1), fixed(mean(ruOf(again, t)), 1)]),
          ['all types (stream mix)', fixed(mean(ruOf(first)), 1), fixed(mean(ruOf(again)), 1)],
        ],
      ),
    );

    const stagePerEvent = (d: Delivery) => d.stage.requests / d.samples.length;
    console.log(`\n  the closure stage (off the capture path; one run per ${STAGE_EVERY} events, metered apart from capture)`);
    console.log(
      table(
        ['phase', 'runs', 'links', 'closure documents written', 'requests', 'requests/event', 'RU/event (estimated)'],
        phases.map(([label, d]) => [
          label,
          int(d.stage.runs),
          int(d.stage.links),
          int(d.stage.written),
          int(d.stage.requests),
          fixed(stagePerEvent(d), 2),
          fixed(d.stage.ru / d.samples.length, 1),
        ]),
      ),
    );

    const all = (d: Delivery) => fixed(mean(requestsOf(d)), 2);
    console.log(
      `\n  summary: ${all(first)} Cosmos requests/event on first delivery (stream mix), ${all(again)} on redelivery; ` +
        `${graphRequestsPerDoc(small)} -> ${graphRequestsPerDoc(large)} graph requests/document touched from the small to the larger graph; ` +
        `about ${fixed(mean(ruOf(first)), 1)} RU/event (estimated)`,
    );
    const byType = (d: Delivery) => Object.fromEntries(AML_TYPES.map((t) => [t, round(mean(requestsOf(d, t)))]));
    recordFigures({
      capture: {
        requestsPerEvent: round(mean(requestsOf(first))),
        requestsPerEventRedelivery: round(mean(requestsOf(again))),
        requestsPerEventByType: byType(first),
        requestsPerDocumentTouched: round(graphRequestsPerDocument(first)),
        requestsPerDocumentTouchedAsGraphGrows: {
          [`graph of ${docsBefore(warm)} documents`]: round(graphRequestsPerDocument(small)),
          [`graph of ${docsBefore(warm, small, fill)} documents`]: round(graphRequestsPerDocument(large)),
        },
        ruEstimatePerEvent: round(mean(ruOf(first)), 1),
        ruEstimatePerEventRedelivery: round(mean(ruOf(again)), 1),
      },
      closureStage: {
        eventsPerRun: STAGE_EVERY,
        requestsPerEvent: round(stagePerEvent(first)),
        requestsPerEventRedelivery: round(stagePerEvent(again)),
        ruEstimatePerEvent: round(first.stage.ru / first.samples.length, 1),
        closureDocumentsWrittenPerLink: round(first.stage.written / Math.max(1, first.stage.links)),
      },
    });
  } finally {
    await Promise.all([cosmos.stop(), azurite.stop()]);
  }
}
