import type { Container, ItemDefinition, OperationInput, OperationResponse } from '@azure/cosmos';
import { ConflictStoreError, CorruptDocumentError, PreconditionFailedStoreError, TransientStoreError } from '../errors.js';
import { mergeEdges, mergeNodes } from '../graph/merge.js';
import type { GraphDoc } from '../graph/model.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { mapLimited } from '../util/mapLimited.js';
import { parseGraphDoc } from './graphDocs.js';
import { keyOf, readMany } from './reads.js';
import { metered, storeError } from './storeErrors.js';
import type { StoreMeter } from './storeMeter.js';

export type WriteResult = 'created' | 'updated' | 'unchanged';

/** A document an event asserts (`merge`: joined into what is stored) or only names (`ensure`: created if absent). */
export interface GraphWrite {
  doc: GraphDoc;
  ensure: boolean;
}

/**
 * Cosmos DB's limits on one transactional batch: 100 operations, 2 MB of request. A chunk is cut
 * below the size limit so the operations' framing fits too.
 */
export const BATCH_MAX_OPERATIONS = 100;
const BATCH_MAX_BYTES = 1_800_000;
const MAX_ROUNDS = 20;
/** Partitions written at once: each is one request, so an event's writes take one round trip of latency. */
const PARTITIONS_IN_FLIGHT = 8;

/** Jittered pause between rounds, so writers contending for a partition spread out. */
function backoff(round: number): Promise<void> {
  if (round === 0) return Promise.resolve();
  const ceiling = Math.min(200, 5 * 2 ** round);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/** One planned write: the operation, what it will have done, and where its answer goes. */
interface Planned {
  at: number;
  operation: OperationInput;
  result: WriteResult;
  bytes: number;
}

/**
 * The write path of capture: the documents an event touches, in the fewest round trips.
 *
 * 1. Point reads fetch every one of them, all in flight at once (one round trip of latency). Not a
 *    query: one spanning the event's partitions fans out over the container's physical
 *    partitions in Cosmos DB, and the embedded server scans its whole container for every query,
 *    so capture would slow down as the graph grows.
 * 2. Each is joined with what is stored (graph/merge.ts); a document the join leaves as it is
 *    costs nothing more, so an event delivered again costs this one read.
 * 3. What changed is written per partition in one transactional batch (a node, its `out` edges
 *    and the `in` copies pointing at it share the node's partition): created when it was absent,
 *    replaced guarded by the ETag it was read with when it was there.
 * 4. A batch that lost a race (409: created meanwhile; 412: changed since the read) reads its
 *    partition's documents again and joins into theirs; joins are idempotent, so this converges
 *    whatever another writer, a lost answer or a half-applied batch left behind.
 */
export class GraphWriter {
  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  /** Writes `writes` (each document named once: documentsFor joins an event's copies); what each did, in order. */
  async write(writes: readonly GraphWrite[]): Promise<WriteResult[]> {
    // Two operations on one document in a batch would conflict with each other on every round.
    if (new Set(writes.map((w) => keyOf(w.doc))).size !== writes.length) throw new Error('a graph write names a document twice');
    const results = new Array<WriteResult>(writes.length);
    let pending = writes.map((_, i) => i);
    for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
      await backoff(round);
      const stored = await this.readAll(pending.map((i) => (writes[i] as GraphWrite).doc));
      const byPartition = new Map<string, Planned[]>();
      for (const at of pending) {
        const planned = plan(at, writes[at] as GraphWrite, stored);
        if (typeof planned === 'string') results[at] = planned;
        else {
          const pk = (writes[at] as GraphWrite).doc.pk;
          const inPartition = byPartition.get(pk) ?? [];
          inPartition.push(planned);
          byPartition.set(pk, inPartition);
        }
      }
      const lost = await mapLimited([...byPartition], PARTITIONS_IN_FLIGHT, async ([pk, planned]) => {
        const landed = await this.writePartition(pk, planned);
        for (const p of planned) if (landed) results[p.at] = p.result;
        return landed ? [] : planned.map((p) => p.at);
      });
      pending = lost.flat();
    }
    // Contention, not corruption: the caller's retry (or the platform's redelivery) will get through.
    if (pending.length > 0)
      throw new TransientStoreError(`gave up writing ${pending.length} graph documents after ${MAX_ROUNDS} concurrent updates`);
    return results;
  }

  /** The stored versions of `docs` (with their ETags) by `keyOf`: point reads, all in flight. */
  private readAll(docs: readonly GraphDoc[]): Promise<Map<string, ItemDefinition>> {
    return readMany(
      this.container,
      this.meter,
      docs.map(({ id, pk }) => ({ id, pk })),
    );
  }

  /**
   * Writes one partition's documents together, in as few transactional batches as Cosmos DB's
   * limits allow. False when one lost a race (409, 412): the caller reads again.
   */
  private async writePartition(pk: string, planned: readonly Planned[]): Promise<boolean> {
    let landed = true;
    for (const chunk of chunksOf(planned)) {
      const statuses = chunk.length === 1 ? [await this.writeOne(pk, chunk[0] as Planned)] : await this.writeBatch(pk, chunk);
      for (const [i, status] of statuses.entries()) {
        if (status < 400) continue;
        if (status === 409 || status === 412 || status === 424) {
          landed = false;
          continue;
        }
        const operation = (chunk[i] as Planned).operation;
        throw storeError({ code: status }, `writing ${operationTarget(operation)} in ${pk}`);
      }
    }
    return landed;
  }

  /**
   * One transactional batch; the status of each operation. The SDK reports a batch that failed
   * before the service answered (throttled, reset, too large) as a plain error without its status,
   * so then the operations are written one by one, whose failures say what they were.
   */
  private async writeBatch(pk: string, chunk: readonly Planned[]): Promise<number[]> {
    let answer: OperationResponse[] | undefined;
    try {
      const response = await metered(this.meter, `writing ${chunk.length} documents in ${pk}`, () =>
        this.container.items.batch(
          // Copies: the SDK rewrites each operation's partition key into its wire form.
          chunk.map((p) => ({ ...p.operation })),
          pk,
        ),
      );
      answer = response.result;
    } catch {
      answer = undefined;
    }
    if (!answer || answer.length !== chunk.length) {
      const statuses: number[] = [];
      for (const p of chunk) statuses.push(await this.writeOne(pk, p));
      return statuses;
    }
    return answer.map((r) => r.statusCode);
  }

  /** One operation on its own; its status (409 and 412 answered, other failures thrown). */
  private async writeOne(pk: string, { operation }: Planned): Promise<number> {
    try {
      if (operation.operationType === 'Create') {
        await metered(this.meter, `creating ${operationTarget(operation)} in ${pk}`, () =>
          this.container.items.create(operation.resourceBody),
        );
      } else if (operation.operationType === 'Replace') {
        const { id, resourceBody, ifMatch } = operation;
        await metered(this.meter, `replacing ${id} in ${pk}`, () =>
          this.container.item(id, pk).replace(resourceBody, ifMatch ? { accessCondition: { type: 'IfMatch', condition: ifMatch } } : {}),
        );
      }
      return 200;
    } catch (error) {
      if (error instanceof ConflictStoreError) return 409;
      if (error instanceof PreconditionFailedStoreError) return 412;
      throw error;
    }
  }
}

