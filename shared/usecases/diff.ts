import { DomainError } from '../errors.js';
import type { NodeDoc } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { imageDigest } from '../util/imageRef.js';
import { isRecord } from '../util/isRecord.js';
import { resolveRoot, toLineageNode, type LineageNode } from './traversal.js';
import { compareMetric, parseMetricDirections, type MetricChange } from './metrics.js';
import { modelProfile, type FactRef, type ModelProfile } from './modelProfile.js';

/**
 * Q4: what differs between two model versions, aspect by aspect, each side with the provenance of
 * what it says (the event time and content hash of the event that asserted it). Aspects that have
 * values compare them: metrics with from, to, delta and better or worse; parameters by value;
 * environments by image, digest and conda content; code by commit; data by version and digest.
 */
export interface Sided {
  value: unknown;
  provenance: Array<{ node?: string; fact?: string; eventTime: string; hash: string }>;
}

/** One changed value inside an aspect. */
export interface Change {
  name: string;
  from: unknown;
  to: unknown;
  delta?: number | null;
  direction?: MetricChange['direction'];
  verdict?: MetricChange['verdict'];
}

export interface Difference {
  aspect: string;
  from: Sided;
  to: Sided;
  /** What changed, value by value, for aspects made of named values. */
  changes?: Change[];
}

export interface DiffAnswer {
  from: LineageNode;
  to: LineageNode;
  differences: Difference[];
  same: string[];
  /** True when either upstream walk hit its bound. */
  partial: boolean;
}

type Provenance = Sided['provenance'];

function nodesProvenance(nodes: NodeDoc[]): Provenance {
  return nodes.flatMap((n) => (n.provenance[0] ? [{ node: n.id, eventTime: n.provenance[0].eventTime, hash: n.provenance[0].hash }] : []));
}

function nodesSide(nodes: NodeDoc[]): Sided {
  return { value: nodes.map((n) => n.label).sort(), provenance: nodesProvenance(nodes) };
}

function factSide(doc: NodeDoc | null, name: string, value: unknown): Sided {
  const f = doc?.facts[name];
  return { value, provenance: f ? [{ node: doc?.id, fact: name, eventTime: f.eventTime, hash: f.hash }] : [] };
}

/** The distinct facts behind a set of named values. */
function refsOf(values: Record<string, { source: FactRef }>): Provenance {
  const byKey = new Map<string, FactRef>();
  for (const { source } of Object.values(values)) byKey.set(`${source.node}|${source.fact}`, source);
  return [...byKey.values()].sort((a, b) => a.fact.localeCompare(b.fact));
}

const valuesOf = <T>(values: Record<string, { value: T }>): Record<string, T> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.value]));

/** Named values on either side that differ, by name. */
function changedValues(a: Record<string, unknown>, b: Record<string, unknown>): Change[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .sort()
    .filter((k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null))
    .map((name) => ({ name, from: a[name] ?? null, to: b[name] ?? null }));
}

/** `name:version` -> name; other labels (storage paths) are their own name. */
const assetName = (n: NodeDoc) => (/^[^:/]+:[^:/]+$/.test(n.label) ? n.label.slice(0, n.label.lastIndexOf(':')) : n.label);
const assetVersion = (n: NodeDoc) => (/^[^:/]+:[^:/]+$/.test(n.label) ? n.label.slice(n.label.lastIndexOf(':') + 1) : null);

function byName<T>(nodes: NodeDoc[], describe: (n: NodeDoc) => T): Record<string, T | T[]> {
  const out: Record<string, T[]> = {};
  for (const n of nodes) (out[assetName(n)] ??= []).push(describe(n));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? (v[0] as T) : v]));
}

function dataDescription(p: ModelProfile): Record<string, unknown> {
  return byName(p.data, (n) => ({ version: assetVersion(n), digests: p.dataDigests.get(n.id) ?? [] }));
}

const condaLines = (conda: unknown): string[] =>
  typeof conda === 'string'
    ? conda
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0)
    : [];

function environmentDescription(p: ModelProfile): Record<string, unknown> {
  return byName(p.environments, (n) => {
    const image = n.facts.image?.value;
    const digest = imageDigest(image) ?? null;
    return { version: assetVersion(n), image: image ?? null, digest, conda: condaLines(n.facts.condaFile?.value) };
  });
}

