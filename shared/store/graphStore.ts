import type { Container, ItemDefinition } from '@azure/cosmos';
import { ConflictStoreError, PreconditionFailedStoreError, TransientStoreError } from '../errors.js';
import { emptyClosure, mergeClosures, type ClosureDir, type ClosureDoc } from '../graph/closure.js';
import type { EdgeDoc, GraphDoc, NodeDoc } from '../graph/model.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { mapLimited } from '../util/mapLimited.js';
import {
  closureKey,
  closureSlot,
  docKeysOf,
  edgeCopyKey,
  graphDocsOf,
  parseClosure,
  parseGraphDoc,
  type GraphDocs,
  type GraphKeys,
  type Link,
} from './graphDocs.js';
import { GraphReader } from './graphReader.js';
import { GraphWriter, type GraphWrite, type WriteResult } from './graphWrites.js';
import { keyOf, queryPages, readMany } from './reads.js';
import { withRetry } from './retry.js';
import { metered, unlessNotFound } from './storeErrors.js';
import type { StoreMeter } from './storeMeter.js';

export type { GraphWrite, WriteResult } from './graphWrites.js';

/** A node as the reconcile timer sees it (GraphStore.nodeSummaries). */
export interface NodeSummary {
  id: string;
  kind: string;
  key: string;
  placeholder: boolean;
  deleted: boolean;
  status: string | undefined;
  /** The newest `learnedAt` of its provenance; null when nothing about the node itself was ever learned. */
  lastLearnedAt: string | null;
}

interface NodeSummaryRow {
  id: string;
  kind: string;
  key: string;
  placeholder?: boolean;
  deletedAt?: unknown;
  status?: unknown;
  provenance?: Array<{ learnedAt: string }>;
}

const MAX_CONFLICT_ROUNDS = 20;

