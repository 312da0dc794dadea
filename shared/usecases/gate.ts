import { GATE_REQUIREMENTS } from '../config.js';
import { DomainError } from '../errors.js';
import type { GraphStore } from '../store/graphStore.js';
import { meetsThreshold, parseThreshold } from '../util/metricThreshold.js';
import { resolveRoot, toLineageNode, type LineageNode } from './traversal.js';
import { describeApproval, modelProfile, standingDecision } from './modelProfile.js';

/**
 * Q7: may this model version be promoted? Each requirement of the policy is checked against the
 * captured lineage: lineage facts (data, code, environment, job), metrics from its run, a standing
 * approval, and thresholds on metrics (`metric:auc>=0.8`). The answer names every unmet
 * requirement with what was observed.
 */
export { GATE_REQUIREMENTS };
/** One of GATE_REQUIREMENTS, or `metric:NAME>=VALUE` (also <=, >, <). */
export type GateRequirement = string;

export interface GateCheck {
  present: boolean;
  evidence: string[];
  /** For thresholds: the metric's value, or null when the run logged no such metric. */
  observed?: number | null;
}

export interface GateAnswer {
  model: LineageNode;
  passed: boolean;
  required: GateRequirement[];
  checks: Record<GateRequirement, GateCheck>;
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
  const decision = standingDecision(p.approvals);
  const checks: GateAnswer['checks'] = {
    job: { present: p.job !== null, evidence: p.job ? [p.job.label] : [] },
    data: { present: p.data.length > 0, evidence: labels(p.data) },
    code: { present: p.code.length + p.commits.length > 0, evidence: [...labels(p.code), ...labels(p.commits)] },
    environment: { present: p.environments.length > 0, evidence: labels(p.environments) },
    metrics: { present: Object.keys(p.metrics).length > 0, evidence: Object.entries(p.metrics).map(([k, m]) => `${k}=${m.value}`) },
    approval: {
      present: decision?.decision === 'approved',
      evidence: p.approvals.map(describeApproval),
    },
  };
  for (const requirement of query.require) {
    const t = parseThreshold(requirement);
    if (!t) continue;
    const metric = p.metrics[t.name];
    checks[requirement] = metric
      ? {
          present: meetsThreshold(metric.value, t),
          evidence: [`${t.name}=${metric.value} (${p.job?.label ?? 'run'})`],
          observed: metric.value,
        }
      : { present: false, evidence: [], observed: null };
  }
  const missing = query.require.filter((r) => !checks[r]?.present);
  return { model: toLineageNode(model), passed: missing.length === 0, required: query.require, checks, missing };
}

/** `auc>=0.85 (observed 0.803)`, `approval`, for a failed gate's message. */
export function describeUnmet(answer: GateAnswer): string[] {
  return answer.missing.map((r) => {
    const observed = answer.checks[r]?.observed;
    if (observed === undefined) return r;
    return `${r} (observed ${observed === null ? 'no such metric' : observed})`;
  });
}
