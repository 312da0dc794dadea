import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EMULATOR_KEY, EMULATOR_KEY_NAME } from '../../infra/local/eventHubsStandIn/index.js';
import { repositoryRoot } from './fixtures.js';

/** The repository root, from the sources (tests) or from dist/ (the bench). */
export const ROOT = repositoryRoot();
const MAIN = resolve(ROOT, 'dist', 'infra', 'local', 'main.js');

export interface SpawnedHost {
  url: string;
  output(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  child: ChildProcess;
}

/**
 * Starts `npm start`'s program (the compiled local host) as a child process and waits until it
 * listens. An `undefined` in `env` removes that variable (to run on the host's own defaults).
 */
export async function spawnHost(env: Record<string, string | undefined> = {}): Promise<SpawnedHost> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  const merged: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    LOCAL_COSMOS_PORT: '0',
    LOCAL_AZURITE_BLOB_PORT: '0',
    LOCAL_AZURITE_QUEUE_PORT: '0',
    LOCAL_AZURITE_TABLE_PORT: '0',
    LOCAL_EVENTHUBS_PORT: '0',
    LOCAL_AZUREML_PORT: '0',
    ...env,
  };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1] as string);
      }
    };
    child.stdout?.on('data', check);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null) child.kill(signal);
      const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exit;
      clearTimeout(timeout);
      return code;
    },
  };
}

/** The connection string of the Event Hubs stand-in a spawned host started (as it prints it), for producers such as `npm run sample`. */
/** The address of the Azure ML REST stand-in the host started, as `npm start` prints it. */
export function azureMlStandInUrl(host: SpawnedHost): string {
  const url = /Azure ML REST API \(stand-in[^)]*\): (http:\/\/127\.0\.0\.1:\d+)/.exec(host.output())?.[1];
  if (!url) throw new Error(`the REST stand-in URL is not in the host output:\n${host.output()}`);
  return url;
}

export function eventHubsConnection(host: SpawnedHost): string {
  const url = /Event Hubs \(stand-in[^)]*\): (sb:\/\/127\.0\.0\.1:\d+)/.exec(host.output())?.[1];
  if (!url) throw new Error(`the Event Hubs stand-in is not in the host output:\n${host.output()}`);
  return `Endpoint=${url};SharedAccessKeyName=${EMULATOR_KEY_NAME};SharedAccessKey=${EMULATOR_KEY};UseDevelopmentEmulator=true`;
}
