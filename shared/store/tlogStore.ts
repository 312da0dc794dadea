import type { Container, ItemDefinition, JSONObject, OperationInput, SqlQuerySpec } from '@azure/cosmos';
import type { ContainerClient } from '@azure/storage-blob';
import { z } from 'zod';
import { ConflictStoreError, CorruptDocumentError, PreconditionFailedStoreError } from '../errors.js';
import type { Tile } from '../tlog/tiles.js';
import { rawEventSchema, type RawEvent } from './eventLog.js';
import { queryPages } from './reads.js';
import { metered, storeCall, storeError, unlessNotFound } from './storeErrors.js';
import type { StoreMeter } from './storeMeter.js';
import { isTombstone } from './tombstone.js';

/**
 * Where the evidence log lives.
 *
 * Cosmos container `tlog`, all in one logical partition (`pk = "tlog"`) so that one transactional
 * batch commits a sequencing step whole, guarded by the state document's ETag (the single-writer
 * rule), and proof reads are single-partition queries:
 * - `state`: tree size, root, the capture timestamp the next scan starts from, the latest
 *   checkpoint;
 * - `tile-{level}-{index}`: tiles (tlog/tiles.ts), full ones written once, the right edge
 *   rewritten as it grows; level 0 also lists the event hashes, which is how an event finds its
 *   leaf index;
 * - `checkpoint-{size}`: every signed checkpoint, for consistency checks between them.
 * A logical partition holds 20 GB; at about 120 bytes a leaf that is some 150 million events.
 *
 * Blob container (TLOG_CHECKPOINT_CONTAINER): every signed checkpoint again, as
 * `checkpoint/{size, 20 digits}`, written once. In Azure the template gives the container a
 * time-based immutability (WORM) policy, so not even the app's identity can rewrite or delete a
 * checkpoint; Azurite does not enforce immutability policies, so locally this is ordinary storage.
 */

const PK = 'tlog';
const STATE_ID = 'state';

const checkpointRefSchema = z.object({ size: z.number().int().min(0), note: z.string(), hash: z.string() });
export type CheckpointRef = z.infer<typeof checkpointRefSchema>;

const stateSchema = z.object({
  size: z.number().int().min(0),
  /** Base64 root hash at `size`. */
  root: z.string(),
  /** Cosmos `_ts` (seconds) the next scan of the event log starts from. */
  scanFrom: z.number().int(),
  checkpoint: checkpointRefSchema.optional(),
});
export type TlogState = z.infer<typeof stateSchema>;

const tileDocSchema = z.object({
  level: z.number().int().min(0),
  index: z.number().int().min(0),
  hashes: z.string(),
  entries: z.array(z.string()).optional(),
});

export interface VersionedState {
  state: TlogState;
  /** ETag of the state document; undefined before the first commit. */
  etag?: string;
}

/** One document of the event log as a scan sees it. */
export interface ScannedEvent {
  id: string;
  /** Cosmos `_ts`: when the document was last written, in seconds. */
  ts: number;
  /** Undefined when the document is a tombstone or does not parse as a raw event. */
  event?: RawEvent;
  tombstone: boolean;
}

/** At most this many tiles per transactional batch (a batch holds 100 operations and 2 MB). */
export const MAX_TILES_PER_COMMIT = 40;

export function tileDocId(level: number, index: number): string {
  return `tile-${level}-${index}`;
}

export class TlogStore {
  constructor(
    private readonly tlog: Container,
    private readonly events: Container,
    private readonly checkpoints: ContainerClient,
    private readonly meter: StoreMeter,
  ) {}

  async ensure(): Promise<void> {
    await storeCall(`creating the container ${this.checkpoints.containerName}`, () => this.checkpoints.createIfNotExists());
  }

  async readState(): Promise<VersionedState> {
    const response = await unlessNotFound(
      metered(this.meter, 'reading the evidence log state', () => this.tlog.item(STATE_ID, PK).read<ItemDefinition>()),
    );
    if (!response?.resource) return { state: { size: 0, root: '', scanFrom: 0 } };
    const parsed = stateSchema.safeParse(response.resource);
    if (!parsed.success) throw new CorruptDocumentError('the evidence log state document does not match its schema');
    return { state: parsed.data, etag: response.etag };
  }

