import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { rebuildClosures } from '../../shared/usecases/closures.js';

/**
 * `npm run closures`: computes every node's closure documents from the stored links. Run it once
 * after upgrading from a version without closures (the migration), or to repair closures a
 * propagation budget marked truncated. Safe to repeat; lookups work throughout (they walk where a
 * closure is missing).
 */
async function main(): Promise<void> {
  const services = await buildServices(loadSettings());
  const started = Date.now();
  let last = 0;
  const written = await rebuildClosures(services.graph, (done, total) => {
    if (done - last >= 1000 || done === total) {
      last = done;
      console.log(`  ${done} / ${total} nodes`);
    }
  });
  console.log(
    JSON.stringify({ closureDocuments: written, seconds: (Date.now() - started) / 1000, cosmosRequests: services.meter.requests }, null, 2),
  );
}

main().catch((error: unknown) => {
  console.error(`closure rebuild failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
