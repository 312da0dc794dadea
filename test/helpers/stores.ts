import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { Settings } from '../../shared/config.js';
import { loadSettings } from '../../shared/config.js';
import { buildServices, type Services } from '../../shared/composition.js';
import { createCosmosClient, ensureCosmos } from '../../shared/store/cosmosClient.js';

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
