import { canonicalJson } from '../util/canonicalJson.js';
import { getOwn, setOwn } from '../util/ownProperties.js';
import { edgeKey } from './closure.js';
import { nodeId, type NodeRef } from './keys.js';
import type { EdgeDoc, EdgeKind, Fact, GraphDoc, NodeDoc, Provenance, SeriesEntry } from './model.js';

/**
 * Documents are merged with a join: commutative, associative and idempotent. That is what makes
 * redelivery, duplicates and any arrival order produce the same stored graph.
 *
 * - A fact keeps the value asserted by the newest event time; equal times fall back to the
 *   content hash so the choice is still independent of arrival order.
 * - Series (e.g. a job's status history) keep every distinct entry.
 * - Provenance keeps the earliest asserting event and the newest ones, up to a cap; the raw event
 *   log holds the rest.
 */
export const PROVENANCE_CAP = 50;
/**
 * Edges keep the earliest event that asserted them: a link asserted again by every status change
 * of a job would otherwise be rewritten each time. The raw log keeps every assertion.
 */
export const EDGE_PROVENANCE_CAP = 1;
export const SERIES_CAP = 100;

interface Stamp {
  instant: string;
  hash: string;
}

function compareStamp(a: Stamp, b: Stamp): number {
  if (a.instant !== b.instant) return a.instant < b.instant ? -1 : 1;
  if (a.hash !== b.hash) return a.hash < b.hash ? -1 : 1;
  return 0;
}

export function factFrom(value: unknown, prov: Provenance): Fact {
  return { value, instant: prov.instant, eventTime: prov.eventTime, hash: prov.hash };
}

export function mergeFacts(a: Record<string, Fact>, b: Record<string, Fact>): Record<string, Fact> {
  const out: Record<string, Fact> = { ...a };
  for (const [name, fact] of Object.entries(b)) {
    const current = getOwn(out, name);
    if (!current) {
      setOwn(out, name, fact);
      continue;
    }
    const order = compareStamp(current, fact);
    if (order < 0 || (order === 0 && canonicalJson(fact.value) > canonicalJson(current.value))) setOwn(out, name, fact);
  }
  return sortKeys(out);
}

/** Sorted union, truncated to the first entry plus the newest `cap - 1`; truncation commutes with union. */
function boundedUnion<T>(
  items: T[],
  keyOf: (t: T) => string,
  compare: (a: T, b: T) => number,
  cap: number,
  combine?: (a: T, b: T) => T,
): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const k = keyOf(item);
    const existing = byKey.get(k);
    byKey.set(k, existing && combine ? combine(existing, item) : (existing ?? item));
  }
  const sorted = [...byKey.values()].sort(compare);
  if (sorted.length <= cap) return sorted;
  return [sorted[0] as T, ...sorted.slice(sorted.length - (cap - 1))];
}

export function mergeProvenance(a: Provenance[], b: Provenance[], cap = PROVENANCE_CAP): Provenance[] {
  return boundedUnion(
    [...a, ...b],
    (p) => p.hash,
    compareStamp,
    cap,
    // The same event delivered twice: keep the record of the first delivery (ties broken by
    // content, so the choice is independent of arrival order).
    (x, y) => (y.learnedAt < x.learnedAt || (y.learnedAt === x.learnedAt && canonicalJson(y) < canonicalJson(x)) ? y : x),
  );
}

function mergeSeries(a: Record<string, SeriesEntry[]>, b: Record<string, SeriesEntry[]>): Record<string, SeriesEntry[]> {
  const out: Record<string, SeriesEntry[]> = {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    setOwn(
      out,
      name,
      boundedUnion(
        [...(getOwn(a, name) ?? []), ...(getOwn(b, name) ?? [])],
        (e) => `${e.instant}|${e.hash}|${canonicalJson(e.value)}`,
        (x, y) => compareStamp(x, y) || (canonicalJson(x.value) < canonicalJson(y.value) ? -1 : 1),
        SERIES_CAP,
      ),
    );
  }
  return sortKeys(out);
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return mapSorted(obj, (v) => v);
}

/** `values` with its keys in code-unit order, each defined value mapped by `fn`. */
function mapSorted<V, T>(values: Record<string, V>, fn: (v: V) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(values).sort()) {
    const v = values[k] as V;
    if (v === undefined) continue;
    // A key named `__proto__` (it is data: a tag name) must stay an own property, as fromEntries kept it.
    if (k === '__proto__') Object.defineProperty(out, k, { value: fn(v), enumerable: true, writable: true, configurable: true });
    else out[k] = fn(v);
  }
  return out;
}

function pickLabel(a: NodeDoc, b: NodeDoc): string {
  // Prefer a label spelled by an event about the node itself, then the smallest, so the pick
  // does not depend on which document arrived first.
  if (a.placeholder !== b.placeholder) return a.placeholder ? b.label : a.label;
  return a.label <= b.label ? a.label : b.label;
}

