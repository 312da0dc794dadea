import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { createCosmosClient, CONTAINERS } from '../../shared/store/cosmosClient.js';
import { replay } from '../../shared/usecases/replay.js';

/**
 * `npm run replay [-- --rebuild] [-- --dead-letters-only]`: re-projects the raw event log into
 * the graph and re-processes pending dead letters, against the stores named by the settings
 * (COSMOS_ENDPOINT, COSMOS_KEY or a signed-in identity, STORAGE_CONNECTION_STRING or
 * STORAGE_BLOB_ENDPOINT). `--rebuild` first deletes every graph document, for when a fix changes
 * what the projection produces rather than adds to it.
 */
async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const unknown = [...args].filter((a) => !['--rebuild', '--dead-letters-only', '--events-only'].includes(a));
  if (unknown.length > 0) throw new Error(`unknown option(s) ${unknown.join(' ')}; use --rebuild, --events-only or --dead-letters-only`);
  const settings = loadSettings();
  const services = await buildServices(settings);
  if (args.has('--rebuild')) {
    const client = await createCosmosClient(settings);
    const graph = client.database(settings.COSMOS_DATABASE).container(CONTAINERS.graph);
    let deleted = 0;
    for (const doc of await services.graph.all()) {
      await graph.item(doc.id, doc.pk).delete();
      deleted++;
    }
    console.log(`deleted ${deleted} graph documents`);
  }
  const started = Date.now();
  const report = await replay(services.capture, {
    events: !args.has('--dead-letters-only'),
    deadLetters: !args.has('--events-only'),
    onProgress: (n) => {
      if (n % 500 === 0) console.log(`  ${n} events replayed`);
    },
  });
  console.log(JSON.stringify({ ...report, seconds: (Date.now() - started) / 1000, cosmosRequests: services.meter.requests }, null, 2));
}

main().catch((error: unknown) => {
  console.error(`replay failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
