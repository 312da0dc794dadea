import { buildServices, type Services } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { captureEvent } from '../../shared/usecases/captureEvent.js';
import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';
import { fixed, heading, int, mean, table } from './report.js';
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

/** What delivering some events cost, event by event. */
interface Delivery {
  events: number;
  ms: number;
  requestsByType: Map<AmlType, number[]>;
  outcomes: Map<string, number>;
  docsCreated: number;
}

async function deliver(services: Services, events: readonly BenchEvent[]): Promise<Delivery> {
  const result: Delivery = { events: events.length, ms: 0, requestsByType: new Map(AML_TYPES.map((t) => [t, []])), outcomes: new Map(), docsCreated: 0 };
  const start = performance.now();
  // One event at a time, so each round trip is attributed to the event that made it.
  for (const event of events) {
    const before = services.meter.requests;
    const outcome = await captureEvent(services.capture, event.raw, { channel: 'eventgrid' });
    result.requestsByType.get(event.type)?.push(services.meter.requests - before);
    const label = outcome.status === 'projected' && outcome.duplicate ? 'projected (duplicate)' : outcome.status;
    result.outcomes.set(label, (result.outcomes.get(label) ?? 0) + 1);
    if (outcome.status === 'projected') result.docsCreated += outcome.writes.created;
  }
  result.ms = performance.now() - start;
  return result;
}

function combine(...parts: Delivery[]): Delivery {
  const all: Delivery = { events: 0, ms: 0, requestsByType: new Map(AML_TYPES.map((t) => [t, []])), outcomes: new Map(), docsCreated: 0 };
  for (const p of parts) {
    all.events += p.events;
    all.ms += p.ms;
    all.docsCreated += p.docsCreated;
    for (const [t, r] of p.requestsByType) all.requestsByType.get(t)?.push(...r);
    for (const [o, n] of p.outcomes) all.outcomes.set(o, (all.outcomes.get(o) ?? 0) + n);
  }
  return all;
}

const allRequests = (d: Delivery) => [...d.requestsByType.values()].flat();

/** `mean (min-max)` requests per event, or `-` when there were none of that type. */
function perEvent(requests: readonly number[]): string {
  if (requests.length === 0) return '-';
  const lo = Math.min(...requests);
  const hi = Math.max(...requests);
  return `${fixed(mean(requests), 2)} (${lo === hi ? lo : `${lo}-${hi}`})`;
}

function outcomesLine(d: Delivery): string {
  return [...d.outcomes].map(([o, n]) => `${int(n)} ${o}`).join(', ');
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
    await services.deadLetters.ensure();

    const warm = await deliver(services, events.slice(0, SMALL_GRAPH_AT));
    const small = await deliver(services, events.slice(SMALL_GRAPH_AT, SMALL_GRAPH_AT + BATCH));
    const fill = await deliver(services, events.slice(SMALL_GRAPH_AT + BATCH, LARGE_GRAPH_AT));
    const large = await deliver(services, events.slice(LARGE_GRAPH_AT, LARGE_GRAPH_AT + BATCH));
    // Event Grid delivers at least once: the small batch again, byte for byte.
    const again = await deliver(services, events.slice(SMALL_GRAPH_AT, SMALL_GRAPH_AT + BATCH).map((e) => ({ ...e, raw: JSON.parse(JSON.stringify(e.raw)) as Record<string, unknown> })));
    const first = combine(warm, small, fill, large);

    console.log(`  first delivery: ${outcomesLine(first)}`);
    console.log(`  redelivery:     ${outcomesLine(again)}\n`);
    console.log('  requests per event by type, mean (min-max); one event at a time');
    console.log(
      table(
        ['event type', 'first: events', 'first: requests/event', 'redelivery: events', 'redelivery: requests/event'],
        [
          ...AML_TYPES.map((t) => {
            const f = first.requestsByType.get(t) ?? [];
            const a = again.requestsByType.get(t) ?? [];
            return [t, int(f.length), perEvent(f), int(a.length), perEvent(a)];
          }),
          ['all types (stream mix)', int(first.events), perEvent(allRequests(first)), int(again.events), perEvent(allRequests(again))],
        ],
      ),
    );

    const docsBeforeSmall = warm.docsCreated;
    const docsBeforeLarge = warm.docsCreated + small.docsCreated + fill.docsCreated;
    console.log(`\n  requests per event as the graph grows (first delivery, ${BATCH} new events per batch)`);
    console.log(
      table(
        ['event type', `small graph: ${int(SMALL_GRAPH_AT)} events in`, `larger graph: ${int(LARGE_GRAPH_AT)} events in`],
        [
          ['graph documents before batch', int(docsBeforeSmall), int(docsBeforeLarge)],
          ...AML_TYPES.map((t) => [t, perEvent(small.requestsByType.get(t) ?? []), perEvent(large.requestsByType.get(t) ?? [])]),
          ['all types (batch mix)', perEvent(allRequests(small)), perEvent(allRequests(large))],
        ],
      ),
    );

    console.log('\n  throughput through the embedded store (MACHINE-DEPENDENT: the Cosmos server runs in this');
    console.log('  same Node process and is not real Cosmos DB; one event at a time, no concurrency)');
    console.log(
      table(
        ['phase', 'events', 'seconds', 'events/s', 'requests/s'],
        [
          ['first delivery, all batches', first, ''] as const,
          [`small-graph batch`, small, ''] as const,
          [`larger-graph batch`, large, ''] as const,
          ['redelivery', again, ''] as const,
        ].map(([label, d]) => {
          const requests = allRequests(d).reduce((a, b) => a + b, 0);
          return [label, int(d.events), fixed(d.ms / 1000, 1), int(d.events / (d.ms / 1000)), int(requests / (d.ms / 1000))];
        }),
      ),
    );

    const { requests, requestUnits } = services.meter.snapshot();
    console.log(`\n  metered in total: ${int(requests)} requests, ${fixed(requestUnits, 1)} request units`);
    if (requestUnits === 0) {
      console.log('  request units: none recorded - the embedded server reports no request charge (real Cosmos DB does)');
    } else {
      console.log(`  request units: ${fixed(requestUnits / (first.events + again.events), 2)} RU/event over all deliveries`);
    }
  } finally {
    await Promise.all([cosmos.stop(), azurite.stop()]);
  }
}
