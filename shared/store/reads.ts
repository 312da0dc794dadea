import type { Container, ItemDefinition, SqlQuerySpec } from '@azure/cosmos';
import type { StoreMeter } from './storeMeter.js';
import { metered, unlessNotFound } from './storeErrors.js';

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
    const page = await metered(meter, 'querying', () => iterator.fetchNext());
    yield (page.resources ?? []) as T[];
  }
}

/** A document as Cosmos returns it: our fields, its version (`_etag`) and its last-modified second (`_ts`). */
export interface StoredDoc {
  id: string;
  pk: string;
  _ts: number;
  _etag: string;
  [field: string]: unknown;
}

/** Where a document sits: its partition and id. */
export interface DocKey {
  id: string;
  pk: string;
}

/** A document's key (partition and id) as one string, for maps. */
export function keyOf(key: DocKey): string {
  return `${key.pk}|${key.id}`;
}

/**
 * Point reads of many documents at once (each id with its partition), `concurrency` in flight:
 * one round trip of latency however many there are. Found documents by `keyOf`; missing ones are
 * left out.
 */
export async function readMany(
  container: Container,
  meter: StoreMeter,
  keys: DocKey[],
  concurrency = 32,
): Promise<Map<string, ItemDefinition>> {
  const out = new Map<string, ItemDefinition>();
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, keys.length) }, async () => {
    while (next < keys.length) {
      const key = keys[next++] as DocKey;
      const response = await unlessNotFound(
        metered(meter, `reading ${key.id}`, () => container.item(key.id, key.pk).read<ItemDefinition>()),
      );
      if (response?.resource) out.set(keyOf(key), response.resource);
    }
  });
  await Promise.all(lanes);
  return out;
}