/** Conda content changes as lines added and removed, not two walls of YAML. */
function environmentChanges(a: Record<string, unknown>, b: Record<string, unknown>): Change[] {
  return changedValues(a, b).map((c) => {
    const conda = (x: unknown) => (isRecord(x) && Array.isArray(x.conda) ? (x.conda as string[]) : []);
    const [from, to] = [conda(c.from), conda(c.to)];
    const added = to.filter((l) => !from.includes(l));
    const removed = from.filter((l) => !to.includes(l));
    const strip = (x: unknown) => (isRecord(x) ? { ...x, conda: undefined } : x);
    return {
      ...c,
      from: strip(c.from),
      to: isRecord(c.to) ? { ...(strip(c.to) as object), condaAdded: added, condaRemoved: removed } : c.to,
    };
  });
}

function commitsByRepository(p: ModelProfile): Record<string, unknown> {
  const out: Record<string, string[]> = {};
  for (const c of p.commits) {
    const repo = typeof c.facts.repository?.value === 'string' ? c.key.slice('git:'.length, c.key.lastIndexOf('@')) : c.label;
    (out[repo] ??= []).push(c.key.slice(c.key.lastIndexOf('@') + 1));
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? v[0] : v.sort()]));
}

interface Aspect {
  side(p: ModelProfile): Sided;
  changes?(a: Sided, b: Sided): Change[];
}

function aspects(directions: ReadonlyMap<string, 'higher' | 'lower'>): Record<string, Aspect> {
  const records = (s: Sided) => (isRecord(s.value) ? s.value : {});
  return {
    job: { side: (p) => nodesSide(p.job ? [p.job] : []) },
    data: {
      side: (p) => ({ value: dataDescription(p), provenance: nodesProvenance(p.data) }),
      changes: (a, b) => changedValues(records(a), records(b)),
    },
    code: { side: (p) => nodesSide(p.code) },
    commits: {
      side: (p) => ({ value: commitsByRepository(p), provenance: nodesProvenance(p.commits) }),
      changes: (a, b) => changedValues(records(a), records(b)),
    },
    environment: {
      side: (p) => ({ value: environmentDescription(p), provenance: nodesProvenance(p.environments) }),
      changes: (a, b) => environmentChanges(records(a), records(b)),
    },
    compute: { side: (p) => nodesSide(p.computes) },
    parentModels: { side: (p) => nodesSide(p.parentModels) },
    parameters: {
      side: (p) => ({ value: valuesOf(p.parameters), provenance: refsOf(p.parameters) }),
      changes: (a, b) => changedValues(records(a), records(b)),
    },
    metrics: {
      side: (p) => ({ value: valuesOf(p.metrics), provenance: refsOf(p.metrics) }),
      changes: (a, b) => {
        const [x, y] = [records(a) as Record<string, number>, records(b) as Record<string, number>];
        return [...new Set([...Object.keys(x), ...Object.keys(y)])]
          .sort()
          .map((name) => compareMetric(name, x[name], y[name], directions))
          .filter((c) => c.verdict !== 'same');
      },
    },
    tags: { side: (p) => factSide(p.model, 'tags', p.model.facts.tags?.value ?? {}) },
    properties: { side: (p) => factSide(p.model, 'properties', p.model.facts.properties?.value ?? {}) },
    approvals: {
      side: (p) => ({
        value: p.approvals.map((a) => ({ decision: a.decision, by: a.by, at: a.at, ticket: a.ticket, source: a.source })),
        provenance: nodesProvenance(p.approvals.map((a) => a.node)),
      }),
    },
    deployments: { side: (p) => nodesSide(p.deployments) },
  };
}

export async function diff(
  graph: GraphStore,
  query: { from: string; to: string; workspace?: string; scope?: Set<string> | null; metricDirections?: string },
): Promise<DiffAnswer> {
  const [a, b] = await Promise.all([
    resolveRoot(graph, query.from, query.workspace, query.scope),
    resolveRoot(graph, query.to, query.workspace, query.scope),
  ]);
  for (const m of [a, b])
    if (m.kind !== 'model') throw new DomainError('invalid-ref', `${m.label} is a ${m.kind}; diff compares two model versions.`);
  const [pa, pb] = await Promise.all([
    modelProfile(graph, a, 8, 500, query.scope ?? null),
    modelProfile(graph, b, 8, 500, query.scope ?? null),
  ]);
  const differences: Difference[] = [];
  const same: string[] = [];
  for (const [name, aspect] of Object.entries(aspects(parseMetricDirections(query.metricDirections ?? '')))) {
    const from = aspect.side(pa);
    const to = aspect.side(pb);
    if (canonicalJson(from.value) === canonicalJson(to.value)) same.push(name);
    else differences.push({ aspect: name, from, to, ...(aspect.changes ? { changes: aspect.changes(from, to) } : {}) });
  }
  return { from: toLineageNode(a), to: toLineageNode(b), differences, same, partial: pa.upstream.partial || pb.upstream.partial };
}
