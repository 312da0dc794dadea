import type { Container, ItemDefinition } from '@azure/cosmos';
import { z } from 'zod';
import { ConflictStoreError, CorruptDocumentError } from '../errors.js';
import type { StoreMeter } from './storeMeter.js';
import { keyOf, queryPages, readMany } from './reads.js';
import { metered, unlessNotFound } from './storeErrors.js';
import { isTombstone, parseTombstone, type Tombstone } from './tombstone.js';

/**
 * The append-only evidence: every event exactly as received, keyed by its content hash. The graph
 * is a projection of this log and can be rebuilt from it. Nothing here is ever updated.
 */
export const rawEventSchema = z.object({
  /** Hex digest of the content hash; the same bytes delivered twice are one record. */
  id: z.string(),
  pk: z.string(),
  hash: z.string(),
  /** Channel that delivered it: 'eventgrid', 'eventhubs', ... */
  channel: z.string(),
  receivedAt: z.string(),
  /** Envelope identifiers when they could be read (the event may be invalid). */
  eventId: z.string().optional(),
  eventType: z.string().optional(),
  eventSource: z.string().optional(),
  eventTime: z.string().optional(),
  /** Channel metadata, e.g. Event Hubs partition and sequence number. */
  delivery: z.record(z.string(), z.unknown()).optional(),
  body: z.unknown(),
});
export type RawEvent = z.infer<typeof rawEventSchema>;

export class EventLog {
  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  /** Appends the record; 'duplicate' when the same content was already logged. */
  async append(record: RawEvent): Promise<'appended' | 'duplicate'> {
    try {
      await metered(this.meter, `appending ${record.id} to the event log`, () => this.container.items.create(record));
      return 'appended';
    } catch (error) {
      if (error instanceof ConflictStoreError) return 'duplicate';
      throw error;
    }
  }

  async get(id: string): Promise<RawEvent | undefined> {
    const response = await unlessNotFound(
      metered(this.meter, `reading event ${id}`, () => this.container.item(id, id).read<ItemDefinition>()),
    );
    return response?.resource && !isTombstone(response.resource) ? parseRaw(response.resource) : undefined;
  }

  /** The event, or the tombstone it left when purged under a retention policy; undefined when neither is there. */
  async lookup(id: string): Promise<{ event: RawEvent } | { tombstone: Tombstone } | undefined> {
    const response = await unlessNotFound(
      metered(this.meter, `reading event ${id}`, () => this.container.item(id, id).read<ItemDefinition>()),
    );
    if (!response?.resource) return undefined;
    if (!isTombstone(response.resource)) return { event: parseRaw(response.resource) };
    const tombstone = parseTombstone(response.resource);
    if (!tombstone) throw new CorruptDocumentError(`the tombstone of event ${id} does not match its schema`);
    return { tombstone };
  }

  /**
   * The ids among `ids` the log holds a document for: the event, or the tombstone it left when it
   * was purged under a retention policy. Bulk reads (reads.ts), `concurrency` requests in flight.
   */
  async logged(ids: string[], concurrency = 16): Promise<Set<string>> {
    const found = await readMany(
      this.container,
      this.meter,
      ids.map((id) => ({ id, pk: id })),
      concurrency,
    );
    return new Set(ids.filter((id) => found.has(keyOf({ id, pk: id }))));
  }

  /**
   * Every logged event, page by page, for replay. Order does not matter: projection is order-free.
   * Events purged under a retention policy (tombstones) are skipped: their copies are in the archive.
   */
  async *scan(pageSize = 100): AsyncGenerator<RawEvent> {
    for await (const page of queryPages(this.container, this.meter, 'SELECT * FROM c', pageSize)) {
      for (const raw of page) if (!isTombstone(raw)) yield parseRaw(raw);
    }
  }
}

function parseRaw(raw: ItemDefinition): RawEvent {
  const parsed = rawEventSchema.safeParse(raw);
  if (!parsed.success) throw new CorruptDocumentError(`raw event ${String(raw.id)} does not match its schema`);
  return parsed.data;
}
