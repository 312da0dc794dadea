import { mapLimited } from '../../shared/util/mapLimited.js';
import { spawnHost } from '../helpers/localHost.js';
import { fixed, heading, int, percentile, runSectionAlone, table } from './report.js';
import { eventStream } from './stream.js';

/**
 * Section 11: load through the local host. `npm start`'s program runs in a process of its own on
 * port 0 with its embedded Cosmos DB server, Azurite and REST stand-in, keys on, and enrichment
 * working its queue meanwhile as it would in Azure. LOAD_EVENTS Event Grid deliveries of one event
 * each (the bench stream: runs, models, deployments, drift) are posted to the Event Grid webhook
 * with LOAD_CONCURRENCY in flight; a delivery is one request, timed from send to answer.
 * Prints events per second, p50 and p99 latency, and how many answers were 5xx.
 */
const EVENTS = Number(process.env.LOAD_EVENTS ?? 3000);
const CONCURRENCY = Number(process.env.LOAD_CONCURRENCY ?? 16);
const WARMUP = 50;
const KEY = 'bench-load-eventgrid-key';

export async function runLoadBench(): Promise<void> {
  console.log(heading(`12. Load: ${int(EVENTS)} Event Grid deliveries at concurrency ${CONCURRENCY} through the local host`));
  const host = await spawnHost({
    LOCAL_FUNCTION_KEY: 'bench-load-function-key',
    LOCAL_EVENTGRID_KEY: KEY,
    // The host's own embedded stores and stand-ins, whatever this shell has set.
    COSMOS_ENDPOINT: undefined,
    COSMOS_KEY: undefined,
    STORAGE_CONNECTION_STRING: undefined,
    STORAGE_BLOB_ENDPOINT: undefined,
    AZUREML_MANAGEMENT_ENDPOINT: undefined,
    EVENTHUB_CONNECTION: undefined,
  });
  const webhook = `${host.url}/runtime/webhooks/eventgrid?functionName=captureEventGrid&code=${KEY}`;
  const statuses = new Map<number, number>();
  const deliver = async (event: unknown): Promise<number> => {
    const started = performance.now();
    const res = await fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify([event]),
    });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    return performance.now() - started;
  };
  try {
    const stream = eventStream(EVENTS + WARMUP, 20261205).map((e) => e.raw);
    await mapLimited(stream.slice(0, WARMUP), 4, deliver); // clients built, containers warm
    statuses.clear();
    const started = performance.now();
    const latencies = await mapLimited(stream.slice(WARMUP), CONCURRENCY, deliver);
    const seconds = (performance.now() - started) / 1000;
    const count = (test: (status: number) => boolean) => [...statuses].filter(([s]) => test(s)).reduce((n, [, c]) => n + c, 0);
    console.log(
      table(
        ['deliveries', 'events/s', 'p50 (ms)', 'p99 (ms)', 'max (ms)', '2xx', '4xx', '5xx'],
        [
          [
            int(latencies.length),
            fixed(latencies.length / seconds, 1),
            fixed(percentile(latencies, 50), 1),
            fixed(percentile(latencies, 99), 1),
            fixed(Math.max(...latencies), 1),
            int(count((s) => s >= 200 && s < 300)),
            int(count((s) => s >= 400 && s < 500)),
            int(count((s) => s >= 500)),
          ],
        ],
      ),
    );
    console.log(`  ${fixed(seconds, 1)} s in all; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  } finally {
    await host.stop();
  }
}

runSectionAlone(import.meta.url, '11 (load through the local host)', runLoadBench);
