import { canSee } from '../access.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { walk } from './traversal.js';

/**
 * What a model version was built from and where it went, gathered from its upstream and
 * downstream: the producing job and its parameters, data, code, commits, environment, compute,
 * parent models, metrics, approvals and deployments. Diff, gate and evidence all read this.
 */
export interface ModelProfile {
  model: NodeDoc;
  job: NodeDoc | null;
  data: NodeDoc[];
  code: NodeDoc[];
  commits: NodeDoc[];
  environments: NodeDoc[];
  computes: NodeDoc[];
  parentModels: NodeDoc[];
  jobs: NodeDoc[];
  deployments: NodeDoc[];
  parameters: Record<string, unknown>;
  /** Metric-like values found in tags and properties (Azure ML events carry no metrics). */
  metrics: Record<string, unknown>;
  /** Approval evidence: approval-like tags/properties, or a Production/Approved stage. */
  approvals: Array<{ field: string; value: unknown }>;
  upstream: { nodes: NodeDoc[]; edges: EdgeDoc[]; partial: boolean };
}

const METRIC_KEY = /^(metrics?[._:/]|accuracy|auc|roc_auc|f1|precision|recall|rmse|mae|mse|r2|log_?loss|loss|val_|test_)/i;
const APPROVAL_KEY = /approv/i;

function facts(doc: NodeDoc | null, name: string): Record<string, unknown> {
  const v = doc?.facts[name]?.value;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function isTruthy(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return /^(true|yes|approved|1)$/i.test(value.trim());
  return value !== null && value !== undefined && value !== 0;
}

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
  const producer = edges.find((e) => e.kind === 'produced' && e.to === model.id && e.fromKind === 'job');
  const job = producer ? (nodes.find((n) => n.id === producer.from) ?? null) : null;
  const ofKind = (...kinds: string[]) => nodes.filter((n) => kinds.includes(n.kind)).sort((a, b) => a.key.localeCompare(b.key));
  // A data asset's location (`locationOf`, under each name its files have) is that asset's files:
  // the asset stands for it among the data, and the job that wrote the files among the jobs.
  const locationOnly = (n: NodeDoc) => {
    const out = edges.filter((e) => e.from === n.id);
    return out.length > 0 && out.every((e) => e.kind === 'locationOf');
  };

  const metrics: Record<string, unknown> = {};
  const approvals: Array<{ field: string; value: unknown }> = [];
  for (const [source, doc] of [
    ['model', model],
    ['job', job],
  ] as const) {
    for (const field of ['tags', 'properties']) {
      for (const [k, v] of Object.entries(facts(doc, field))) {
        if (METRIC_KEY.test(k)) metrics[`${source}.${field}.${k}`] = v;
        if (APPROVAL_KEY.test(k) && isTruthy(v)) approvals.push({ field: `${source}.${field}.${k}`, value: v });
      }
    }
  }
  const stage = model.facts.stage?.value;
  if (typeof stage === 'string' && /^(production|approved)$/i.test(stage)) approvals.push({ field: 'model.stage', value: stage });

  return {
    model,
    job,
    data: ofKind('data', 'dataset', 'storage').filter((n) => !locationOnly(n)),
    code: ofKind('code'),
    commits: ofKind('commit'),
    environments: ofKind('environment'),
    computes: ofKind('compute'),
    parentModels: ofKind('model'),
    jobs: ofKind('job'),
    deployments: down.order
      .map((o) => o.doc)
      .filter((d) => (d.kind === 'deployment' || d.kind === 'service') && canSee(scope, d.workspace)),
    parameters: facts(job, 'parameters'),
    metrics,
    approvals,
    upstream: { nodes, edges, partial: up.cut !== undefined },
  };
}
