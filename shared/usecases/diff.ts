import { DomainError } from '../errors.js';
import type { NodeDoc } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { canonicalJson } from '../util/canonicalJson.js';
import { resolveRoot, toLineageNode, type LineageNode } from './traversal.js';
import { modelProfile, type ModelProfile } from './modelProfile.js';

/**
 * Q4: what differs between two model versions, aspect by aspect, each side with the provenance of
 * what it says (the event time and content hash of the event that asserted it).
 */
export interface Sided {
  value: unknown;
  provenance: Array<{ node?: string; fact?: string; eventTime: string; hash: string }>;
}

export interface Difference {
  aspect: string;
  from: Sided;
  to: Sided;
}

export interface DiffAnswer {
  from: LineageNode;
  to: LineageNode;
  differences: Difference[];
  same: string[];
  /** True when either upstream walk hit its bound. */
  partial: boolean;
}

function nodesSide(nodes: NodeDoc[]): Sided {
  return {
    value: nodes.map((n) => n.label).sort(),
    provenance: nodes.flatMap((n) =>
      n.provenance[0] ? [{ node: n.id, eventTime: n.provenance[0].eventTime, hash: n.provenance[0].hash }] : [],
    ),
  };
}

function factSide(doc: NodeDoc | null, name: string, value: unknown): Sided {
  const f = doc?.facts[name];
  return { value, provenance: f ? [{ node: doc?.id, fact: name, eventTime: f.eventTime, hash: f.hash }] : [] };
}

function aspects(p: ModelProfile): Record<string, Sided> {
  return {
    job: nodesSide(p.job ? [p.job] : []),
    data: nodesSide(p.data),
    code: nodesSide(p.code),
    commits: nodesSide(p.commits),
    environment: nodesSide(p.environments),
    compute: nodesSide(p.computes),
    parentModels: nodesSide(p.parentModels),
    parameters: factSide(p.job, 'parameters', p.parameters),
    metrics: { value: p.metrics, provenance: [] },
    tags: factSide(p.model, 'tags', p.model.facts.tags?.value ?? {}),
    properties: factSide(p.model, 'properties', p.model.facts.properties?.value ?? {}),
    approvals: { value: p.approvals, provenance: [] },
    deployments: nodesSide(p.deployments),
  };
}

export async function diff(
  graph: GraphStore,
  query: { from: string; to: string; workspace?: string; scope?: Set<string> | null },
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
  const sa = aspects(pa);
  const sb = aspects(pb);
  const differences: Difference[] = [];
  const same: string[] = [];
  for (const aspect of Object.keys(sa)) {
    const from = sa[aspect] as Sided;
    const to = sb[aspect] as Sided;
    if (canonicalJson(from.value) === canonicalJson(to.value)) same.push(aspect);
    else differences.push({ aspect, from, to });
  }
  return { from: toLineageNode(a), to: toLineageNode(b), differences, same, partial: pa.upstream.partial || pb.upstream.partial };
}
