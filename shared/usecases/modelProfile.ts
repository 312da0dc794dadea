import { canSee } from '../access.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { isRecord } from '../util/isRecord.js';
import { walk } from './traversal.js';

/**
 * What a model version was built from and where it went, gathered from its upstream and
 * downstream: the producing job, its parameters and its MLflow run's metrics, data (with digests
 * where a run logged them), code, commits, environment, compute, parent models, approvals and
 * deployments. Diff, gate and evidence all read this; every value names the fact that asserted it.
 */
export interface FactRef {
  node: string;
  fact: string;
  eventTime: string;
  hash: string;
}

export interface Approval {
  node: NodeDoc;
  decision: string;
  /** Who decided: an identity token (`identity:…`), an Entra object id, or a service principal's name. */
  by: string | null;
  at: string | null;
  ticket: string | null;
  link: string | null;
  source: string;
}

export interface ModelProfile {
  model: NodeDoc;
  job: NodeDoc | null;
  data: NodeDoc[];
  /** Digests logged for a data node by the runs that read it (MLflow dataset inputs), by node id. */
  dataDigests: Map<string, string[]>;
  code: NodeDoc[];
  commits: NodeDoc[];
  environments: NodeDoc[];
  computes: NodeDoc[];
  parentModels: NodeDoc[];
  jobs: NodeDoc[];
  deployments: NodeDoc[];
  /** The producing job's parameters: its literal inputs and its MLflow run's params. */
  parameters: Record<string, { value: unknown; source: FactRef }>;
  /** The producing job's MLflow run: the latest value of each metric. */
  metrics: Record<string, { value: number; source: FactRef }>;
  approvals: Approval[];
  upstream: { nodes: NodeDoc[]; edges: EdgeDoc[]; partial: boolean };
}

function factRef(doc: NodeDoc, fact: string): FactRef | undefined {
  const f = doc.facts[fact];
  return f ? { node: doc.id, fact, eventTime: f.eventTime, hash: f.hash } : undefined;
}

function entries(doc: NodeDoc | null, fact: string): Array<[string, unknown, FactRef]> {
  const ref = doc ? factRef(doc, fact) : undefined;
  const value = doc?.facts[fact]?.value;
  return ref && isRecord(value) ? Object.entries(value).map(([k, v]) => [k, v, ref]) : [];
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export async function modelProfile(
  graph: GraphStore,
  model: NodeDoc,
  depth = 8,
  maxNodes = 500,
  scope: Set<string> | null = null,
): Promise<ModelProfile> {
  const deadline = Date.now() + 10_000;
  const up = await walk(graph, model, 'in', depth, maxNodes, deadline);
  const down = await walk(graph, model, 'out', 2, 100, deadline);
  // Nodes of workspaces the caller may not see are left out, and so are links to them.
  const nodes = up.order.map((o) => o.doc).filter((d) => d.id !== model.id && canSee(scope, d.workspace));
  const ids = new Set([model.id, ...nodes.map((n) => n.id)]);
  const edges = [...up.edges.values()].filter((e) => ids.has(e.from) && ids.has(e.to));
  // A copy (a version promoted to a registry) was built by whatever built the version it copies.
  const producerOf = (id: string) => edges.find((e) => e.kind === 'produced' && e.to === id && e.fromKind === 'job');
  const originOf = (id: string) => edges.find((e) => e.kind === 'copiedTo' && e.to === id && e.fromKind === 'model')?.from;
  let built: string | undefined = model.id;
  for (let hops = 0; built && !producerOf(built) && hops < 4; hops++) built = originOf(built);
  const producer = built ? producerOf(built) : undefined;
  const job = producer ? (nodes.find((n) => n.id === producer.from) ?? null) : null;
  const ofKind = (...kinds: string[]) => nodes.filter((n) => kinds.includes(n.kind)).sort((a, b) => a.key.localeCompare(b.key));
  // A data asset's location (`locationOf`, under each name its files have) is that asset's files:
  // the asset stands for it among the data, and the job that wrote the files among the jobs.
  const locationOnly = (n: NodeDoc) => {
    const out = edges.filter((e) => e.from === n.id);
    return out.length > 0 && out.every((e) => e.kind === 'locationOf');
  };

  const parameters: ModelProfile['parameters'] = {};
  // Literal job inputs win over MLflow params of the same name: they are what the job was given.
  for (const [k, v, source] of [...entries(job, 'mlflowParams'), ...entries(job, 'parameters')]) parameters[k] = { value: v, source };
  const metrics: ModelProfile['metrics'] = {};
  for (const [k, v, source] of entries(job, 'metrics')) if (typeof v === 'number') metrics[k] = { value: v, source };

  const dataDigests = new Map<string, string[]>();
  for (const e of edges) {
    const digest = e.kind === 'inputOf' ? e.facts.digest?.value : undefined;
    if (typeof digest === 'string') dataDigests.set(e.from, [...new Set([...(dataDigests.get(e.from) ?? []), digest])].sort());
  }

  const approvalNodes = edges.filter((e) => e.kind === 'approvalOf' && e.to === model.id).map((e) => e.from);
  const approvals = nodes
    .filter((n) => n.kind === 'approval' && approvalNodes.includes(n.id))
    .map((n): Approval => ({
      node: n,
      decision: text(n.facts.decision?.value) ?? 'approved',
      by: text(n.facts.by?.value),
      at: text(n.facts.at?.value),
      ticket: text(n.facts.ticket?.value),
      link: text(n.facts.link?.value),
      source: text(n.facts.source?.value) ?? 'unknown',
    }))
    .sort((a, b) => (a.at ?? '').localeCompare(b.at ?? '') || a.node.key.localeCompare(b.node.key));

  return {
    model,
    job,
    data: ofKind('data', 'dataset', 'storage').filter((n) => !locationOnly(n)),
    dataDigests,
    code: ofKind('code'),
    commits: ofKind('commit'),
    environments: ofKind('environment'),
    computes: ofKind('compute'),
    parentModels: ofKind('model'),
    jobs: ofKind('job'),
    deployments: down.order
      .map((o) => o.doc)
      .filter((d) => (d.kind === 'deployment' || d.kind === 'service') && canSee(scope, d.workspace)),
    parameters,
    metrics,
    approvals,
    upstream: { nodes, edges, partial: up.cut !== undefined },
  };
}

/** One line per decision, as the gate's evidence and chat answers show it: `approved by identity:… at … (tag)`. */
export function describeApproval(a: Pick<Approval, 'decision' | 'by' | 'at' | 'source'>): string {
  return `${a.decision} by ${a.by ?? 'unknown'}${a.at ? ` at ${a.at}` : ''} (${a.source})`;
}

/** The decision that stands: the latest one (by its time), whatever its source. */
export function standingDecision(approvals: Approval[]): Approval | undefined {
  return approvals[approvals.length - 1];
}
