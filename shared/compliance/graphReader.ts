import { closureId, parseEdgeKey, type ClosureDir, type ClosureDoc } from '../graph/closure.js';
import { kindOfId } from '../graph/keys.js';
import { edgeId } from '../graph/merge.js';
import type { EdgeDoc, EdgeKind, NodeDoc } from '../graph/model.js';
import { parseClosure, parseGraphDoc, type GraphStore } from '../store/graphStore.js';
import { latestAtOrBefore } from '../usecases/asOf.js';
import type { ChangedDoc } from './changes.js';

/**
 * Point reads of graph documents for one compliance run, each document read at most once, and
 * documents that arrived in the change stream never read again. Counts what it reads, so a run can
 * report the documents it cost.
 */
export class GraphReader {
  private readonly docs = new Map<string, unknown>();
  documentsRead = 0;

  constructor(private readonly graph: GraphStore) {}

  /** Documents already in hand (from the change stream). */
  seed(docs: ChangedDoc[]): void {
    for (const d of docs) this.docs.set(`${d.pk}|${d.id}`, d);
  }

  private async load(keys: Array<{ id: string; pk: string }>): Promise<void> {
    const missing = keys.filter((k) => !this.docs.has(`${k.pk}|${k.id}`));
    if (missing.length === 0) return;
    const found = await this.graph.readMany(missing);
    this.documentsRead += found.size;
    for (const k of missing) this.docs.set(`${k.pk}|${k.id}`, found.get(`${k.pk}|${k.id}`) ?? null);
  }

  async nodes(ids: string[]): Promise<Map<string, NodeDoc>> {
    await this.load(ids.map((id) => ({ id, pk: id })));
    const out = new Map<string, NodeDoc>();
    for (const id of ids) {
      const raw = this.docs.get(`${id}|${id}`);
      if (raw) {
        const doc = parseGraphDoc(raw);
        if (doc.docType === 'node') out.set(id, doc);
      }
    }
    return out;
  }

  async node(id: string): Promise<NodeDoc | undefined> {
    return (await this.nodes([id])).get(id);
  }

  async closures(ids: string[], dir: ClosureDir): Promise<Map<string, ClosureDoc>> {
    await this.load(ids.map((id) => ({ id: closureId(dir), pk: id })));
    const out = new Map<string, ClosureDoc>();
    for (const id of ids) {
      const raw = this.docs.get(`${id}|${closureId(dir)}`);
      if (raw) out.set(id, parseClosure(raw));
    }
    return out;
  }

  async closure(id: string, dir: ClosureDir): Promise<ClosureDoc | undefined> {
    return (await this.closures([id], dir)).get(id);
  }

  /** The stored copy of edge `from -kind-> to` kept with `from`. */
  async edge(from: string, kind: EdgeKind, to: string): Promise<EdgeDoc | undefined> {
    const key = { id: edgeId('out', kind, to), pk: from };
    await this.load([key]);
    const raw = this.docs.get(`${key.pk}|${key.id}`);
    if (!raw) return undefined;
    const doc = parseGraphDoc(raw);
    return doc.docType === 'edge' ? doc : undefined;
  }
}

/** Links of a closure as `{from, kind, to}`. */
export function closureLinks(closure: ClosureDoc | undefined): Array<{ from: string; kind: string; to: string }> {
  return (closure?.edges ?? []).map(parseEdgeKey);
}

/** Model versions linked `deployedTo` a deployment or service, from its upstream closure. */
export function deployedModels(target: string, upClosure: ClosureDoc | undefined): string[] {
  const models = closureLinks(upClosure).filter((l) => l.kind === 'deployedTo' && l.to === target && kindOfId(l.from) === 'model');
  return [...new Set(models.map((l) => l.from))].sort();
}

/** A deployment's traffic share behind each endpoint it serves, as of `instant` (endpoints never observed are left out). */
export async function trafficShares(reader: GraphReader, deployment: string, instant: string): Promise<number[]> {
  const down = await reader.closure(deployment, 'down');
  const shares: number[] = [];
  for (const l of closureLinks(down).filter((x) => x.kind === 'serves' && x.from === deployment)) {
    const entry = latestAtOrBefore((await reader.edge(deployment, 'serves', l.to))?.series.traffic, instant);
    if (entry) shares.push(Number(entry.value));
  }
  return shares;
}