/** What `write` does about one document: nothing (its result) or an operation. */
function plan(at: number, { doc, ensure }: GraphWrite, stored: ReadonlyMap<string, ItemDefinition>): WriteResult | Planned {
  const raw = stored.get(keyOf(doc));
  if (!raw) {
    const body = doc as unknown as ItemDefinition;
    return { at, operation: { operationType: 'Create', partitionKey: doc.pk, resourceBody: body }, result: 'created', bytes: sizeOf(body) };
  }
  if (ensure) return 'unchanged';
  const current = parseGraphDoc(raw);
  const merged = join(current, doc);
  if (canonicalJson(merged) === canonicalJson(current)) return 'unchanged';
  const body = merged as unknown as ItemDefinition;
  return {
    at,
    operation: { operationType: 'Replace', id: doc.id, partitionKey: doc.pk, resourceBody: body, ifMatch: raw._etag as string },
    result: 'updated',
    bytes: sizeOf(body),
  };
}

function join(a: GraphDoc, b: GraphDoc): GraphDoc {
  if (a.docType === 'node' && b.docType === 'node') return mergeNodes(a, b);
  if (a.docType === 'edge' && b.docType === 'edge') return mergeEdges(a, b);
  throw new CorruptDocumentError(`document ${a.id} changed type`);
}

const sizeOf = (body: unknown): number => Buffer.byteLength(JSON.stringify(body));

function operationTarget(operation: OperationInput): string {
  return 'id' in operation ? operation.id : String((operation.resourceBody as { id?: unknown }).id);
}

/** `planned` cut into transactional batches within Cosmos DB's limits (a document too large alone is a chunk of its own). */
function chunksOf(planned: readonly Planned[]): Planned[][] {
  const chunks: Planned[][] = [];
  let current: Planned[] = [];
  let bytes = 0;
  for (const p of planned) {
    if (current.length > 0 && (current.length === BATCH_MAX_OPERATIONS || bytes + p.bytes > BATCH_MAX_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
