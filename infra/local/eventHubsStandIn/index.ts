import { EventHubsNamespace } from './server.js';
import type { EventHubOptions } from './hub.js';

/**
 * The local Event Hubs stand-in (see server.ts for what it speaks). `npm start` runs one unless
 * EVENTHUB_CONNECTION is set; tests start their own on a free port.
 */
export { EventHubsNamespace } from './server.js';
export type { EventHubOptions } from './hub.js';

/** The shared access key pair the Event Hubs emulator documents for its connection string. */
export const EMULATOR_KEY_NAME = 'RootManageSharedAccessKey';
export const EMULATOR_KEY = 'SAS_KEY_VALUE';

export interface EventHubsStandInOptions {
  hubs: EventHubOptions[];
  /** 0 (the default) picks a free port; the emulator listens on 5672. */
  port?: number;
  /** When `port` is taken, listen on a free one instead of failing (the local host's default port). */
  anyPortIfTaken?: boolean;
  host?: string;
  keys?: Record<string, string>;
  /** How long events are kept; 1 day by default (the Basic and Standard tiers' default retention). */
  retentionMs?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

export interface RunningEventHubsStandIn {
  /** `sb://127.0.0.1:PORT`, the namespace endpoint. */
  url: string;
  port: number;
  /** A connection string for the namespace, or for one hub (with EntityPath). */
  connectionString(hub?: string): string;
  namespace: EventHubsNamespace;
  stop(): Promise<void>;
}

export async function startEventHubsStandIn(options: EventHubsStandInOptions): Promise<RunningEventHubsStandIn> {
  const keys = options.keys ?? { [EMULATOR_KEY_NAME]: EMULATOR_KEY };
  const [keyName, key] = Object.entries(keys)[0] ?? [];
  if (keyName === undefined || key === undefined) throw new Error('the Event Hubs stand-in needs at least one shared access key');
  const namespace = new EventHubsNamespace({
    hubs: options.hubs,
    keys,
    retentionMs: options.retentionMs ?? 24 * 60 * 60 * 1000,
    now: options.now ?? (() => new Date()),
    log: options.log ?? ((line) => console.error(line)),
  });
  const host = options.host ?? '127.0.0.1';
  const port = await namespace.listen(options.port ?? 0, host).catch((error: unknown) => {
    if (!options.anyPortIfTaken || (error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return namespace.listen(0, host);
  });
  const url = `sb://${host}:${port}`;
  return {
    url,
    port,
    namespace,
    connectionString: (hub) =>
      [
        `Endpoint=${url}`,
        `SharedAccessKeyName=${keyName}`,
        `SharedAccessKey=${key}`,
        'UseDevelopmentEmulator=true',
        ...(hub ? [`EntityPath=${hub}`] : []),
      ].join(';'),
    stop: () => namespace.close(),
  };
}
