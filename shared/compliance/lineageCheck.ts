import { z } from 'zod';
import type { Closure } from '../graph/closure.js';
import { kindOfId } from '../graph/keys.js';
import type { NodeDoc } from '../graph/model.js';
import { toInstant } from '../util/time.js';
import type { GraphReader } from '../store/graphReader.js';
import { closureLinks, deployedModels, trafficShares } from './links.js';
import { isDeleted, modelIdAt, ownerOf } from './facts.js';
import { LINEAGE_REQUIREMENTS, ratio, type DeploymentGap, type LineageGap, type LineageRequirement } from './report.js';

/**
 * Lineage completeness (model versions whose upstream has data, code, environment and job links)
 * and deployment traceability (deployments serving now whose model versions are complete).
 *
 * Both are read from closures: a model's `closure~up` names every upstream node (its kind is in
 * its id) and the links among them, so one point read per model answers "is it complete".
 * Per-item results are kept in the check's state; a run re-evaluates only the models and
 * deployments whose node, closure or edges changed, and the report is a fold over the state.
 */
export const modelEntrySchema = z.object({
  label: z.string(),
  workspace: z.string().nullable(),
  owner: z.string(),
  deleted: z.boolean(),
  missing: z.array(z.enum(LINEAGE_REQUIREMENTS)),
});
export type ModelEntry = z.infer<typeof modelEntrySchema>;

export const deploymentEntrySchema = z.object({
  label: z.string(),
  workspace: z.string().nullable(),
  owner: z.string(),
  /** Takes traffic now (or its traffic is unknown) and is not deleted. */
  serving: z.boolean(),
  /** Model version node ids it serves, as last observed. */
  models: z.array(z.string()),
});
export type DeploymentEntry = z.infer<typeof deploymentEntrySchema>;

export const lineageStateSchema = z.object({
  models: z.record(z.string(), modelEntrySchema),
  deployments: z.record(z.string(), deploymentEntrySchema),
});
export type LineageState = z.infer<typeof lineageStateSchema>;

export function emptyLineageState(): LineageState {
  return { models: {}, deployments: {} };
}

const DATA_KINDS = new Set(['data', 'dataset', 'storage']);
const CODE_KINDS = new Set(['code', 'commit']);

/** What a model version's upstream lacks, from its upstream closure. */
export function missingUpstream(modelId: string, closure: Closure | undefined): LineageRequirement[] {
  const kinds = new Set(Object.keys(closure?.members ?? {}).map(kindOfId));
  const produced = closureLinks(closure).some((l) => l.kind === 'produced' && l.to === modelId && kindOfId(l.from) === 'job');
  const present: Record<LineageRequirement, boolean> = {
    data: [...kinds].some((k) => DATA_KINDS.has(k)),
    code: [...kinds].some((k) => CODE_KINDS.has(k)),
    environment: kinds.has('environment'),
    job: produced,
  };
  return LINEAGE_REQUIREMENTS.filter((r) => !present[r]);
}

export async function evaluateDeployment(reader: GraphReader, doc: NodeDoc, now: string): Promise<DeploymentEntry> {
  const base = { label: doc.label, workspace: doc.workspace, owner: ownerOf(doc) };
  if (doc.kind === 'service') {
    // ACI/AKS web services (SDK v1): no traffic split; serving until deleted, every deployed model.
    return { ...base, serving: !isDeleted(doc), models: deployedModels(doc.id, await reader.closure(doc.id, 'up')) };
  }
  const shares = await trafficShares(reader, doc.id, now);
  // Unknown traffic counts as serving: a compliance figure should not flatter itself.
  const serving = !isDeleted(doc) && (shares.length === 0 || shares.some((s) => s > 0));
  const current = modelIdAt(doc, now);
  const models = current ? [current] : deployedModels(doc.id, await reader.closure(doc.id, 'up'));
  return { ...base, serving, models };
}

/** Re-evaluates the models and deployments among `affected` node ids, in place. */
export async function updateLineageState(state: LineageState, reader: GraphReader, affected: Iterable<string>, now: Date): Promise<void> {
  const ids = [...affected];
  const models = ids.filter((id) => kindOfId(id) === 'model');
  const deployments = ids.filter((id) => kindOfId(id) === 'deployment' || kindOfId(id) === 'service');
  const instant = toInstant(now.toISOString()) as string;
  const [modelNodes, modelClosures] = await Promise.all([reader.nodes(models), reader.closures(models, 'up')]);
  for (const id of models) {
    const doc = modelNodes.get(id);
    if (!doc) {
      delete state.models[id];
      continue;
    }
    state.models[id] = {
      label: doc.label,
      workspace: doc.workspace,
      owner: ownerOf(doc),
      deleted: isDeleted(doc),
      missing: missingUpstream(id, modelClosures.get(id)),
    };
  }
  const deploymentNodes = await reader.nodes(deployments);
  for (const id of deployments) {
    const doc = deploymentNodes.get(id);
    if (!doc) delete state.deployments[id];
    else state.deployments[id] = await evaluateDeployment(reader, doc, instant);
  }
}

type Tally = Record<string, { numerator: number; denominator: number }>;

function tallyInto(tally: Tally, key: string, ok: boolean): void {
  const t = (tally[key] ??= { numerator: 0, denominator: 0 });
  t.denominator++;
  if (ok) t.numerator++;
}

function byLabel<T extends { label: string; node: string }>(a: T, b: T): number {
  return a.label.localeCompare(b.label) || a.node.localeCompare(b.node);
}

export function lineageSections(state: LineageState) {
  const gaps: LineageGap[] = [];
  const byWorkspace: Tally = {};
  const byOwner: Tally = {};
  let complete = 0;
  let total = 0;
  for (const [id, m] of Object.entries(state.models)) {
    if (m.deleted) continue;
    total++;
    const ok = m.missing.length === 0;
    if (ok) complete++;
    else gaps.push({ node: id, label: m.label, workspace: m.workspace, owner: m.owner, missing: m.missing });
    tallyInto(byWorkspace, m.workspace ?? '(registry)', ok);
    tallyInto(byOwner, m.owner, ok);
  }

  const dGaps: DeploymentGap[] = [];
  const dByWorkspace: Tally = {};
  const dByOwner: Tally = {};
  let traceable = 0;
  let serving = 0;
  for (const [id, d] of Object.entries(state.deployments)) {
    if (!d.serving) continue;
    serving++;
    const missing = new Set<string>();
    if (d.models.length === 0) missing.add('model');
    for (const modelId of d.models) {
      const m = state.models[modelId];
      if (!m) LINEAGE_REQUIREMENTS.forEach((r) => missing.add(r));
      else m.missing.forEach((r) => missing.add(r));
    }
    const ok = missing.size === 0;
    if (ok) traceable++;
    else {
      const model = d.models.map((mid) => state.models[mid]?.label ?? mid).join(', ') || null;
      dGaps.push({ node: id, label: d.label, workspace: d.workspace, owner: d.owner, model, missing: [...missing].sort() });
    }
    tallyInto(dByWorkspace, d.workspace ?? '(none)', ok);
    tallyInto(dByOwner, d.owner, ok);
  }
  return {
    lineageCompleteness: {
      numerator: complete,
      denominator: total,
      ratio: ratio(complete, total),
      items: gaps.sort(byLabel),
      byWorkspace,
      byOwner,
    },
    deploymentTraceability: {
      numerator: traceable,
      denominator: serving,
      ratio: ratio(traceable, serving),
      items: dGaps.sort(byLabel),
      byWorkspace: dByWorkspace,
      byOwner: dByOwner,
    },
  };
}
