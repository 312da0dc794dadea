import type { Container, ItemDefinition, SqlQuerySpec } from '@azure/cosmos';
import type { StoreMeter } from './storeMeter.js';

/** Reads shared by the stores: metered query pages, parallel point reads, system fields. */

/** Fields Cosmos DB adds to every document; not part of what we stored. */
export const SYSTEM_FIELDS = ['_rid', '_self', '_etag', '_attachments', '_ts'];

export function stripSystem(doc: Record<string, unknown>): Record<string, unknown> {
  const out = { ...doc };
  for (const f of SYSTEM_FIELDS) delete out[f];
  return out;
}

/**
 * A query's results page by page, each page metered (a failed page is a round trip too). With a
 * partition key the query goes to that partition alone, without a query-plan round trip first.
 */
export async function* queryPages<T = ItemDefinition>(
  container: Container,
  meter: StoreMeter,
  query: SqlQuerySpec | string,
  pageSize?: number,
  partitionKey?: string,
): AsyncGenerator<T[]> {
  const iterator = container.items.query<ItemDefinition>(query, {
    ...(pageSize === undefined ? {} : { maxItemCount: pageSize }),
    ...(partitionKey === undefined ? {} : { partitionKey }),
  });
  while (iterator.hasMoreResults()) {
    let page;
    try {
      page = await iterator.fetchNext();
      meter.record(page);
    } catch (error) {
      meter.recordError(error);
      throw error;
    }
    yield (page.resources ?? []) as T[];
  }
}

/**
 * Point reads of many documents at once (each id with its partition), `concurrency` in flight:
 * one round trip of latency however many there are. Found documents by `pk|id`; missing ones are
 * left out.
 */
export async function readMany(
  container: Container,
  meter: StoreMeter,
  keys: Array<{ id: string; pk: string }>,
  concurrency = 32,
): Promise<Map<string, ItemDefinition>> {
  const out = new Map<string, ItemDefinition>();
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, keys.length) }, async () => {
    while (next < keys.length) {
      const key = keys[next++] as { id: string; pk: string };
      try {
        const response = await container.item(key.id, key.pk).read<ItemDefinition>();
        meter.record(response);
        if (response.resource) out.set(`${key.pk}|${key.id}`, response.resource);
      } catch (error) {
        meter.recordError(error);
        if ((error as { code?: unknown }).code !== 404) throw error;
      }
    }
  });
  await Promise.all(lanes);
  return out;
}