  /** The tiles named, in one single-partition query; missing ones are left out. */
  async readTiles(keys: ReadonlyArray<{ level: number; index: number }>): Promise<Tile[]> {
    if (keys.length === 0) return [];
    const ids = keys.map((k) => tileDocId(k.level, k.index));
    return this.queryTiles({ query: 'SELECT * FROM c WHERE c.pk = @pk AND ARRAY_CONTAINS(@ids, c.id)', parameters: params({ ids }) });
  }

  /** The level-0 tiles listing any of `eventIds` (content hashes, hex): one query per 1,000 ids. */
  async findLeafTiles(eventIds: readonly string[]): Promise<Tile[]> {
    const tiles: Tile[] = [];
    for (let i = 0; i < eventIds.length; i += 1000) {
      const ids = eventIds.slice(i, i + 1000);
      tiles.push(
        ...(await this.queryTiles({
          query:
            'SELECT * FROM c WHERE c.pk = @pk AND c.kind = "tile" AND c.level = 0 AND EXISTS(SELECT VALUE e FROM e IN c.entries WHERE ARRAY_CONTAINS(@ids, e))',
          parameters: params({ ids }),
        })),
      );
    }
    return tiles;
  }

  private async queryTiles(query: SqlQuerySpec): Promise<Tile[]> {
    const tiles: Tile[] = [];
    for await (const page of queryPages(this.tlog, this.meter, query, undefined, PK)) {
      for (const doc of page) tiles.push(parseTile(doc));
    }
    return tiles;
  }

  /** Every checkpoint recorded with a tree size above `after`, smallest first (one single-partition query). */
  async checkpointsAfter(after: number): Promise<CheckpointRef[]> {
    const refs: CheckpointRef[] = [];
    const query = {
      query: 'SELECT c.size, c.note, c.hash FROM c WHERE c.pk = @pk AND c.kind = "checkpoint" AND c.size > @after ORDER BY c.size',
      parameters: [
        { name: '@pk', value: PK },
        { name: '@after', value: after },
      ],
    };
    for await (const page of queryPages(this.tlog, this.meter, query, undefined, PK)) {
      for (const doc of page) {
        const parsed = checkpointRefSchema.safeParse(doc);
        if (!parsed.success) throw new CorruptDocumentError('an evidence log checkpoint document does not match its schema');
        refs.push(parsed.data);
      }
    }
    return refs;
  }

  /** The checkpoint of `size` as archived in the (WORM) blob container; undefined when none was. */
  async archivedCheckpoint(size: number): Promise<string | undefined> {
    const blob = this.checkpoints.getBlockBlobClient(checkpointBlobName(size));
    const buffer = await unlessNotFound(storeCall(`reading checkpoint ${size}`, () => blob.downloadToBuffer()));
    return buffer?.toString('utf8');
  }

  /** The event log from Cosmos timestamp `from` on, oldest first, page by page. */
  async *scanEvents(from: number, pageSize = 1000): AsyncGenerator<ScannedEvent[]> {
    const query = { query: 'SELECT * FROM c WHERE c._ts >= @from ORDER BY c._ts', parameters: [{ name: '@from', value: from }] };
    for await (const page of queryPages(this.events, this.meter, query, pageSize)) {
      yield page.map((doc) => {
        const tombstone = isTombstone(doc);
        const parsed = tombstone ? undefined : rawEventSchema.safeParse(doc);
        return { id: String(doc.id), ts: Number(doc._ts), tombstone, ...(parsed?.success ? { event: parsed.data } : {}) };
      });
    }
  }

  /**
   * Commits a sequencing step in one transactional batch: the new state, guarded by the ETag it
   * was read with (none: only if no state exists yet), and the tiles it changed. The state comes
   * first, so a conflict stops the batch before any tile is written even where batches are not
   * atomic (the embedded test server applies operations in order and stops at the first failure).
   */
  /** Returns the state's new ETag, or undefined when another run committed first. */
  async commit(expected: string | undefined, state: TlogState, tiles: readonly Tile[]): Promise<string | undefined> {
    if (tiles.length > MAX_TILES_PER_COMMIT) throw new RangeError(`at most ${MAX_TILES_PER_COMMIT} tiles per commit`);
    return this.batch([
      stateOperation(expected, state),
      ...tiles.map((t): OperationInput => ({ operationType: 'Upsert', partitionKey: PK, resourceBody: tileDoc(t) })),
    ]);
  }

