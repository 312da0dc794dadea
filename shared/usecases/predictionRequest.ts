import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import type { GraphStore } from '../store/graphStore.js';
import type { PredictionRequestStore } from '../store/predictionRequestStore.js';
import { toLineageNode, type LineageAnswer, type LineageNode } from './traversal.js';
import { modelAt, upstreamOf } from './asOf.js';

export interface PredictionRequestAnswer {
  requestId: string;
  clientRequestId?: string;
  time: string;
  responseCode?: string | number;
  modelStatusCode?: string | number;
  totalDurationMs?: number;
  endpointArmId: string;
  deploymentArmId: string;
  endpoint: LineageNode | null;
  deployment: LineageNode | null;
  /** The model version the deployment served when the request arrived. */
  model: LineageNode | null;
  modelSince: string | null;
  upstream: Pick<LineageAnswer, 'nodes' | 'edges' | 'partial'> | null;
  /** The traffic-log record this answer rests on. */
  provenance: unknown;
}

/** Which deployment and model answered prediction request X (Q3): one point read, then the as-of model. */
export async function predictionRequest(
  graph: GraphStore,
  predictionRequests: PredictionRequestStore,
  requestId: string,
  depth: number,
  maxNodes: number,
  scope: Set<string> | null = null,
): Promise<PredictionRequestAnswer> {
  const doc = await predictionRequests.get(requestId);
  if (doc && 'tombstone' in doc && canSee(scope, doc.tombstone.workspace)) {
    // The trace is gone by policy; say so, and when, rather than pretending it never existed.
    throw new DomainError(
      'gone',
      `Request ${requestId} was purged on ${doc.tombstone.purgedAt} under retention policy ${doc.tombstone.policy}.`,
      { purgedAt: doc.tombstone.purgedAt, policy: doc.tombstone.policy },
    );
  }
  if (!doc || 'tombstone' in doc || !canSee(scope, doc.workspace))
    throw new DomainError('not-found', `No request with id ${requestId} is recorded (traffic logs are kept for a limited time).`);
  const nodes = await graph.nodes([doc.endpointNodeId, doc.deploymentNodeId]);
  const deployment = nodes.get(doc.deploymentNodeId);
  const endpoint = nodes.get(doc.endpointNodeId);
  const { model, since } = deployment ? await modelAt(graph, deployment, doc.instant) : { model: null, since: null };
  return {
    requestId: doc.requestId,
    clientRequestId: doc.clientRequestId,
    time: doc.time,
    responseCode: doc.responseCode,
    modelStatusCode: doc.modelStatusCode,
    totalDurationMs: doc.totalDurationMs,
    endpointArmId: doc.endpointArmId,
    deploymentArmId: doc.deploymentArmId,
    endpoint: endpoint ? toLineageNode(endpoint) : null,
    deployment: deployment ? toLineageNode(deployment) : null,
    model: model ? toLineageNode(model) : null,
    modelSince: since,
    upstream: model ? await upstreamOf(graph, model, depth, maxNodes, scope) : null,
    provenance: doc.provenance,
  };
}
