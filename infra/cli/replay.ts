import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { createCosmosClient, CONTAINERS } from '../../shared/store/cosmosClient.js';
import { replay } from '../../shared/usecases/replay.js';
import { confirm, isMain, progressBar, runCommand, type CommandSpec, type Values } from './command.js';

export const replaySpec: CommandSpec = {
  name: 'npm run replay --',
  summary:
    'Re-projects the raw event log into the graph, then re-processes pending dead letters, against the stores the settings name ' +
    '(COSMOS_ENDPOINT with COSMOS_KEY or a signed-in identity; STORAGE_CONNECTION_STRING or STORAGE_BLOB_ENDPOINT).',
  options: {
    'events-only': { type: 'boolean', description: 'replay the event log, leave dead letters alone' },
    'dead-letters-only': { type: 'boolean', description: 're-process pending dead letters only' },
    rebuild: { type: 'boolean', description: 'delete every graph document first (for fixes that change, not add, facts)' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask before --rebuild deletes the graph' },
  },
  notes: ['Safe to repeat: projection is idempotent and order-free. --rebuild asks for confirmation unless --yes is given.'],
};

/** Flags that cannot be meant together. */
export function checkReplay(values: Values): string | undefined {
  if (values['events-only'] && values['dead-letters-only'])
    return '--events-only and --dead-letters-only together would replay nothing; pick one (or neither, for both)';
  if (values.rebuild && values['dead-letters-only'])
    return '--rebuild deletes the graph and --dead-letters-only replays no event to rebuild it; drop one of them';
  if (values.yes && !values.rebuild) return '--yes only confirms --rebuild; there is nothing to confirm without it';
  return undefined;
}

async function main(values: Values): Promise<void> {
  if (values.rebuild && !values.yes) {
    const ok = await confirm('--rebuild deletes every graph document before replaying the event log. Continue?');
    if (!ok) {
      process.stderr.write('not confirmed: nothing deleted (pass --yes to run unattended)\n');
      process.exitCode = 1;
      return;
    }
  }
  const settings = loadSettings();
  const services = await buildServices(settings);
  const client = await createCosmosClient(settings);
  const database = client.database(settings.COSMOS_DATABASE);
  if (values.rebuild) {
    const docs = await services.graph.all();
    const graph = database.container(CONTAINERS.graph);
    const bar = progressBar('deleting graph', 'documents');
    bar.start(docs.length, 0, { detail: '' });
    for (const doc of docs) {
      await graph.item(doc.id, doc.pk).delete();
      bar.increment();
    }
    bar.stop();
  }
  const events = !values['dead-letters-only'];
  // The total for the bar: the log's size (tombstoned events are counted but skipped, so it may end early).
  const total = events
    ? ((await database.container(CONTAINERS.events).items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll()).resources[0] ?? 0)
    : 0;
  const bar = progressBar('replaying events', 'events');
  if (events) bar.start(total, 0, { detail: '' });
  const started = Date.now();
  const report = await replay(services.capture, {
    events,
    deadLetters: !values['events-only'],
    onProgress: (n) => bar.update(Math.min(n, total), { detail: n > total ? ` (+${n - total})` : '' }),
  });
  if (events) bar.stop();
  client.dispose();
  console.log(JSON.stringify({ ...report, seconds: (Date.now() - started) / 1000, cosmosRequests: services.meter.storeRequests }, null, 2));
}

if (isMain(import.meta.url)) runCommand(replaySpec, checkReplay, main);
