import type { Container, ItemDefinition, OperationInput, OperationResponse, SqlQuerySpec } from '@azure/cosmos';
import { mapLimited } from '../util/mapLimited.js';
import type { StoreMeter } from './storeMeter.js';
import { metered, unlessNotFound } from './storeErrors.js';

/** Reads shared by the stores: metered query pages, bulk reads, system fields. */

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

/** Operations one bulk call takes: the SDK refuses more than 100 for one partition key range. */
export const BULK_MAX_OPERATIONS = 100;

/**
 * Operations sent in bulk (`container.items.bulk`, non-atomic): the SDK groups them by the
 * partition key range their partition key hashes to and sends one request per range (cut further
 * at its request body limit, about 220 KB), all ranges in flight at once. On Cosmos DB a range is a
 * physical partition, so an event's documents cost one request per physical partition they sit
 * in; the embedded server has one. Request units do not drop: the service answers each
 * operation with its own request charge, and ruEstimate.ts charges each as if done alone. Each
 * operation's answer comes back in order, a failure as its status (a 404 read, a 409 create, a 412
 * replace, a 429 throttled operation); the caller settles them.
 *
 * Undefined when the call failed as a whole: the SDK reports that as a plain error without the
 * status (and loses the answers of ranges that did answer), so the caller does those operations on
 * their own, whose failures say what they were.
 *
 * `bulk`, not `executeBulkOperations`, though @azure/cosmos 4.9 marks it deprecated: the newer
 * call waits a second for each partly filled group of operations (about 1,030 ms a call against
 * 9 ms, measured on the embedded server), which one event's handful of documents always is. This
 * one leaves throttled operations to the caller (as 429), which `readMany` and the graph writer
 * redo on their own, where the SDK's throttle retries apply.
 */
export async function bulk(
  container: Container,
  meter: StoreMeter,
  operations: readonly OperationInput[],
): Promise<OperationResponse[] | undefined> {
  if (operations.length > BULK_MAX_OPERATIONS) throw new Error(`a bulk call takes at most ${BULK_MAX_OPERATIONS} operations`);
  try {
    // Copies: the SDK rewrites each operation's partition key into its wire form.
    const response = await container.items.bulk(operations.map((o) => ({ ...o })));
    meter.recordBulk(
      response,
      operations.map((o) => o.operationType === 'Read'),
    );
    return response.length === operations.length ? response : undefined;
  } catch (error) {
    meter.recordError(error);
    return undefined;
  }
}

/** `items` cut into runs of at most `size`. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Many documents at once (each id with its partition) by bulk reads: one request per partition key
 * range for every 100 documents, `concurrency` requests in flight. Found documents by `keyOf`, with
 * their `_etag`; missing ones (404) are left out. A read the bulk answer did not settle (throttled,
 * failed, or the whole call failed) is done again as a point read, where the SDK's retries apply
 * and a failure is the domain's store error: nothing is dropped.
 */
export async function readMany(
  container: Container,
  meter: StoreMeter,
  keys: DocKey[],
  concurrency = 8,
): Promise<Map<string, ItemDefinition>> {
  const out = new Map<string, ItemDefinition>();
  const unsettled: DocKey[] = [];
  await mapLimited(chunked(keys, BULK_MAX_OPERATIONS), concurrency, async (chunk) => {
    const answers = await bulk(
      container,
      meter,
      chunk.map(({ id, pk }) => ({ operationType: 'Read', id, partitionKey: pk })),
    );
    for (const [i, key] of chunk.entries()) {
      const answer = answers?.[i];
      if (answer?.statusCode === 200 && answer.resourceBody) out.set(keyOf(key), answer.resourceBody);
      else if (answer?.statusCode !== 404) unsettled.push(key);
    }
  });
  await mapLimited(unsettled, 32, async (key) => {
    const response = await unlessNotFound(metered(meter, `reading ${key.id}`, () => container.item(key.id, key.pk).read<ItemDefinition>()));
    if (response?.resource) out.set(keyOf(key), response.resource);
  });
  return out;
}
