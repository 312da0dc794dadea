import type { Container, ItemDefinition, OperationInput } from '@azure/cosmos';
import {
  ConflictStoreError,
  CorruptDocumentError,
  NotFoundStoreError,
  PreconditionFailedStoreError,
  TransientStoreError,
} from '../errors.js';
import { mergeEdges, mergeNodes, pendingMark, withMarks } from '../graph/merge.js';
import type { GraphDoc, NodeDoc } from '../graph/model.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { mapLimited } from '../util/mapLimited.js';
import { parseGraphDoc } from './graphDocs.js';
import { BULK_MAX_OPERATIONS, bulk, chunked, keyOf, readMany } from './reads.js';
import { metered } from './storeErrors.js';
import type { StoreMeter } from './storeMeter.js';

export type WriteResult = 'created' | 'updated' | 'unchanged';

/** A document an event asserts (`merge`: joined into what is stored) or only names (`ensure`: created if absent). */
export interface GraphWrite {
  doc: GraphDoc;
  ensure: boolean;
}

const MAX_ROUNDS = 20;
/** Bulk calls of one event's writes in flight at once (each up to 100 operations). */
const CALLS_IN_FLIGHT = 8;

/** Jittered pause between rounds, so writers contending for a document spread out. */
function backoff(round: number): Promise<void> {
  if (round === 0) return Promise.resolve();
  const ceiling = Math.min(200, 5 * 2 ** round);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/** One planned write: the operation, what it will have done, and where its answer goes. */
interface Planned {
  /** The write it answers for; -1 for a mark on a node the event did not change (markPending). */
  at: number;
  pk: string;
  operation: OperationInput;
  result: WriteResult;
}

/** Answers that mean another writer got there first: read that document again and join into its version. */
const LOST_RACE = new Set([404, 409, 412, 424]);

/**
 * The write path of capture: the documents an event touches, in the fewest requests.
 *
 * 1. One bulk read fetches every one of them (reads.ts: one request per partition key range, so
 *    one on a single physical partition, whatever partitions the documents are in). Not a query:
 *    one spanning the event's partitions fans out over the container's physical partitions in
 *    Cosmos DB, and the embedded server scans its whole container for every query, so capture
 *    would slow down as the graph grows.
 * 2. Each is joined with what is stored (graph/merge.ts); a document the join leaves as it is
 *    costs nothing more, so an event delivered again costs this one read.
 * 3. What changed is written in one bulk call, whatever partitions it is in: created when it was
 *    absent, replaced guarded by the ETag it was read with when it was there. On Cosmos DB that is
 *    one request per physical partition touched; request units are those of the operations alone.
 * 4. Bulk is not atomic, and nothing needs it to be: joins are idempotent and order-free, and each
 *    document is settled on its own. An operation that lost a race (409: created meanwhile; 412:
 *    changed since the read; 404: removed since) reads that document again and joins into its
 *    version, in the next round. An operation the answer did not settle (throttled, failed, or the
 *    whole call failed on the wire) is done again on its own, where the SDK's retries apply and a
 *    failure says what it was. An event whose writes landed halfway (the process died, the call
 *    threw) converges on redelivery: what landed joins to itself, the rest is written then.
 */
export class GraphWriter {
  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  /** Writes `writes` (each document named once: documentsFor joins an event's copies); what each did, in order. */
  async write(writes: readonly GraphWrite[]): Promise<WriteResult[]> {
    // Two operations on one document would conflict with each other on every round.
    if (new Set(writes.map((w) => keyOf(w.doc))).size !== writes.length) throw new Error('a graph write names a document twice');
    const results = new Array<WriteResult>(writes.length);
    let pending = writes.map((_, i) => i);
    for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
      await backoff(round);
      const docs = pending.map((i) => (writes[i] as GraphWrite).doc);
      const stored = await readMany(this.container, this.meter, docs);
      const stateOf = storedStates(stored);
      const planned: Planned[] = [];
      for (const at of pending) {
        const p = plan(at, writes[at] as GraphWrite, stored, stateOf);
        // A copy written again only for its node's marks (below) keeps what it first did.
        if (typeof p === 'string') results[at] ??= p;
        else planned.push(p);
      }
      const marking = markPending(planned, docs, stored, stateOf);
      const statuses = await this.writeAll(planned);
      const previous = pending;
      pending = [];
      // Each landed, or lost a race (writeAll throws any other failure). A node whose marks lost a
      // race is marked again in the next round, its partition's copies with it (landed or not).
      const lostMarks = new Set(planned.filter((p, i) => marking.has(p) && (statuses[i] as number) >= 400).map((p) => p.pk));
      for (const [i, p] of planned.entries()) {
        if (p.at < 0) continue;
        if ((statuses[i] as number) < 400) results[p.at] = p.result;
        else pending.push(p.at);
      }
      for (const [at, { doc }] of writes.entries()) {
        const again = lostMarks.has(doc.pk) && (doc.docType === 'edge' ? previous.includes(at) : doc.id === doc.pk);
        if (again && !pending.includes(at)) pending.push(at);
      }
    }
    // Contention, not corruption: the caller's retry (or the platform's redelivery) will get through.
    if (pending.length > 0)
      throw new TransientStoreError(`gave up writing ${pending.length} graph documents after ${MAX_ROUNDS} concurrent updates`);
    return results;
  }

  /** The status of each planned write, in order: in bulk, and on its own what the bulk answer did not settle. */
  private async writeAll(planned: readonly Planned[]): Promise<number[]> {
    const statuses = new Array<number>(planned.length);
    const chunks = chunked(
      planned.map((p, i) => ({ p, i })),
      BULK_MAX_OPERATIONS,
    );
    await mapLimited(chunks, CALLS_IN_FLIGHT, async (chunk) => {
      const answers = await bulk(
        this.container,
        this.meter,
        chunk.map(({ p }) => p.operation),
      );
      for (const [j, { p, i }] of chunk.entries()) {
        const status = answers?.[j]?.statusCode;
        statuses[i] = status !== undefined && (status < 400 || LOST_RACE.has(status)) ? status : await this.writeOne(p);
      }
    });
    return statuses;
  }

  /** One operation on its own; its status (409, 412 and 404 answered, other failures thrown). */
  private async writeOne({ pk, operation }: Planned): Promise<number> {
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
      if (error instanceof NotFoundStoreError) return 404;
      throw error;
    }
  }
}

