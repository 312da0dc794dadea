import { cpus } from 'node:os';
import { runComplianceBench } from './compliance.js';
import { captureStream, runCaptureBench } from './capture.js';
import { runEventHubsBench } from './eventHubs.js';
import { runExplorerBench } from './explorer.js';
import { runFanOutBench } from './fanOut.js';
import { runLoadBench } from './load.js';
import { runLookupBench } from './lookups.js';
import { runModuleLoadBench } from './moduleLoad.js';
import { runSectionInChild } from './report.js';
import { runTlogBench } from './tlog.js';

/**
 * `npm run bench`: prints figures, asserts nothing; the headline figures also go to
 * bench-results.json (results.ts), merged key by key so a section run alone updates its own.
 *
 *   0. The deploy package: module load time of the tsc build and of the bundle (median of 9
 *      fresh processes each), their ratio, and the zip's size (`npm run bench:package` alone).
 *   1. Normalization throughput on one core (bytes -> graph documents, no I/O) vs JSON.parse.
 *      (`npm run bench:normalization` alone.)
 *   2. Cosmos requests per captured event: by type, on redelivery, and as the graph grows,
 *      against the embedded Cosmos server and Azurite.
 *   3. Azure Monitor envelope parsing on one core (Event Hubs bodies -> records -> results) vs JSON.parse.
 *   4. Cosmos and REST requests per event once enrichment runs (sample workspace, REST stand-in),
 *      on redelivery, Cosmos requests per Event Hubs record by category, and MLflow requests per
 *      enriched job (`npm run bench:enrichment` alone). (Sections 1-4: `npm run bench:capture` alone.)
 *   5. Lookups on a generated 100,000-node graph (BENCH_LOOKUP_NODES): Cosmos round trips, requests
 *      and latency at depth 1, 10 and 50 from precomputed closures vs a hop-by-hop walk, against the
 *      embedded Cosmos server in a child process (several minutes; `npm run bench:lookups` alone).
 *   6. Compliance runs on a generated 1,800-node graph (BENCH_COMPLIANCE_NODES): Cosmos requests and
 *      documents read per check for a first run, an unchanged re-run and a run after 1% of the nodes
 *      changed through applyDelta, against the embedded Cosmos server in a child process and Azurite
 *      (2-3 minutes; `npm run bench:compliance` alone).
 *   7. Event Hubs end to end: Azure Monitor messages sent with EventHubProducerClient to the AMQP
 *      stand-in, consumed by the local host (EventHubConsumerClient, Blob checkpoints) into capture;
 *      records per second (`npm run bench:eventhubs` alone).
 *   8. The evidence log: sequencing throughput on one core, store requests per sequenced leaf by
 *      batch size, round trips for one inclusion proof, and offline verification of a pack citing
 *      1,000 events, against the embedded Cosmos server and Azurite (`npm run bench:tlog` alone).
 *   9. The lineage explorer in Debian's Chromium: page weight, time to the first drawn graph for the
 *      sample, layout time for a 500-node answer (about a minute; `npm run bench:explorer` alone).
 *  10. OpenLineage in: Spark-shaped events per second through POST /api/v1/lineage on the local
 *      host, Cosmos requests per event by kind, on redelivery and as the graph grows, and the
 *      spec's JSON Schema (compile once, then validations per second), against the embedded Cosmos
 *      server and Azurite, in a process of its own (`npm run bench:openlineage` alone).
 *  11. Bounded fan-out: a ModelDeployed naming 1,000 and 3,000 models (BENCH_FANOUT_MODELS): the
 *      webhook's share (time, Cosmos requests), parts queued, the queue's drain and its time per
 *      1,000 models, Cosmos requests per model (`npm run bench:fanout` alone).
 *  12. Load: a few thousand Event Grid deliveries at concurrency 16 to the local host (`npm start`'s
 *      program in a child process, keys on, enrichment running): events per second, p50 and p99
 *      latency, 5xx answers (`npm run bench:load` alone).
 */

async function main(): Promise<void> {
  const started = performance.now();
  console.log('aml-lineage benchmark');
  console.log(
    `  node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform}/${process.arch}`,
  );

  const events = captureStream();
  const mix = new Map<string, number>();
  for (const e of events) mix.set(e.type, (mix.get(e.type) ?? 0) + 1);
  const schemas = events.filter((e) => e.schema === 'eventgrid').length;
  console.log(
    `  stream: ${events.length} events, ${[...mix].map(([t, n]) => `${t} ${n}`).join(', ')}; ` +
      `${schemas} Event Grid schema, ${events.length - schemas} CloudEvents`,
  );

  await runModuleLoadBench();
  await runCaptureBench(events);
  await runLookupBench();
  await runComplianceBench();
  await runEventHubsBench();
  await runTlogBench();
  await runExplorerBench();
  runSectionInChild(new URL('./openLineage.js', import.meta.url).href);
  await runFanOutBench();
  await runLoadBench();

  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
