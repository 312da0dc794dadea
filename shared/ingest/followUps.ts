import type { NodeKind, NodeRef } from '../graph/keys.js';
import type { EnrichmentKind, EnrichmentMessage } from './enrichmentMessage.js';

/** The REST resource kind that fetches a node of each kind; other kinds have no REST resource to fetch. */
const FETCHED_AS: Partial<Record<NodeKind, EnrichmentKind>> = {
  job: 'job',
  model: 'model',
  data: 'data',
  environment: 'environment',
  code: 'code',
  endpoint: 'endpoint',
  deployment: 'deployment',
  compute: 'compute',
};

/**
 * The enrichment messages that fetch these nodes, each once. Only workspace resources are
 * fetched: their keys are lower-cased ARM ids, which ARM compares case-insensitively anyway;
 * registry assets and commits have none.
 */
export function followUps(nodes: Iterable<NodeRef>, cause?: EnrichmentMessage['cause']): EnrichmentMessage[] {
  const messages: EnrichmentMessage[] = [];
  const asked = new Set<string>();
  for (const node of nodes) {
    const kind = FETCHED_AS[node.kind];
    if (!kind || !node.key.startsWith('/subscriptions/') || asked.has(`${kind}|${node.key}`)) continue;
    asked.add(`${kind}|${node.key}`);
    messages.push(cause ? { kind, armId: node.key, cause } : { kind, armId: node.key });
  }
  return messages;
}
