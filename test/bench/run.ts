import { cpus } from 'node:os';
import { runNormalizationBench } from './normalization.js';
import { runStoreBench, STORE_EVENTS } from './store.js';
import { eventStream } from './stream.js';

/**
 * `npm run bench`: prints figures, asserts nothing.
 *
 *   1. Normalization throughput on one core (bytes -> graph documents, no I/O) vs JSON.parse.
 *   2. Cosmos requests per captured event: by type, on redelivery, and as the graph grows,
 *      against the embedded Cosmos server and Azurite.
 */
const NORMALIZATION_EVENTS = 5_000;

async function main(): Promise<void> {
  const started = performance.now();
  console.log('aml-lineage benchmark');
  console.log(`  node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown'}), ${process.platform}/${process.arch}`);

  // One seeded stream: the first events feed the store bench, all of them the CPU bench.
  const events = eventStream(Math.max(NORMALIZATION_EVENTS, STORE_EVENTS));
  const mix = new Map<string, number>();
  for (const e of events) mix.set(e.type, (mix.get(e.type) ?? 0) + 1);
  const schemas = events.filter((e) => e.schema === 'eventgrid').length;
  console.log(
    `  stream: ${events.length} events, ${[...mix].map(([t, n]) => `${t} ${n}`).join(', ')}; ` +
      `${schemas} Event Grid schema, ${events.length - schemas} CloudEvents`,
  );

  runNormalizationBench(events.slice(0, NORMALIZATION_EVENTS));
  await runStoreBench(events.slice(0, STORE_EVENTS));

  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