/** A stored document, parsed, and joined with what the write asserts. */
interface StoredState {
  current: GraphDoc;
  joined: GraphDoc;
}

/**
 * Each stored document's state for one round, worked out on first use and kept: plan and
 * markPending both need an edge's joined state, and parsing and joining are most of a round's CPU.
 * Undefined for a document not stored.
 */
function storedStates(stored: ReadonlyMap<string, ItemDefinition>): (doc: GraphDoc) => StoredState | undefined {
  const states = new Map<string, StoredState>();
  return (doc) => {
    const key = keyOf(doc);
    const known = states.get(key);
    if (known) return known;
    const raw = stored.get(key);
    if (!raw) return undefined;
    const current = parseGraphDoc(raw);
    const state = { current, joined: join(current, doc) };
    states.set(key, state);
    return state;
  };
}

/** What `write` does about one document: nothing (its result) or an operation. */
function plan(
  at: number,
  { doc, ensure }: GraphWrite,
  stored: ReadonlyMap<string, ItemDefinition>,
  stateOf: (doc: GraphDoc) => StoredState | undefined,
): WriteResult | Planned {
  const raw = stored.get(keyOf(doc));
  if (!raw) {
    const body = doc as unknown as ItemDefinition;
    return { at, pk: doc.pk, operation: { operationType: 'Create', partitionKey: doc.pk, resourceBody: body }, result: 'created' };
  }
  if (ensure) return 'unchanged';
  const { current, joined: merged } = stateOf(doc) as StoredState;
  if (canonicalJson(merged) === canonicalJson(current)) return 'unchanged';
  const body = merged as unknown as ItemDefinition;
  return {
    at,
    pk: doc.pk,
    operation: { operationType: 'Replace', id: doc.id, partitionKey: doc.pk, resourceBody: body, ifMatch: raw._etag as string },
    result: 'updated',
  };
}

/**
 * Pending link copies mark their partition's node with the link (graph/merge.ts withMarks): lookups
 * learn what is pending from the nodes they read anyway. The marks ride on the node's own write
 * when the event changes it, else on a replace of their own, guarded by the ETag the node was read
 * with, in the same bulk call. Bulk is neither atomic nor ordered: a node whose marks lose a race
 * is marked again in the next round, and until then its copy may be pending without the mark
 * (README, known limits). The node must be among the writes (documentsFor names every link's ends):
 * a copy written without it is not marked. Returns the operations that carry marks.
 */
function markPending(
  planned: Planned[],
  docs: readonly GraphDoc[],
  stored: ReadonlyMap<string, ItemDefinition>,
  stateOf: (doc: GraphDoc) => StoredState | undefined,
): Set<Planned> {
  const bodyOf = (p: Planned) => ('resourceBody' in p.operation ? (p.operation.resourceBody as unknown as GraphDoc) : undefined);
  // The copies pending once this write lands (joined with what is stored), by partition.
  const marks = new Map<string, string[]>();
  for (const doc of docs) {
    if (doc.docType !== 'edge') continue;
    const mark = pendingMark(stateOf(doc)?.joined ?? doc);
    if (mark) marks.set(doc.pk, [...(marks.get(doc.pk) ?? []), mark]);
  }
  const marking = new Set<Planned>();
  for (const [pk, wanted] of marks) {
    const raw = stored.get(keyOf({ id: pk, pk }));
    const current = raw ? parseGraphDoc(raw) : undefined;
    const own = planned.find((p) => bodyOf(p)?.docType === 'node' && p.pk === pk);
    if (own) {
      Object.assign(own.operation, { resourceBody: withMarks(bodyOf(own) as NodeDoc, wanted) });
      marking.add(own);
      continue;
    }
    if (!raw || current?.docType !== 'node') continue;
    const marked = withMarks(current, wanted);
    if (canonicalJson(marked) === canonicalJson(current)) continue;
    const body = marked as unknown as ItemDefinition;
    const op: Planned = {
      at: -1,
      pk,
      operation: { operationType: 'Replace', id: pk, partitionKey: pk, resourceBody: body, ifMatch: raw._etag as string },
      result: 'updated',
    };
    planned.push(op);
    marking.add(op);
  }
  return marking;
}

function join(a: GraphDoc, b: GraphDoc): GraphDoc {
  if (a.docType === 'node' && b.docType === 'node') return mergeNodes(a, b);
  if (a.docType === 'edge' && b.docType === 'edge') return mergeEdges(a, b);
  throw new CorruptDocumentError(`document ${a.id} changed type`);
}

function operationTarget(operation: OperationInput): string {
  return 'id' in operation ? operation.id : String((operation.resourceBody as { id?: unknown }).id);
}