export function mergeNodes(a: NodeDoc, b: NodeDoc): NodeDoc {
  const merged: NodeDoc = {
    id: a.id,
    pk: a.pk,
    docType: 'node',
    kind: a.kind,
    key: a.key,
    workspace: a.workspace,
    label: pickLabel(a, b),
    placeholder: a.placeholder && b.placeholder,
    facts: mergeFacts(a.facts, b.facts),
    series: mergeSeries(a.series, b.series),
    provenance: mergeProvenance(a.provenance, b.provenance),
  };
  // Marks are rare (a node with links the stage has yet to propagate): the join does no work without them.
  return a.closurePending || b.closurePending ? withMarks(merged, [...(a.closurePending ?? []), ...(b.closurePending ?? [])]) : merged;
}

/**
 * Marks on a node: the links touching it whose copy in its partition is pending. The write path
 * adds a mark in the same batch as the copy it stands for (store/graphWrites.ts), the closure
 * stage removes it once the link is propagated, and joins keep every mark either side holds (a
 * concurrent removal makes the other writer's ETag stale, so it reads again). A node without
 * marks carries no field, so a settled graph looks the same whatever happened before.
 */
export function withMarks(node: NodeDoc, add: readonly string[], remove: readonly string[] = []): NodeDoc {
  const gone = new Set(remove);
  const marks = [...new Set([...(node.closurePending ?? []), ...add])].filter((m) => !gone.has(m)).sort();
  const { closurePending: _old, ...rest } = node;
  return marks.length > 0 ? { ...rest, closurePending: marks } : rest;
}

/** The mark a pending link copy puts on the node of its partition; undefined for anything else. */
export function pendingMark(doc: GraphDoc): string | undefined {
  return doc.docType === 'edge' && doc.closurePending === true ? edgeKey(doc.from, doc.kind, doc.to) : undefined;
}

export function mergeEdges(a: EdgeDoc, b: EdgeDoc): EdgeDoc {
  return {
    ...a,
    facts: mergeFacts(a.facts, b.facts),
    series: mergeSeries(a.series, b.series),
    provenance: mergeProvenance(a.provenance, b.provenance, EDGE_PROVENANCE_CAP),
    // Propagated once is propagated for good: a link is pending only while every copy says so
    // (a copy without the flag predates the closure stage, whose links were propagated on capture).
    ...(a.closurePending !== undefined || b.closurePending !== undefined
      ? { closurePending: a.closurePending === true && b.closurePending === true }
      : {}),
  };
}

export function placeholderNode(ref: NodeRef): NodeDoc {
  const id = nodeId(ref.kind, ref.key);
  return {
    id,
    pk: id,
    docType: 'node',
    kind: ref.kind,
    key: ref.key,
    workspace: ref.workspace,
    label: ref.label,
    placeholder: true,
    facts: {},
    series: {},
    provenance: [],
  };
}

function factsFrom(values: Record<string, unknown> | undefined, prov: Provenance): Record<string, Fact> {
  return mapSorted(values ?? {}, (v) => factFrom(v, prov));
}

function seriesFrom(values: Record<string, unknown> | undefined, prov: Provenance): Record<string, SeriesEntry[]> {
  return mapSorted(values ?? {}, (v) => [{ value: v, instant: prov.instant, eventTime: prov.eventTime, hash: prov.hash }]);
}

export function assertedNode(
  ref: NodeRef,
  facts: Record<string, unknown>,
  series: Record<string, unknown> | undefined,
  prov: Provenance,
): NodeDoc {
  const doc = placeholderNode(ref);
  doc.placeholder = false;
  doc.facts = factsFrom(facts, prov);
  doc.series = seriesFrom(series, prov);
  doc.provenance = [prov];
  return doc;
}

export function edgeId(dir: 'out' | 'in', kind: EdgeKind, otherNodeId: string): string {
  return `${dir}~${kind}~${otherNodeId}`;
}

/** The two stored copies of an edge: one with its source node, one with its target. */
export function edgePair(
  kind: EdgeKind,
  from: NodeRef,
  to: NodeRef,
  facts: Record<string, unknown> | undefined,
  prov: Provenance,
  series?: Record<string, unknown>,
): [EdgeDoc, EdgeDoc] {
  const fromId = nodeId(from.kind, from.key);
  const toId = nodeId(to.kind, to.key);
  // Both copies share their facts, series and provenance; each is built as one literal (spreading
  // a shared base into each was most of this function's time).
  const factDocs = factsFrom(facts, prov);
  const seriesDocs = seriesFrom(series, prov);
  const provenance = [prov];
  const copy = (dir: 'out' | 'in', id: string, pk: string): EdgeDoc => ({
    docType: 'edge',
    kind,
    from: fromId,
    to: toId,
    fromKind: from.kind,
    toKind: to.kind,
    fromKey: from.key,
    toKey: to.key,
    facts: factDocs,
    series: seriesDocs,
    provenance,
    id,
    pk,
    dir,
  });
  // A new link waits for the closure stage; merged into a propagated copy, it is not pending.
  // Both copies wait: each marks its own node (withMarks), and the stage finds either.
  const out = copy('out', edgeId('out', kind, toId), fromId);
  const inn = copy('in', edgeId('in', kind, fromId), toId);
  out.closurePending = true;
  inn.closurePending = true;
  return [out, inn];
}
