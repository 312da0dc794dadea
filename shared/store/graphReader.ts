import type { Container, ItemDefinition } from '@azure/cosmos';
import { edgeKey, type Closure, type ClosureDir } from '../graph/closure.js';
import { decodeClosure, manifestPages } from '../graph/closurePages.js';
import type { EdgeDoc, EdgeKind, NodeDoc } from '../graph/model.js';
import { docKeysOf, graphDocsOf, type GraphDocs, type GraphKeys } from './graphDocs.js';
import { keyOf, readMany, type StoredDoc } from './reads.js';
import type { StoreMeter } from './storeMeter.js';

/**
 * Bulk reads (reads.ts) of graph documents for one pass (a compliance check's page of changes), each
 * document read at most once, and documents that arrived in the change stream never read again.
 * Counts what it reads, so a run can report the documents it cost. Documents are validated when
 * first asked for, not when seeded: a page of changes holds many a check never looks at.
 */
export class GraphReader {
  /** Raw documents by `keyOf`; null when read and not there. */
  private readonly docs = new Map<string, ItemDefinition | null>();
  documentsRead = 0;

  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  /** Documents already in hand (from the change stream). */
  seed(docs: StoredDoc[]): void {
    for (const d of docs) this.docs.set(keyOf(d), d);
  }

  private async load(keys: GraphKeys): Promise<GraphDocs> {
    const missing = docKeysOf(keys).filter((k) => !this.docs.has(keyOf(k)));
    if (missing.length > 0) {
      const found = await readMany(this.container, this.meter, missing);
      this.documentsRead += found.size;
      for (const k of missing) this.docs.set(keyOf(k), found.get(keyOf(k)) ?? null);
    }
    return graphDocsOf(keys, (key) => this.docs.get(keyOf(key)));
  }

  async nodes(ids: string[]): Promise<Map<string, NodeDoc>> {
    return (await this.load({ nodes: ids })).nodes;
  }

  async node(id: string): Promise<NodeDoc | undefined> {
    return (await this.nodes([id])).get(id);
  }

  /**
   * Closures by owner: page 0 of each, then the other pages of those that have more, in a second
   * batch. Checks run after the closure stage has been drained; a page met mid-write still holds
   * true facts, so the pages found are joined as they are.
   */
  async closures(ids: string[], dir: ClosureDir): Promise<Map<string, Closure>> {
    const heads = (await this.load({ closures: { dir, of: ids } })).closures;
    const out = new Map<string, Closure>();
    await Promise.all(
      [...heads].map(async ([owner, head]) => {
        const pages = Array.from({ length: manifestPages(head) }, (_, p) => p);
        const stored = pages.length > 1 ? ((await this.load({ closures: { dir, of: [owner], pages } })).closures.get(owner) ?? head) : head;
        out.set(
          owner,
          decodeClosure(
            owner,
            dir,
            [...stored.values()].map((p) => p.doc),
          ),
        );
      }),
    );
    return out;
  }

  async closure(id: string, dir: ClosureDir): Promise<Closure | undefined> {
    return (await this.closures([id], dir)).get(id);
  }

  /** The stored copy of edge `from -kind-> to` kept with `from`. */
  async edge(from: string, kind: EdgeKind, to: string): Promise<EdgeDoc | undefined> {
    return (await this.load({ edges: [{ from, kind, to }] })).edges.get(edgeKey(from, kind, to));
  }
}
