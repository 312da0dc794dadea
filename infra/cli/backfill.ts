import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import { parseWorkspaceId } from '../../shared/graph/keys.js';
import { backfill, TOP_LEVEL, type BackfillState } from '../../shared/usecases/backfill.js';
import { isMain, progressBar, runCommand, type CommandSpec, type Values } from './command.js';

export const backfillSpec: CommandSpec = {
  name: 'npm run backfill --',
  summary:
    'Imports an existing workspace (jobs, models and versions, data, environments, code, computes, online endpoints and deployments) ' +
    'through the Azure ML REST API into the graph.',
  options: {
    workspace: { type: 'string', short: 'w', value: 'ARM_ID', description: 'the workspace: /subscriptions/…/workspaces/NAME (required)' },
    state: { type: 'string', value: 'FILE', description: 'where progress is saved (default .backfill/SUB-RG-NAME.json)' },
    restart: { type: 'boolean', description: 'ignore saved progress and start over' },
  },
  notes: ['Ctrl-C stops after the current item and saves where it was; the same command resumes. Safe to repeat.'],
};

export function checkBackfill(values: Values): string | undefined {
  if (typeof values.workspace !== 'string') return '--workspace is required: the ARM id of an Azure ML workspace';
  if (!parseWorkspaceId(values.workspace)) return `--workspace must be the ARM id of an Azure ML workspace, got "${values.workspace}"`;
  return undefined;
}

async function main(values: Values): Promise<void> {
  const workspace = values.workspace as string;
  const ws = parseWorkspaceId(workspace) as NonNullable<ReturnType<typeof parseWorkspaceId>>;
  const statePath = resolve(
    typeof values.state === 'string' ? values.state : `.backfill/${ws.subscription}-${ws.resourceGroup}-${ws.name}.json`,
  );
  let state: BackfillState | undefined;
  if (!values.restart) {
    state = await readFile(statePath, 'utf8').then(
      (t) => JSON.parse(t) as BackfillState,
      () => undefined,
    );
    if (state && !state.finished) console.error(`resuming from ${statePath} (${state.done.length} lists done)`);
  }
  const services = await buildServices(loadSettings());
  let stop = false;
  process.on('SIGINT', () => {
    if (stop) process.exit(130);
    stop = true;
    console.error('\nstopping after the current item (Ctrl-C again to abort now)');
  });
  const lists = TOP_LEVEL.map((t) => t.path);
  const listsDone = (s: BackfillState) => lists.filter((l) => s.done.includes(l)).length;
  const imported = (s: BackfillState) => Object.entries(s.counts).reduce((n, [k, v]) => n + (k.includes(':') ? 0 : v), 0);
  const bar = progressBar('backfill', 'lists');
  bar.start(lists.length, state ? listsDone(state) : 0, { detail: '' });
  const started = Date.now();
  const result = await backfill(services.enrich, workspace, {
    state,
    shouldStop: () => stop,
    save: async (s) => {
      await mkdir(dirname(statePath), { recursive: true });
      await writeFile(`${statePath}.tmp`, JSON.stringify(s, null, 2));
      await rename(`${statePath}.tmp`, statePath); // never a half-written state file
    },
    onProgress: (s) => bar.update(listsDone(s), { detail: ` | ${imported(s)} resources imported | ${s.current?.unit ?? ''}` }),
  });
  bar.update(listsDone(result));
  bar.stop();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    JSON.stringify(
      {
        finished: result.finished,
        counts: result.counts,
        seconds,
        restRequests: services.arm.requests,
        cosmosRequests: services.meter.storeRequests,
        state: statePath,
      },
      null,
      2,
    ),
  );
  if (!result.finished) process.exitCode = 130;
}

if (isMain(import.meta.url)) runCommand(backfillSpec, checkBackfill, main);
