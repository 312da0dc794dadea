import type { Container, ItemDefinition } from '@azure/cosmos';
import { ConflictStoreError, NotFoundStoreError, PreconditionFailedStoreError, TransientStoreError } from '../errors.js';
import { edgeKey, mergeClosures, type Closure, type ClosureDir } from '../graph/closure.js';
import { withMarks } from '../graph/merge.js';
import { decodeClosure, manifestPages, planClosureWrite, type StoredPages } from '../graph/closurePages.js';
import type { EdgeDoc, GraphDoc, NodeDoc } from '../graph/model.js';
import { mapLimited } from '../util/mapLimited.js';
import { closureSlot, docKeysOf, edgeCopyKey, graphDocsOf, parseGraphDoc, type GraphDocs, type GraphKeys, type Link } from './graphDocs.js';
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

  /** A referenced-but-unseen node: created if absent, otherwise left as it is (one round trip). */
  async ensure(doc: GraphDoc): Promise<WriteResult> {
    return (await this.tryCreate(doc)) ? 'created' : 'unchanged';
  }

  private async tryCreate(doc: GraphDoc): Promise<boolean> {
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

  /**
   * A closure's pages, with their ETags: page 0, then (a second round trip, only for a closure of
   * more than one page) the pages it names, and `extra` pages (ones found beyond them). Empty
   * when none is stored. Each read is retried on its own.
   */
  async closurePages(owner: string, dir: ClosureDir, extra: readonly number[] = []): Promise<StoredPages> {
    const read = (pages: number[]) =>
      withRetry(() => this.readDocs({ closures: { dir, of: [owner], pages } }), `reading the closure of ${owner}`).then(
        (found) => found.closures.get(owner) ?? new Map<number, never>(),
      );
    const stored = await read([0, ...extra]);
    const more = Array.from({ length: manifestPages(stored) }, (_, p) => p).filter((p) => !stored.has(p));
    if (more.length > 0) for (const [p, page] of await read(more)) stored.set(p, page);
    return stored;
  }

  /** Closures of several owners (their pages, as `closurePages`), keyed by `closureSlot(owner, dir)`. */
  async closurePagesOf(slots: Array<{ owner: string; dir: ClosureDir }>, concurrency = 32): Promise<Map<string, StoredPages>> {
    const out = new Map<string, StoredPages>();
    await mapLimited(slots, concurrency, async ({ owner, dir }) => {
      out.set(closureSlot(owner, dir), await this.closurePages(owner, dir));
    });
    return out;
  }

  /** Some pages of a closure (page 0 among them) in one round trip: what a lookup reads. */
  async closureSlice(owner: string, dir: ClosureDir, pages: number[]): Promise<StoredPages> {
    return (await this.readDocs({ closures: { dir, of: [owner], pages } })).closures.get(owner) ?? new Map<number, never>();
  }

  /** A node's closure in one direction, or undefined when none is stored. */
  async closure(owner: string, dir: ClosureDir): Promise<Closure | undefined> {
    const stored = await this.closurePages(owner, dir);
    return stored.size === 0
      ? undefined
      : decodeClosure(
          owner,
          dir,
          [...stored.values()].map((p) => p.doc),
        );
  }

  /**
   * Takes the stored pages `stored` (as read) to `closure`: the changed pages, each ETag-guarded
   * (created when new), page 0 last. 'conflict' when another writer changed one meanwhile, with
   * the page a create found already there (a write that stopped before its manifest).
   */
  async writeClosure(closure: Closure, stored: StoredPages): Promise<{ written: number; conflict?: { page: number } }> {
    let written = 0;
    for (const { doc, etag } of planClosureWrite(closure, stored)) {
      const what = `writing ${doc.id} of ${doc.pk}`;
      try {
        if (etag === undefined) await metered(this.meter, what, () => this.container.items.create(doc));
        else
          await metered(this.meter, what, () =>
            this.container.item(doc.id, doc.pk).replace(doc, { accessCondition: { type: 'IfMatch', condition: etag } }),
          );
        written++;
      } catch (error) {
        if (error instanceof PreconditionFailedStoreError || error instanceof ConflictStoreError || error instanceof NotFoundStoreError)
          return { written, conflict: { page: doc.page } };
        throw error;
      }
    }
    return { written };
  }

  /**
   * Brings the stored closure to `next(current)`, reading again after a conflict; 'unchanged' when
   * there was nothing to write. Pages found beyond the manifest are read from then on, and their
   * members are true (a write in progress), so they join `current`.
   */
  private async rewriteClosure(owner: string, dir: ClosureDir, next: (current: Closure) => Closure): Promise<WriteResult> {
    const extra = new Set<number>();
    for (let round = 0; round < MAX_CONFLICT_ROUNDS; round++) {
      await backoff(round);
      const stored = await this.closurePages(owner, dir, [...extra]);
      const current = decodeClosure(
        owner,
        dir,
        [...stored.values()].map((p) => p.doc),
      );
      const { written, conflict } = await withRetry(() => this.writeClosure(next(current), stored), `writing the closure of ${owner}`);
      if (!conflict) return written === 0 ? 'unchanged' : stored.size === 0 ? 'created' : 'updated';
      if (!stored.has(conflict.page)) extra.add(conflict.page);
    }
    throw new TransientStoreError(`gave up writing the closure of ${owner} after ${MAX_CONFLICT_ROUNDS} concurrent updates`);
  }

  /** Merges `closure` into the stored one (a union: nothing another writer added is lost). */
  async mergeClosure(closure: Closure): Promise<WriteResult> {
    return this.rewriteClosure(closure.owner, closure.dir, (current) => mergeClosures(current, closure));
  }

  /** Writes a closure as computed from scratch (rebuilds and migrations), replacing what is stored. */
  async putClosure(closure: Closure): Promise<void> {
    await this.rewriteClosure(closure.owner, closure.dir, () => closure);
  }

  /**
   * Links the closure stage has not propagated yet, from the copies that say `closurePending`
   * (either copy: each marks its own node, and the `in` copy may land after the stage settled the
   * `out` one), at most `limit` copies: one cross-partition query on an indexed flag, empty when
   * closures are current. The stage's own discovery, off every lookup's path.
   */
  async pendingLinks(limit: number): Promise<Link[]> {
    const query = `SELECT TOP ${Math.max(1, Math.floor(limit))} c["from"] AS src, c.kind, c.to FROM c WHERE c.docType = "edge" AND c.closurePending = true`;
    const out = new Map<string, Link>();
    for await (const page of queryPages<{ src: string; kind: string; to: string }>(this.container, this.meter, query)) {
      for (const row of page) out.set(edgeKey(row.src, row.kind, row.to), { from: row.src, kind: row.kind, to: row.to });
    }
    return [...out.values()];
  }

  /**
   * Marks links propagated: first the marks on their nodes (each node read, the marks removed,
   * replaced if its ETag still holds, else read again), then both copies patched (a copy not
   * there, deleted or not yet written, is skipped), each retried on its own. Marks go first: a
   * run that stops between leaves copies pending, which the next run finds and settles again.
   */
  async settleLinks(links: Link[], concurrency = 32): Promise<void> {
    const marks = new Map<string, string[]>();
    for (const { from, kind, to } of links)
      for (const node of new Set([from, to])) marks.set(node, [...(marks.get(node) ?? []), edgeKey(from, kind, to)]);
    await mapLimited([...marks], concurrency, ([node, settled]) => withRetry(() => this.unmark(node, settled), `unmarking ${node}`));
    const copies = links.flatMap((link) => [edgeCopyKey(link), edgeCopyKey(link, 'in')]);
    await mapLimited(copies, concurrency, async ({ id, pk }) => {
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

  /** Removes `settled` from the marks on `node` (nothing when it carries none of them). */
  private async unmark(node: string, settled: string[]): Promise<void> {
    for (let round = 0; round < MAX_CONFLICT_ROUNDS; round++) {
      await backoff(round);
      const stored = await this.read(node, node);
      if (stored?.docType !== 'node' || !settled.some((m) => stored.closurePending?.includes(m))) return;
      const { _etag: etag, ...doc } = stored;
      try {
        await metered(this.meter, `unmarking ${node}`, () =>
          this.container
            .item(node, node)
            .replace(withMarks(doc, [], settled), { accessCondition: { type: 'IfMatch', condition: etag as string } }),
        );
        return;
      } catch (error) {
        if (!(error instanceof PreconditionFailedStoreError) && !(error instanceof NotFoundStoreError)) throw error;
      }
    }
    throw new TransientStoreError(`gave up unmarking ${node} after ${MAX_CONFLICT_ROUNDS} concurrent updates`);
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