  /** Records a signed checkpoint as the latest (ETag-guarded) and in the history, in one batch; as `commit`. */
  async recordCheckpoint(expected: string, state: TlogState, checkpoint: CheckpointRef): Promise<string | undefined> {
    return this.batch([
      stateOperation(expected, { ...state, checkpoint }),
      {
        operationType: 'Create',
        partitionKey: PK,
        resourceBody: { id: `checkpoint-${checkpoint.size}`, pk: PK, kind: 'checkpoint', ...checkpoint },
      },
    ]);
  }

  /**
   * Writes a signed checkpoint to the (WORM) blob container under its size, once. Returns the note
   * stored under that size afterwards: this one, or the one a run that stopped before recording
   * it in Cosmos wrote earlier.
   */
  async archiveCheckpoint(size: number, note: string): Promise<string> {
    const blob = this.checkpoints.getBlockBlobClient(checkpointBlobName(size));
    try {
      await storeCall(`archiving checkpoint ${size}`, () =>
        blob.upload(note, Buffer.byteLength(note), {
          blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' },
          conditions: { ifNoneMatch: '*' },
        }),
      );
      return note;
    } catch (error) {
      if (!(error instanceof ConflictStoreError || error instanceof PreconditionFailedStoreError)) throw error;
      return (await storeCall(`reading checkpoint ${size}`, () => blob.downloadToBuffer())).toString('utf8');
    }
  }

  /** The state's new ETag once every operation succeeded; undefined when the state guard failed. */
  private async batch(operations: OperationInput[]): Promise<string | undefined> {
    let response;
    try {
      response = await this.tlog.items.batch(operations, PK);
      this.meter.record({ requestCharge: Number(response.headers['x-ms-request-charge']) });
    } catch (error) {
      this.meter.recordError(error);
      throw storeError(error, 'committing to the evidence log');
    }
    const results = response.result ?? [];
    const codes = results.map((r) => r.statusCode);
    if (codes.length === operations.length && codes.every((c) => c < 400)) return results[0]?.eTag ?? '';
    // 412: the state changed since it was read; 409: someone created it first.
    if (codes[0] === 412 || codes[0] === 409) return undefined;
    throw new Error(`evidence log batch failed with status ${codes.join(',') || response.code}`);
  }
}

export function checkpointBlobName(size: number): string {
  return `checkpoint/${String(size).padStart(20, '0')}`;
}

function params(values: { ids: string[] }): Array<{ name: string; value: string | string[] }> {
  return [
    { name: '@pk', value: PK },
    { name: '@ids', value: values.ids },
  ];
}

function stateOperation(expected: string | undefined, state: TlogState): OperationInput {
  const resourceBody = { id: STATE_ID, pk: PK, kind: 'state', ...state };
  return expected === undefined
    ? { operationType: 'Create', partitionKey: PK, resourceBody }
    : { operationType: 'Replace', partitionKey: PK, id: STATE_ID, resourceBody, ifMatch: expected };
}

function tileDoc(tile: Tile): JSONObject {
  return {
    id: tileDocId(tile.level, tile.index),
    pk: PK,
    kind: 'tile',
    level: tile.level,
    index: tile.index,
    width: tile.hashes.length / 32,
    hashes: tile.hashes.toString('base64'),
    ...(tile.entries ? { entries: tile.entries } : {}),
  };
}

function parseTile(doc: ItemDefinition): Tile {
  const parsed = tileDocSchema.safeParse(doc);
  if (!parsed.success) throw new CorruptDocumentError(`evidence log tile ${String(doc.id)} does not match its schema`);
  const { level, index, hashes, entries } = parsed.data;
  return { level, index, hashes: Buffer.from(hashes, 'base64'), ...(entries ? { entries } : {}) };
}
