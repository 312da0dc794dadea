import { DomainError } from '../errors.js';
import { nodeId, parseArmId } from '../graph/keys.js';
import type { NodeDoc, SeriesEntry } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { toInstant } from '../util/time.js';
import { lineage } from './lineage.js';
import { resolveEndpoint, toLineageNode, type LineageAnswer, type LineageNode } from './traversal.js';

/**
 * Which deployments and model versions served an endpoint at a moment (Q2), and which model
 * served a deployment at a moment (Q3). Relationships that change carry observations over time
 * (an endpoint's traffic share per deployment, a deployment's model), so the answer is the latest
 * observation at or before the moment asked about.
 */
export interface ServingDeployment {
  deployment: LineageNode;
  /** Percent of traffic; null when no traffic observation precedes the moment. */
  trafficShare: number | null;
  /** Event time of the observation the share comes from. */
  trafficSince: string | null;
  model: LineageNode | null;
  modelSince: string | null;
  upstream: Pick<LineageAnswer, 'nodes' | 'edges' | 'partial'> | null;
}

export interface AsOfAnswer {
  endpoint: LineageNode;
  at: string;
  /** Deployments with a positive share at `at`, largest first. */
  serving: ServingDeployment[];
  /** Deployments known behind the endpoint with a 0% share, or with no observation before `at`. */
  notServing: Array<{ deployment: LineageNode; trafficShare: number | null; trafficSince: string | null }>;
}

export function latestAtOrBefore(entries: SeriesEntry[] | undefined, instant: string): SeriesEntry | undefined {
  let best: SeriesEntry | undefined;
  for (const e of entries ?? [])
    if (e.instant <= instant && (!best || e.instant > best.instant || (e.instant === best.instant && e.hash > best.hash))) best = e;
  return best;
}

export function parseMoment(at: string): string {
  const instant = toInstant(at);
  if (!instant)
    throw new DomainError('invalid-request', `at: expected an ISO 8601 date-time such as 2024-05-02T10:00:00Z, got "${at.slice(0, 100)}"`);
  return instant;
}

/** The node id of the model a deployment's `model` observation names (an ARM id), if any. */
export function servedModelId(entry: SeriesEntry | undefined): string | null {
  const ref = entry && typeof entry.value === 'string' ? parseArmId(entry.value) : undefined;
  return ref ? nodeId(ref.kind, ref.key) : null;
}

/** The model a deployment served at `instant`, from its observed `model` series. */
export async function modelAt(
  graph: GraphStore,
  deployment: NodeDoc,
  instant: string,
): Promise<{ model: NodeDoc | null; since: string | null }> {
  const entry = latestAtOrBefore(deployment.series.model, instant);
  if (entry && typeof entry.value === 'string') {
    const id = servedModelId(entry);
    const model = id ? await graph.readNode(id) : undefined;
    return { model: model ?? null, since: entry.eventTime };
  }
  return { model: null, since: null };
}

export async function upstreamOf(
  graph: GraphStore,
  model: NodeDoc,
  depth: number,
  maxNodes: number,
  scope: Set<string> | null = null,
): Promise<ServingDeployment['upstream']> {
  const answer = await lineage(graph, { ref: model.id, direction: 'upstream', depth, maxNodes, scope });
  return { nodes: answer.nodes, edges: answer.edges, partial: answer.partial };
}

export async function lineageAsOf(
  graph: GraphStore,
  query: { endpoint: string; workspace?: string; at: string; depth: number; maxNodes: number; scope?: Set<string> | null },
): Promise<AsOfAnswer> {
  const instant = parseMoment(query.at);
  const endpoint = await resolveEndpoint(graph, query.endpoint, query.workspace, query.scope ?? null);

  const edges = (await graph.edgesOf([endpoint.id], 'in')).filter((e) => e.kind === 'serves');
  const deployments = await graph.nodes(edges.map((e) => e.from));
  const serving: ServingDeployment[] = [];
  const notServing: AsOfAnswer['notServing'] = [];
  for (const edge of edges) {
    const deployment = deployments.get(edge.from);
    if (!deployment) continue;
    const share = latestAtOrBefore(edge.series.traffic, instant);
    const trafficShare = share ? Number(share.value) : null;
    if (!share || !(trafficShare !== null && trafficShare > 0)) {
      notServing.push({ deployment: toLineageNode(deployment), trafficShare, trafficSince: share?.eventTime ?? null });
      continue;
    }
    const { model, since } = await modelAt(graph, deployment, instant);
    serving.push({
      deployment: toLineageNode(deployment),
      trafficShare,
      trafficSince: share.eventTime,
      model: model ? toLineageNode(model) : null,
      modelSince: since,
      upstream: model ? await upstreamOf(graph, model, query.depth, query.maxNodes, query.scope ?? null) : null,
    });
  }
  serving.sort((a, b) => (b.trafficShare ?? 0) - (a.trafficShare ?? 0) || a.deployment.label.localeCompare(b.deployment.label));
  return { endpoint: toLineageNode(endpoint), at: query.at, serving, notServing };
}
