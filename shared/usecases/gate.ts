import { DomainError } from '../errors.js';
import type { GraphStore } from '../store/graphStore.js';
import { resolveRoot, toLineageNode, type LineageNode } from './traversal.js';
import { modelProfile } from './modelProfile.js';

/**
 * Q7: is this model version traceable enough to promote? Each requirement of the policy is checked
 * against the captured lineage; the answer says exactly what is missing.
 */
export const GATE_REQUIREMENTS = ['data', 'code', 'environment', 'job', 'metrics', 'approval'] as const;
export type GateRequirement = (typeof GATE_REQUIREMENTS)[number];

export interface GateAnswer {
  model: LineageNode;
  passed: boolean;
  required: GateRequirement[];
  checks: Record<GateRequirement, { present: boolean; evidence: string[] }>;
  missing: GateRequirement[];
}

export async function gate(
  graph: GraphStore,
  query: { ref: string; workspace?: string; require: GateRequirement[]; scope?: Set<string> | null },
): Promise<GateAnswer> {
  const model = await resolveRoot(graph, query.ref, query.workspace, query.scope);
  if (model.kind !== 'model') throw new DomainError('invalid-ref', `${model.label} is a ${model.kind}; the gate checks a model version.`);
  const p = await modelProfile(graph, model, 8, 500, query.scope ?? null);
  const labels = (docs: Array<{ label: string }>) => docs.map((d) => d.label);
  const checks: GateAnswer['checks'] = {
    job: { present: p.job !== null, evidence: p.job ? [p.job.label] : [] },
    data: { present: p.data.length > 0, evidence: labels(p.data) },
    code: { present: p.code.length + p.commits.length > 0, evidence: [...labels(p.code), ...labels(p.commits)] },
    environment: { present: p.environments.length > 0, evidence: labels(p.environments) },
    metrics: { present: Object.keys(p.metrics).length > 0, evidence: Object.keys(p.metrics) },
    approval: { present: p.approvals.length > 0, evidence: p.approvals.map((a) => a.field) },
  };
  const missing = query.require.filter((r) => !checks[r].present);
  return { model: toLineageNode(model), passed: missing.length === 0, required: query.require, checks, missing };
}
