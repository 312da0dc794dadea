import { canSee } from '../access.js';
import type { NodeDoc } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { toInstant } from '../util/time.js';
import { latestAtOrBefore } from './asOf.js';
import { resolveRoot, toLineageNode, walk, type LineageNode } from './traversal.js';

/**
 * Q5: a data version, environment, code version, commit or model version is bad; what depends on
 * it now? Everything downstream, with the path that reaches it, and which endpoints are serving a
 * dependent model at this moment (latest traffic and model observations).
 */
export interface ImpactItem {
  node: LineageNode;
  /** Node ids from the root to this node, following edges downstream. */
  path: string[];
}

export interface ImpactAnswer {
  root: LineageNode;
  models: ImpactItem[];
  deployments: Array<ImpactItem & { servingNow: boolean; trafficShare: number | null; model: string | null }>;
  endpoints: Array<ImpactItem & { servingDeployments: string[] }>;
  jobs: ImpactItem[];
  /** Other dependent nodes (data produced downstream, web services, drift signals...). */
  other: ImpactItem[];
  partial: boolean;
  hidden?: number;
}

export async function impact(
  graph: GraphStore,
  query: { ref: string; workspace?: string; depth: number; maxNodes: number; scope?: Set<string> | null; now?: Date },
): Promise<ImpactAnswer> {
  const root = await resolveRoot(graph, query.ref, query.workspace, query.scope);
  const result = await walk(graph, root, 'out', query.depth, query.maxNodes, Date.now() + 10_000);
  const byId = new Map(result.order.map((o) => [o.doc.id, o.doc]));
  // Breadth-first parents give a shortest path to each node.
  const parent = new Map<string, string>();
  const children = new Map<string, string[]>();
  for (const e of result.edges.values()) children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
  const queue = [root.id];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const child of (children.get(id) ?? []).sort()) {
      if (seen.has(child) || !byId.has(child)) continue;
      seen.add(child);
      parent.set(child, id);
      queue.push(child);
    }
  }
  const pathTo = (id: string) => {
    const path = [id];
    while (parent.has(path[0] as string)) path.unshift(parent.get(path[0] as string) as string);
    return path;
  };

  const now = toInstant((query.now ?? new Date()).toISOString()) as string;
  const answer: ImpactAnswer = {
    root: toLineageNode(root),
    models: [],
    deployments: [],
    endpoints: [],
    jobs: [],
    other: [],
    partial: result.cut !== undefined,
  };
  let hidden = 0;
  const modelKeys = new Set<string>();
  for (const { doc } of result.order) if (doc.kind === 'model' && doc.id !== root.id) modelKeys.add(doc.key);
  if (root.kind === 'model') modelKeys.add(root.key);

  const servingModel = (deployment: NodeDoc): string | null => {
    const entry = latestAtOrBefore(deployment.series.model, now);
    return typeof entry?.value === 'string' ? entry.value : null;
  };
  const deploymentShares = new Map<string, number | null>();
  for (const e of result.edges.values()) {
    if (e.kind !== 'serves') continue;
    const share = latestAtOrBefore(e.series.traffic, now);
    deploymentShares.set(e.from, share ? Number(share.value) : null);
  }

  for (const { doc } of result.order) {
    if (doc.id === root.id) continue;
    if (!canSee(query.scope ?? null, doc.workspace)) {
      hidden++;
      continue;
    }
    const item: ImpactItem = { node: toLineageNode(doc), path: pathTo(doc.id) };
    switch (doc.kind) {
      case 'model':
        answer.models.push(item);
        break;
      case 'deployment': {
        const model = servingModel(doc);
        const share = deploymentShares.get(doc.id) ?? null;
        // Serving now: takes traffic and, as last observed, serves a dependent model.
        const servingNow = (share ?? 0) > 0 && (model === null || modelKeys.has(model));
        answer.deployments.push({ ...item, servingNow, trafficShare: share, model });
        break;
      }
      case 'endpoint':
        answer.endpoints.push({ ...item, servingDeployments: [] }); // filled once every deployment is known
        break;
      case 'job':
        answer.jobs.push(item);
        break;
      default:
        answer.other.push(item);
    }
  }
  for (const ep of answer.endpoints) {
    ep.servingDeployments = [...result.edges.values()]
      .filter((e) => e.kind === 'serves' && e.to === ep.node.id && answer.deployments.some((d) => d.node.id === e.from && d.servingNow))
      .map((e) => e.from);
  }
  if (hidden > 0) answer.hidden = hidden;
  return answer;
}
