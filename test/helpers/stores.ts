import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { inject } from 'vitest';
import type { Settings } from '../../shared/config.js';
import { loadSettings } from '../../shared/config.js';
import { buildServices, getServices, type Services } from '../../shared/composition.js';
import type { EnrichmentMessage } from '../../shared/ingest/enrichmentMessage.js';
import { CONTAINERS, container, createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';
import { enrich } from '../../shared/usecases/enrich.js';

/** Settings for the run's embedded Cosmos server and Azurite, with a database and container of one's own. */
export function testSettings(overrides: Record<string, string> = {}): Settings {
  const suffix = randomUUID().slice(0, 8);
  return loadSettings({
    COSMOS_ENDPOINT: inject('cosmosEndpoint'),
    COSMOS_KEY: inject('cosmosKey'),
    COSMOS_DATABASE: `test-${suffix}`,
    STORAGE_CONNECTION_STRING: inject('storageConnectionString'),
    DEADLETTER_CONTAINER: `deadletters-${suffix}`,
    ENRICHMENT_QUEUE: `enrichment-${suffix}`,
    CLOSURE_QUEUE: `closures-${suffix}`,
    FANOUT_QUEUE: `fanout-${suffix}`,
    IDENTITY_CONTAINER: `identities-${suffix}`,
    // Checkpoints are archived by tree size: two logs sharing a container would look forked.
    TLOG_CHECKPOINT_CONTAINER: `checkpoints-${suffix}`,
    OPERATIONS_QUEUE: `operations-${suffix}`,
    OPERATIONS_CONTAINER: `operations-${suffix}`,
    ...overrides,
  });
}

/** Real stores (Cosmos through @azure/cosmos, Blob through @azure/storage-blob), freshly created. */
export async function freshServices(overrides: Record<string, string> = {}, now?: () => Date): Promise<Services> {
  const settings = testSettings(overrides);
  const client = await createCosmosClient(settings);
  await ensureCosmos(client, settings.COSMOS_DATABASE);
  client.dispose();
  const services = await buildServices(settings);
  await services.ensureStorage();
  if (now) services.capture.now = services.enrich.now = now;
  return services;
}

type Containers = Record<keyof typeof CONTAINERS, Container>;
const containers = new WeakMap<Services, Promise<Containers>>();

/**
 * The Cosmos containers behind `services`, straight from the SDK: for setting up documents no
 * product path writes (old events, bare documents) and for inspecting what was stored.
 */
export function cosmosContainers(services: Services): Promise<Containers> {
  const { settings } = services;
  const found =
    containers.get(services) ??
    createCosmosClient(settings).then(
      (client) =>
        Object.fromEntries(
          Object.entries(CONTAINERS).map(([name, id]) => [name, container(client, settings.COSMOS_DATABASE, id)]),
        ) as Containers,
    );
  containers.set(services, found);
  return found;
}

/** The enrichment messages waiting on the queue, removed from it (nothing is run). */
export async function takeEnrichmentMessages(services: Services): Promise<EnrichmentMessage[]> {
  const queue = services.enrichmentQueue.client;
  const out: EnrichmentMessage[] = [];
  for (;;) {
    const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (batch.length === 0) return out;
    for (const m of batch) {
      out.push(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as EnrichmentMessage);
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

/**
 * Works the enrichment queue (Azurite) until it is empty, as enrichResource does; how many
 * messages it ran. Throws if the follow-ups never come to rest.
 */
export async function enrichUntilRest(services: Services): Promise<number> {
  const queue = services.enrichmentQueue.client;
  let worked = 0;
  for (let round = 0; round < 60; round++) {
    const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (batch.length === 0) return worked;
    for (const m of batch) {
      await enrich(services.enrich, JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as EnrichmentMessage);
      await queue.deleteMessage(m.messageId, m.popReceipt);
      worked++;
    }
  }
  throw new Error('the enrichment queue did not come to rest');
}

/** The app settings a function handler reads to reach the stores, as in Azure. */
const HANDLER_SETTINGS = [
  'COSMOS_ENDPOINT',
  'COSMOS_KEY',
  'COSMOS_DATABASE',
  'STORAGE_CONNECTION_STRING',
  'DEADLETTER_CONTAINER',
  'ENRICHMENT_QUEUE',
  'FANOUT_QUEUE',
  'CLOSURE_QUEUE',
] as const;

/**
 * For tests that call the function handlers: points the app settings (process.env) at a database
 * and containers of the test's own, plus `extra`, creates them, and returns the services the
 * handlers then share. The caller restores process.env afterwards.
 */
export async function servicesForHandlers(extra: Record<string, string> = {}): Promise<Services> {
  const settings = testSettings();
  for (const name of HANDLER_SETTINGS) process.env[name] = String(settings[name]);
  Object.assign(process.env, extra);
  const client = await createCosmosClient(settings);
  await ensureCosmos(client, settings.COSMOS_DATABASE);
  client.dispose();
  const services = await getServices();
  await services.ensureStorage();
  return services;
}