/** Jittered pause between optimistic-concurrency rounds so contending writers spread out. */
function backoff(round: number): Promise<void> {
  if (round === 0) return Promise.resolve();
  const ceiling = Math.min(200, 5 * 2 ** round);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/**
 * Nodes and edges in one container. A node's document and the edges touching it share its
 * partition, so "this node and its neighbours in one direction" is a single-partition read.
 */
export class GraphStore {
  private readonly writer: GraphWriter;

  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {
    this.writer = new GraphWriter(container, meter);
  }

  async read(id: string, pk: string): Promise<(GraphDoc & { _etag?: string }) | undefined> {
    const response = await unlessNotFound(metered(this.meter, `reading ${id}`, () => this.container.item(id, pk).read<ItemDefinition>()));
    if (!response?.resource) return undefined;
    return { ...parseGraphDoc(response.resource), _etag: response.etag };
  }

  async readNode(id: string): Promise<NodeDoc | undefined> {
    const doc = await this.read(id, id);
    return doc && doc.docType === 'node' ? doc : undefined;
  }

  /**
   * Merges an event's documents into what is stored (joins, so concurrent writers never lose each
   * other's facts): one read for all of them, one transactional batch per partition that changed
   * (graphWrites.ts). What each did, in order.
   */
  async write(writes: readonly GraphWrite[]): Promise<WriteResult[]> {
    return this.writer.write(writes);
  }

  /**
   * The optimistic-concurrency loop every merged document goes through: read, join, write back
   * only if something changed, guarded by the ETag; a conflict reads again.
   */
  private async mergeWith<T extends GraphDoc | ClosureDoc>(
    doc: T,
    read: () => Promise<(T & { _etag?: string }) | undefined>,
    joinDocs: (current: T, incoming: T) => T,
    what: string,
  ): Promise<WriteResult> {
    for (let round = 0; round < MAX_CONFLICT_ROUNDS; round++) {
      await backoff(round);
      const existing = await read();
      if (!existing) {
        if (await this.tryCreate(doc)) return 'created';
        continue; // someone else created it first: merge into theirs
      }
      const { _etag: etag, ...current } = existing;
      const merged = joinDocs(current as unknown as T, doc);
      if (canonicalJson(merged) === canonicalJson(current)) return 'unchanged';
      try {
        await metered(this.meter, `replacing ${what}`, () =>
          this.container.item(doc.id, doc.pk).replace(merged, etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {}),
        );
        return 'updated';
      } catch (error) {
        if (error instanceof PreconditionFailedStoreError) continue; // changed under us: read again
        throw error;
      }
    }
    // Contention, not corruption: the caller's retry (or the platform's redelivery) will get through.
    throw new TransientStoreError(`gave up merging ${what} after ${MAX_CONFLICT_ROUNDS} concurrent updates`);
  }

  /** A referenced-but-unseen node: created if absent, otherwise left as it is (one round trip). */
  async ensure(doc: GraphDoc): Promise<WriteResult> {
    return (await this.tryCreate(doc)) ? 'created' : 'unchanged';
  }

  private async tryCreate(doc: GraphDoc | ClosureDoc): Promise<boolean> {
    try {
      await metered(this.meter, `creating ${doc.id} in ${doc.pk}`, () => this.container.items.create(doc));
      return true;
    } catch (error) {
      if (error instanceof ConflictStoreError) return false;
      throw error;
    }
  }

  /** Edges stored with the given nodes in one direction (`in`: edges pointing at them). */
  async edgesOf(nodeIds: string[], dir: 'in' | 'out'): Promise<EdgeDoc[]> {
    if (nodeIds.length === 0) return [];
    const query = {
      query: 'SELECT * FROM c WHERE c.docType = "edge" AND c.dir = @dir AND ARRAY_CONTAINS(@ids, c.pk)',
      parameters: [
        { name: '@dir', value: dir },
        { name: '@ids', value: nodeIds },
      ],
    };
    const out: EdgeDoc[] = [];
    for await (const page of queryPages(this.container, this.meter, query)) {
      for (const raw of page) {
        const doc = parseGraphDoc(raw);
        if (doc.docType === 'edge') out.push(doc);
      }
    }
    return out;
  }

  /** Nodes by id with one cross-partition query: one round trip for a walk's whole frontier. */
  async nodes(ids: string[]): Promise<Map<string, NodeDoc>> {
    const out = new Map<string, NodeDoc>();
    if (ids.length === 0) return out;
    const query = {
      query: 'SELECT * FROM c WHERE c.docType = "node" AND ARRAY_CONTAINS(@ids, c.id)',
      parameters: [{ name: '@ids', value: ids }],
    };
    for await (const page of queryPages(this.container, this.meter, query)) {
      for (const raw of page) {
        const doc = parseGraphDoc(raw);
        if (doc.docType === 'node') out.set(doc.id, doc);
      }
    }
    return out;
  }

  /**
   * Nodes, the stored copies of links and closures by point reads, all in one batch with
   * `concurrency` in flight: one round trip of latency however many there are.
   */
  async readDocs(keys: GraphKeys, concurrency = 32): Promise<GraphDocs> {
    const found = await readMany(this.container, this.meter, docKeysOf(keys), concurrency);
    return graphDocsOf(keys, (key) => found.get(keyOf(key)));
  }

  /** Nodes by point reads (each in its own partition), by id; no query. */
  async readNodes(ids: string[]): Promise<Map<string, NodeDoc>> {
    return (await this.readDocs({ nodes: ids })).nodes;
  }

  /** Point reads for one pass over the graph (a compliance check), each document read at most once. */
  reader(): GraphReader {
    return new GraphReader(this.container, this.meter);
  }

  /** The closure documents of a node (validated), or undefined when not computed yet. */
  async closure(nodeId: string, dir: ClosureDir): Promise<(ClosureDoc & { _etag?: string }) | undefined> {
    const { id, pk } = closureKey(nodeId, dir);
    const response = await unlessNotFound(
      metered(this.meter, `reading the closure of ${nodeId}`, () => this.container.item(id, pk).read<ItemDefinition>()),
    );
    if (!response?.resource) return undefined;
    return { ...parseClosure(response.resource), _etag: response.etag };
  }

  /** An empty closure for a new node, so "no closure" keeps meaning "not computed yet". */
  async ensureClosure(owner: string, dir: ClosureDir): Promise<void> {
    await this.tryCreate(emptyClosure(owner, dir));
  }

  /** Writes a closure as computed from scratch (rebuilds and migrations). */
  async putClosure(doc: ClosureDoc): Promise<void> {
    await metered(this.meter, `writing the closure of ${doc.pk}`, () => this.container.items.upsert(doc));
  }

  /**
   * Closures of several owners by point reads in one batch, with their ETags (for `writeClosure`);
   * keyed by `closureSlot(owner, dir)`, missing ones left out. Each read is retried on its own: the
   * closure stage reads hundreds at once, and one transient failure must not fail them all.
   */
  async closuresOf(
    slots: Array<{ owner: string; dir: ClosureDir }>,
    concurrency = 32,
  ): Promise<Map<string, ClosureDoc & { _etag?: string }>> {
    const out = new Map<string, ClosureDoc & { _etag?: string }>();
    await mapLimited(slots, concurrency, async ({ owner, dir }) => {
      const key = closureKey(owner, dir);
      const raw = (await withRetry(() => readMany(this.container, this.meter, [key]), `reading the closure of ${owner}`)).get(keyOf(key));
      if (raw) out.set(closureSlot(owner, dir), { ...parseClosure(raw), _etag: raw._etag as string | undefined });
    });
    return out;
  }

  /**
   * Writes a closure computed from the version read with `etag` (created when there was none).
   * False when another writer got there first; the caller merges into theirs instead.
   */
  async writeClosure(doc: ClosureDoc, etag: string | undefined): Promise<boolean> {
    if (etag === undefined) return this.tryCreate(doc);
    try {
      await metered(this.meter, `replacing the closure of ${doc.pk}`, () =>
        this.container.item(doc.id, doc.pk).replace(doc, { accessCondition: { type: 'IfMatch', condition: etag } }),
      );
      return true;
    } catch (error) {
      if (error instanceof PreconditionFailedStoreError) return false;
      throw error;
    }
  }

  /**
   * Links the closure stage has not propagated yet (their `out` copies say `closurePending`), at
   * most `limit`: one cross-partition query on an indexed flag, empty when closures are current.
   */
  async pendingLinks(limit: number): Promise<Link[]> {
    const query = `SELECT TOP ${Math.max(1, Math.floor(limit))} c.pk, c.kind, c.to FROM c WHERE c.docType = "edge" AND c.closurePending = true`;
    const out: Link[] = [];
    for await (const page of queryPages<{ pk: string; kind: string; to: string }>(this.container, this.meter, query)) {
      for (const row of page) out.push({ from: row.pk, kind: row.kind, to: row.to });
    }
    return out;
  }

  /**
   * Marks links propagated: one patch of each `out` copy (a link deleted since is skipped), each
   * retried on its own (the patch is idempotent).
   */
  async settleLinks(links: Link[], concurrency = 32): Promise<void> {
    await mapLimited(links, concurrency, async (link) => {
      const { id, pk } = edgeCopyKey(link);
      await withRetry(
        () =>
          unlessNotFound(
            metered(this.meter, `settling ${id} in ${pk}`, () =>
              this.container.item(id, pk).patch([{ op: 'set', path: '/closurePending', value: false }]),
            ),
          ),
        `settling ${id}`,
      );
    });
  }

  /** Merges `doc` into the stored closure, ETag-guarded; 'unchanged' when it adds nothing. */
  async mergeClosure(doc: ClosureDoc): Promise<WriteResult> {
    return this.mergeWith(doc, () => this.closure(doc.pk, doc.dir), mergeClosures, `the closure of ${doc.pk}`);
  }

  /** Nodes whose label starts with `prefix` (case-insensitive), or that carry tag `key` (= `value`). */
  async search(criteria: {
    prefix?: string;
    tagKey?: string;
    tagValue?: string;
    kind?: string;
    workspace?: string;
    limit: number;
  }): Promise<NodeDoc[]> {
    const where = ['c.docType = "node"'];
    const parameters: Array<{ name: string; value: string }> = [];
    if (criteria.prefix !== undefined) {
      where.push('STARTSWITH(LOWER(c.label), @prefix)');
      parameters.push({ name: '@prefix', value: criteria.prefix.toLowerCase() });
    }
    // Tag keys are data, not SQL: nodes with tags are read and matched here rather than
    // building a property path from user input.
    // `value` is a reserved word in Cosmos SQL: bracket it.
    if (criteria.tagKey !== undefined) where.push('IS_DEFINED(c.facts.tags["value"])');
    if (criteria.kind) {
      where.push('c.kind = @kind');
      parameters.push({ name: '@kind', value: criteria.kind });
    }
    if (criteria.workspace) {
      where.push('c.workspace = @workspace');
      parameters.push({ name: '@workspace', value: criteria.workspace });
    }
    const top = criteria.tagKey !== undefined ? 2000 : Math.max(1, Math.min(200, criteria.limit));
    const query = { query: `SELECT TOP ${top} * FROM c WHERE ${where.join(' AND ')} ORDER BY c.label`, parameters };
    const out: NodeDoc[] = [];
    const tagMatches = (doc: NodeDoc) => {
      if (criteria.tagKey === undefined) return true;
      const tags = doc.facts.tags?.value as Record<string, unknown> | undefined;
      if (!tags || !Object.prototype.hasOwnProperty.call(tags, criteria.tagKey)) return false;
      return criteria.tagValue === undefined || String(tags[criteria.tagKey]) === criteria.tagValue;
    };
    for await (const page of queryPages(this.container, this.meter, query)) {
      for (const raw of page) {
        const doc = parseGraphDoc(raw);
        if (doc.docType === 'node' && tagMatches(doc)) out.push(doc);
      }
      if (out.length >= criteria.limit) break;
    }
    return out.slice(0, criteria.limit);
  }

  /**
   * A summary of every node of these kinds, placeholders included: what the reconcile timer needs
   * to choose what to read again, without the nodes' facts and series.
   */
  async *nodeSummaries(kinds: readonly string[]): AsyncGenerator<NodeSummary[]> {
    // `value` is a reserved word in Cosmos SQL: bracket it.
    const query = {
      query:
        'SELECT c.id, c.kind, c.key, c.placeholder, c.facts.deletedAt AS deletedAt, c.facts.status["value"] AS status, c.provenance ' +
        'FROM c WHERE c.docType = "node" AND ARRAY_CONTAINS(@kinds, c.kind)',
      parameters: [{ name: '@kinds', value: [...kinds] }],
    };
    for await (const page of queryPages<NodeSummaryRow>(this.container, this.meter, query)) {
      yield page.map((row) => ({
        id: row.id,
        kind: row.kind,
        key: row.key,
        placeholder: row.placeholder === true,
        deleted: row.deletedAt !== undefined,
        status: typeof row.status === 'string' ? row.status : undefined,
        lastLearnedAt: (row.provenance ?? []).reduce<string | null>((m, p) => (m === null || p.learnedAt > m ? p.learnedAt : m), null),
      }));
    }
  }

  /** Every document, for tests and full rebuilds. */
  async all(): Promise<GraphDoc[]> {
    const out: GraphDoc[] = [];
    for await (const page of queryPages(this.container, this.meter, 'SELECT * FROM c WHERE c.docType = "node" OR c.docType = "edge"')) {
      for (const raw of page) out.push(parseGraphDoc(raw));
    }
    return out;
  }
}
