import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { parseWorkspaceId } from '../../shared/graph/keys.js';
import { backfill, type BackfillState } from '../../shared/usecases/backfill.js';

/**
 * `npm run backfill -- --workspace /subscriptions/…/workspaces/WS [--state FILE] [--restart]`
 *
 * Imports an existing workspace (jobs, models and versions, data, environments, code, computes,
 * online endpoints and deployments) through the REST API into the graph. Ctrl-C stops after the
 * current item and saves where it was; running the same command again resumes. Safe to repeat.
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const workspace = arg('--workspace');
  const ws = workspace ? parseWorkspaceId(workspace) : undefined;
  if (!workspace || !ws) throw new Error('--workspace must be the ARM id of an Azure ML workspace');
  const statePath = resolve(arg('--state') ?? `.backfill/${ws.subscription}-${ws.resourceGroup}-${ws.name}.json`);
  let state: BackfillState | undefined;
  if (!process.argv.includes('--restart')) {
    state = await readFile(statePath, 'utf8').then(
      (t) => JSON.parse(t) as BackfillState,
      () => undefined,
    );
    if (state && !state.finished) console.log(`resuming from ${statePath} (${state.done.length} lists done)`);
  }
  const services = await buildServices(loadSettings());
  let stop = false;
  process.on('SIGINT', () => {
    if (stop) process.exit(130);
    stop = true;
    console.log('stopping after the current item (Ctrl-C again to abort now)');
  });
  const started = Date.now();
  const result = await backfill(services.enrich, workspace, {
    state,
    shouldStop: () => stop,
    save: async (s) => {
      await mkdir(dirname(statePath), { recursive: true });
      await writeFile(`${statePath}.tmp`, JSON.stringify(s, null, 2));
      await rename(`${statePath}.tmp`, statePath); // never a half-written state file
    },
    onProgress: (s, message) => console.log(`  ${message}; imported ${JSON.stringify(s.counts)}`),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    JSON.stringify(
      {
        finished: result.finished,
        counts: result.counts,
        seconds,
        restRequests: services.arm.requests,
        cosmosRequests: services.meter.requests,
        state: statePath,
      },
      null,
      2,
    ),
  );
  if (!result.finished) process.exitCode = 130;
}

main().catch((error: unknown) => {
  console.error(`backfill failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
