import { armIdProblem, registryAssetArmId, registryNameOf, type NodeKind, type NodeRef } from '../graph/keys.js';
import type { GraphDelta } from '../graph/model.js';
import type { EnrichmentKind, EnrichmentMessage } from './enrichmentMessage.js';

/** The REST resource kind that fetches a node of each kind; other kinds have no REST resource to fetch. */
const FETCHED_AS: Partial<Record<NodeKind, EnrichmentKind>> = {
  job: 'job',
  model: 'model',
  data: 'data',
  environment: 'environment',
  code: 'code',
  component: 'component',
  endpoint: 'endpoint',
  deployment: 'deployment',
  compute: 'compute',
};

/**
 * The enrichment messages that fetch these nodes, each once. Only workspace resources are
 * fetched here: their keys are lower-cased ARM ids, which ARM compares case-insensitively anyway;
 * commits have none, and registry assets are keyed by `azureml://registries/…`, which names no
 * subscription or resource group (registryFollowUps fetches those whose registry is known). Ids
 * that could steer the request path are never asked for (armIdProblem).
 */
export function followUps(nodes: Iterable<NodeRef>, cause?: EnrichmentMessage['cause']): EnrichmentMessage[] {
  const messages: EnrichmentMessage[] = [];
  const asked = new Set<string>();
  for (const node of nodes) {
    const kind = FETCHED_AS[node.kind];
    if (!kind || !node.key.startsWith('/subscriptions/') || asked.has(`${kind}|${node.key}`) || armIdProblem(node.key)) continue;
    asked.add(`${kind}|${node.key}`);
    messages.push(cause ? { kind, armId: node.key, cause } : { kind, armId: node.key });
  }
  return messages;
}

/** Registry name (lower case) to the registry's ARM id: where a `azureml://registries/NAME/…` asset is read. */
export type RegistryDirectory = ReadonlyMap<string, string>;

/** The directory of registries listed by their ARM ids (the AML_REGISTRIES setting). */
export function registryDirectory(registryIds: readonly string[]): RegistryDirectory {
  return new Map(registryIds.map((id) => [id.replace(/\/+$/, '').split('/').pop()?.toLowerCase() ?? '', id.replace(/\/+$/, '')]));
}

/**
 * The enrichment messages that fetch the registry assets a delta refers to, for registries the
 * directory knows. An asset of any other registry (Microsoft's `azureml` catalogue, a registry
 * nobody listed) stays a placeholder: its name alone does not say where to read it. The nodes the
 * delta is about are not asked for: a registry version just read would otherwise ask for itself.
 * Ids that could steer the request path are never asked for (armIdProblem).
 */
export function registryFollowUps(
  delta: Pick<GraphDelta, 'references' | 'edges'> & Partial<GraphDelta>,
  registries: RegistryDirectory,
): EnrichmentMessage[] {
  if (registries.size === 0) return [];
  const refs = [...delta.references, ...delta.edges.flatMap((e) => [e.from, e.to])];
  const messages: EnrichmentMessage[] = [];
  const asked = new Set<string>((delta.nodes ?? []).map((n) => n.ref.key));
  for (const ref of refs) {
    const kind = FETCHED_AS[ref.kind];
    const registry = registryNameOf(ref);
    const registryId = registry === undefined ? undefined : registries.get(registry);
    const armId = kind && registryId ? registryAssetArmId(ref, registryId) : undefined;
    if (!kind || !armId || asked.has(ref.key) || armIdProblem(armId)) continue;
    asked.add(ref.key);
    messages.push({ kind, armId });
  }
  return messages;
}
