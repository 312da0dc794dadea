import type { Container, ItemDefinition } from '@azure/cosmos';
import { CorruptDocumentError, TransientStoreError } from '../errors.js';
import { closureDocSchema, closureId, emptyClosure, mergeClosures, type ClosureDir, type ClosureDoc } from '../graph/closure.js';
import { mergeEdges, mergeNodes } from '../graph/merge.js';
import { edgeDocSchema, nodeDocSchema, type EdgeDoc, type GraphDoc, type NodeDoc } from '../graph/model.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { queryPages, readMany, stripSystem } from './reads.js';
import type { StoreMeter } from './storeMeter.js';

export type WriteResult = 'created' | 'updated' | 'unchanged';

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function parseClosure(raw: unknown): ClosureDoc {
  const parsed = closureDocSchema.safeParse(stripSystem(raw as Record<string, unknown>));
  if (!parsed.success)
    throw new CorruptDocumentError(`closure document does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** Validates a document read back from Cosmos: the store is an edge too. */
export function parseGraphDoc(raw: unknown): GraphDoc {
  const body = stripSystem(raw as Record<string, unknown>);
  const parsed = body.docType === 'edge' ? edgeDocSchema.safeParse(body) : nodeDocSchema.safeParse(body);
  if (!parsed.success) {
    throw new CorruptDocumentError(`graph document ${String(body.id)} does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`);
  }
  return parsed.data;
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
  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  async read(id: string, pk: string): Promise<(GraphDoc & { _etag?: string }) | undefined> {
    try {
      const response = await this.container.item(id, pk).read<ItemDefinition>();
      this.meter.record(response);
      if (response.statusCode === 404 || !response.resource) return undefined;
      return { ...parseGraphDoc(response.resource), _etag: response.etag };
    } catch (error) {
      this.meter.recordError(error);
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  async readNode(id: string): Promise<NodeDoc | undefined> {
    const doc = await this.read(id, id);
    return doc && doc.docType === 'node' ? doc : undefined;
  }

  /**
   * Merges `doc` into whatever is stored under its id: read, join, write back only if something
   * changed, guarded by the ETag so concurrent writers never lose each other's facts.
   */
  async merge(doc: GraphDoc): Promise<WriteResult> {
    return this.mergeWith(doc, () => this.read(doc.id, doc.pk), join, doc.id);
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
        const response = await this.container
          .item(doc.id, doc.pk)
          .replace(merged, etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {});
        this.meter.record(response);
        return 'updated';
      } catch (error) {
        this.meter.recordError(error);
        if (statusCode(error) === 412) continue; // changed under us: read again
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
      const response = await this.container.items.create(doc);
      this.meter.record(response);
      return true;
    } catch (error) {
      this.meter.recordError(error);
      if (statusCode(error) === 409) return false;
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
   * Point reads of many documents at once (each id with its partition), in parallel: one round
   * trip of latency however many there are. Missing documents are left out.
   */
  async readMany(keys: Array<{ id: string; pk: string }>, concurrency = 32): Promise<Map<string, unknown>> {
    return readMany(this.container, this.meter, keys, concurrency);
  }

  /** The closure documents of a node (validated), or undefined when not computed yet. */
  async closure(nodeId: string, dir: ClosureDir): Promise<(ClosureDoc & { _etag?: string }) | undefined> {
    try {
      const response = await this.container.item(closureId(dir), nodeId).read<ItemDefinition>();
      this.meter.record(response);
      if (!response.resource) return undefined;
      return { ...parseClosure(response.resource), _etag: response.etag };
    } catch (error) {
      this.meter.recordError(error);
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** An empty closure for a new node, so "no closure" keeps meaning "not computed yet". */
  async ensureClosure(owner: string, dir: ClosureDir): Promise<void> {
    await this.tryCreate(emptyClosure(owner, dir));
  }

  /** Writes a closure as computed from scratch (rebuilds and migrations). */
  async putClosure(doc: ClosureDoc): Promise<void> {
    try {
      this.meter.record(await this.container.items.upsert(doc));
    } catch (error) {
      this.meter.recordError(error);
      throw error;
    }
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

  /** Every document, for tests and full rebuilds. */
  async all(): Promise<GraphDoc[]> {
    const out: GraphDoc[] = [];
    for await (const page of queryPages(this.container, this.meter, 'SELECT * FROM c WHERE c.docType = "node" OR c.docType = "edge"')) {
      for (const raw of page) out.push(parseGraphDoc(raw));
    }
    return out;
  }
}

function join(a: GraphDoc, b: GraphDoc): GraphDoc {
  if (a.docType === 'node' && b.docType === 'node') return mergeNodes(a, b);
  if (a.docType === 'edge' && b.docType === 'edge') return mergeEdges(a, b);
  throw new CorruptDocumentError(`document ${a.id} changed type`);
}
