import { BlobServiceClient } from '@azure/storage-blob';
import { loadSettings, type Settings } from './config.js';
import { CONTAINERS, container, createCosmosClient } from './store/cosmosClient.js';
import { DeadLetterStore } from './store/deadLetters.js';
import { EventLog } from './store/eventLog.js';
import { GraphStore } from './store/graphStore.js';
import { RequestMeter } from './store/requestMeter.js';
import type { CaptureDeps } from './usecases/captureEvent.js';

/**
 * The composition root: settings validated once, SDK clients built once per process and shared
 * by every invocation. Handlers ask for `getServices()` and never construct clients themselves.
 */
export interface Services {
  settings: Settings;
  meter: RequestMeter;
  graph: GraphStore;
  eventLog: EventLog;
  deadLetters: DeadLetterStore;
  capture: CaptureDeps;
  /** One cheap round trip that proves the graph store answers. */
  ping(): Promise<void>;
}

export async function buildServices(settings: Settings, meter = new RequestMeter()): Promise<Services> {
  const cosmos = await createCosmosClient(settings);
  const graph = new GraphStore(container(cosmos, settings.COSMOS_DATABASE, CONTAINERS.graph), meter);
  const eventLog = new EventLog(container(cosmos, settings.COSMOS_DATABASE, CONTAINERS.events), meter);
  const blobs = await createBlobServiceClient(settings);
  const deadLetters = new DeadLetterStore(blobs.getContainerClient(settings.DEADLETTER_CONTAINER));
  return {
    settings,
    meter,
    graph,
    eventLog,
    deadLetters,
    capture: { eventLog, graph, deadLetters, now: () => new Date() },
    ping: async () => {
      await cosmos.database(settings.COSMOS_DATABASE).container(CONTAINERS.graph).read();
    },
  };
}

async function createBlobServiceClient(settings: Settings): Promise<BlobServiceClient> {
  if (settings.STORAGE_CONNECTION_STRING) return BlobServiceClient.fromConnectionString(settings.STORAGE_CONNECTION_STRING);
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new BlobServiceClient(settings.STORAGE_BLOB_ENDPOINT as string, new DefaultAzureCredential());
}

let services: Promise<Services> | undefined;

export function getServices(): Promise<Services> {
  services ??= buildServices(loadSettings()).catch((error: unknown) => {
    services = undefined; // let the next invocation try again, e.g. after a settings fix
    throw error;
  });
  return services;
}
