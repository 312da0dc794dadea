import type { TestProject } from 'vitest/node';
import { startAzurite, startCosmos } from '../../infra/local/embeddedServices.js';

/**
 * One embedded Cosmos DB server and one Azurite for the whole run, on free loopback ports.
 * Test files isolate themselves with their own database and blob container names.
 */
export default async function setup(project: TestProject) {
  const [cosmos, azurite] = await Promise.all([startCosmos(0), startAzurite({ blob: 0, queue: 0, table: 0 })]);
  project.provide('cosmosEndpoint', cosmos.url);
  project.provide('cosmosKey', cosmos.key);
  project.provide('storageConnectionString', azurite.connectionString);
  return async () => {
    await Promise.all([cosmos.stop(), azurite.stop()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    cosmosEndpoint: string;
    cosmosKey: string;
    storageConnectionString: string;
  }
}
