import { CosmosClient, type Container, type Database } from '@azure/cosmos';
import { Agent } from 'node:https';
import type { Settings } from '../config.js';
import { isLoopback } from '../util/loopback.js';

export const CONTAINERS = {
  /** Nodes and edges; partition key = the node a document belongs to. */
  graph: 'graph',
  /** Append-only raw events; partition key = content hash. */
  events: 'events',
  /** Prediction requests from endpoint traffic logs; partition key = request id. */
  requests: 'requests',
  /** The evidence log's tiles, state and checkpoints; one partition, `tlog` (see store/tlogStore.ts). */
  tlog: 'tlog',
} as const;

/**
 * Managed identity unless a key is configured. TLS checks and endpoint discovery are turned off
 * only for a loopback endpoint: the embedded test server presents a self-signed certificate and
 * has no regional endpoints to discover.
 */
export async function createCosmosClient(settings: Settings): Promise<CosmosClient> {
  const local = isLoopback(settings.COSMOS_ENDPOINT);
  const common = {
    endpoint: settings.COSMOS_ENDPOINT,
    connectionPolicy: local ? { enableEndpointDiscovery: false } : undefined,
    agent: local ? new Agent({ rejectUnauthorized: false, keepAlive: true }) : undefined,
  };
  if (settings.COSMOS_KEY) return new CosmosClient({ ...common, key: settings.COSMOS_KEY });
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new CosmosClient({ ...common, aadCredentials: new DefaultAzureCredential() });
}

/**
 * Creates the database and containers when missing. Used by the local host, tests and the setup
 * command; in Azure the infrastructure templates create them and the app's identity holds only
 * data-plane rights.
 */
export async function ensureCosmos(client: CosmosClient, databaseId: string): Promise<Database> {
  const { database } = await client.databases.createIfNotExists({ id: databaseId });
  for (const id of Object.values(CONTAINERS)) {
    await database.containers.createIfNotExists({ id, partitionKey: { paths: ['/pk'] } });
  }
  return database;
}

export function container(client: CosmosClient, databaseId: string, id: string): Container {
  return client.database(databaseId).container(id);
}
