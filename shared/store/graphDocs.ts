import type { ItemDefinition } from '@azure/cosmos';
import { CorruptDocumentError } from '../errors.js';
import { edgeKey, type ClosureDir } from '../graph/closure.js';
import { closurePageSchema, legacyClosureSchema, pageId, type StoredClosurePage, type StoredPages } from '../graph/closurePages.js';
import { edgeId } from '../graph/merge.js';
import { edgeDocSchema, nodeDocSchema, type EdgeDoc, type EdgeKind, type GraphDoc, type NodeDoc } from '../graph/model.js';
import { stripSystem, type DocKey } from './reads.js';

/**
 * Graph documents as the store keeps them (a node in its own partition, each edge's stored copy
 * with its source, closures with their owner), validated on the way out: the store is an edge too.
 */

/** A closure page as stored (the paged shape, or the one-document shape before it). */
export function parseClosurePage(raw: unknown): StoredClosurePage {
  const body = stripSystem(raw as Record<string, unknown>);
  const parsed = 'shape' in body ? closurePageSchema.safeParse(body) : legacyClosureSchema.safeParse(body);
  if (!parsed.success)
    throw new CorruptDocumentError(`closure document does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

export function parseGraphDoc(raw: unknown): GraphDoc {
  const body = stripSystem(raw as Record<string, unknown>);
  const parsed = body.docType === 'edge' ? edgeDocSchema.safeParse(body) : nodeDocSchema.safeParse(body);
  if (!parsed.success) {
    throw new CorruptDocumentError(`graph document ${String(body.id)} does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`);
  }
  return parsed.data;
}

/** A link between two nodes, as closures and answers name it. */
export interface Link {
  from: string;
  kind: string;
  to: string;
}

export const nodeKey = (id: string): DocKey => ({ id, pk: id });
/** A stored copy of a link: the `out` edge, kept with its source (what answers read), or the `in` edge, kept with its target. */
export const edgeCopyKey = (link: Link, dir: 'out' | 'in' = 'out'): DocKey =>
  dir === 'out'
    ? { id: edgeId('out', link.kind as EdgeKind, link.to), pk: link.from }
    : { id: edgeId('in', link.kind as EdgeKind, link.from), pk: link.to };
export const closureKey = (owner: string, dir: ClosureDir, page = 0): DocKey => ({ id: pageId(dir, page), pk: owner });
/** A closure as one string, for maps: its owner and direction. */
export const closureSlot = (owner: string, dir: ClosureDir): string => `${dir}|${owner}`;

/** Documents to read together (bulk reads, reads.ts). */
export interface GraphKeys {
  nodes?: string[];
  /** The stored copies of these links. */
  edges?: Link[];
  /** These nodes' closure pages in one direction (page 0, the manifest, unless `pages` says). */
  closures?: { dir: ClosureDir; of: string[]; pages?: number[] };
}

/** What a batch found; documents that are not there are left out. */
export interface GraphDocs {
  /** By node id. */
  nodes: Map<string, NodeDoc>;
  /** By `edgeKey(from, kind, to)`. */
  edges: Map<string, EdgeDoc>;
  /** By owner node id: the pages found, with their ETags. */
  closures: Map<string, StoredPages>;
}

/** Sorts raw documents found under the keys of `keys` into typed, keyed maps. */
export function graphDocsOf(keys: GraphKeys, found: (key: DocKey) => ItemDefinition | null | undefined): GraphDocs {
  const out: GraphDocs = { nodes: new Map(), edges: new Map(), closures: new Map() };
  for (const id of keys.nodes ?? []) {
    const raw = found(nodeKey(id));
    const doc = raw ? parseGraphDoc(raw) : undefined;
    if (doc?.docType === 'node') out.nodes.set(id, doc);
  }
  for (const link of keys.edges ?? []) {
    const raw = found(edgeCopyKey(link));
    const doc = raw ? parseGraphDoc(raw) : undefined;
    if (doc?.docType === 'edge') out.edges.set(edgeKey(link.from, link.kind, link.to), doc);
  }
  if (keys.closures) {
    const { dir, pages = [0] } = keys.closures;
    for (const owner of keys.closures.of) {
      const stored: StoredPages = new Map();
      for (const page of pages) {
        const raw = found(closureKey(owner, dir, page));
        if (raw) stored.set(page, { doc: parseClosurePage(raw), etag: raw._etag as string | undefined });
      }
      if (stored.size > 0) out.closures.set(owner, stored);
    }
  }
  return out;
}

/** Every key of `keys`, in the order of the batch (nodes, edges, closures). */
export function docKeysOf(keys: GraphKeys): DocKey[] {
  const closures = keys.closures;
  return [
    ...(keys.nodes ?? []).map(nodeKey),
    ...(keys.edges ?? []).map((link) => edgeCopyKey(link)),
    ...(closures ? closures.of.flatMap((owner) => (closures.pages ?? [0]).map((page) => closureKey(owner, closures.dir, page))) : []),
  ];
}
