import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { rebuildClosures } from '../../shared/usecases/closures.js';
import { isMain, progressBar, runCommand, type CommandSpec } from './command.js';

export const closuresSpec: CommandSpec = {
  name: 'npm run closures --',
  summary:
    "Computes every node's closure documents from the stored links: once after upgrading from a version without closures, or to " +
    'rewrite closures stored in the shape before pages (one document, cut at 5,000 members) all at once. Safe to repeat; lookups work ' +
    'throughout (they walk where a closure is missing or was cut).',
  options: {},
};

async function main(): Promise<void> {
  const services = await buildServices(loadSettings());
  const started = Date.now();
  const bar = progressBar('closures', 'nodes');
  let begun = false;
  const written = await rebuildClosures(services.graph, (done, total) => {
    if (!begun) bar.start(total, 0, { detail: '' });
    begun = true;
    bar.update(done);
  });
  if (begun) bar.stop();
  console.log(
    JSON.stringify(
      { closureDocuments: written, seconds: (Date.now() - started) / 1000, cosmosRequests: services.meter.storeRequests },
      null,
      2,
    ),
  );
}

if (isMain(import.meta.url)) runCommand(closuresSpec, undefined, main);
