import { z } from 'zod';
import { endpointDeployment, kindOfId, nodeId, parseArmId, versionedAsset } from '../graph/keys.js';
import type { NodeDoc } from '../graph/model.js';
import { servedModelId } from '../usecases/asOf.js';
import { canonicalJson } from '../util/canonicalJson.js';
import type { GraphReader } from '../store/graphReader.js';
import { closureLinks, deployedModels, trafficShares } from './links.js';
import { factRecord, firstSeen, modelIdAt } from './facts.js';
import { DRIFT_REASONS, driftItemSchema, ratio, type DriftItem, type DriftReason, type UpstreamChange } from './report.js';

/**
 * Drift attribution (Q6): every drift signal resolved to the deployment, model version and
 * training data it concerns, and attributed — what changed upstream relative to the model version
 * served before, or else the monitor's baseline data.
 *
 * Signals are `drift` nodes (DatasetDriftDetected) and jobs carrying the model-monitor run tag
 * (`azureml_modelmonitor_threshold_breached`: Azure ML reports monitor breaches as RunStatusChanged
 * with that tag, not as drift events). Each kept result remembers the nodes it was computed from,
 * so a later run recomputes it exactly when one of them changes (a model's lineage arriving after
 * the alert, a traffic switch, a new version trained on the drifted data).
 */
export const MONITOR_TAG = /^azureml_modelmonitor_threshold_breached$/i;

export const signalEntrySchema = driftItemSchema.extend({ dependsOn: z.array(z.string()) });
export type SignalEntry = z.infer<typeof signalEntrySchema>;

export const driftStateSchema = z.object({ signals: z.record(z.string(), signalEntrySchema) });
export type DriftState = z.infer<typeof driftStateSchema>;

export function emptyDriftState(): DriftState {
  return { signals: {} };
}

export function isMonitorBreach(doc: NodeDoc): boolean {
  return doc.kind === 'job' && Object.keys(factRecord(doc, 'tags')).some((k) => MONITOR_TAG.test(k));
}

const DATA_KINDS = new Set(['data', 'dataset']);
const ASPECT_KINDS: Record<'data' | 'code' | 'environment', Set<string>> = {
  data: new Set(['data', 'dataset', 'storage']),
  code: new Set(['code', 'commit']),
  environment: new Set(['environment']),
};

interface Upstream {
  labels: Record<'data' | 'code' | 'environment', string[]>;
  /** Registered data assets upstream (storage locations are intermediate outputs). */
  trainingData: string[];
  parameters: Record<string, unknown> | null;
  complete: boolean;
}

/** A model version's data, code, environment and training parameters, from its closure. */
async function upstreamAspects(reader: GraphReader, modelId: string, depends: Set<string>): Promise<Upstream> {
  depends.add(modelId);
  const closure = await reader.closure(modelId, 'up');
  const members = Object.keys(closure?.members ?? {});
  const wanted = members.filter((id) => Object.values(ASPECT_KINDS).some((kinds) => kinds.has(kindOfId(id))));
  const job = closureLinks(closure).find((l) => l.kind === 'produced' && l.to === modelId && kindOfId(l.from) === 'job')?.from;
  const nodes = await reader.nodes(job ? [...wanted, job] : wanted);
  const labelsOf = (kinds: Set<string>) =>
    wanted
      .filter((id) => kinds.has(kindOfId(id)))
      .map((id) => nodes.get(id)?.label ?? id)
      .sort();
  const labels = { data: labelsOf(ASPECT_KINDS.data), code: labelsOf(ASPECT_KINDS.code), environment: labelsOf(ASPECT_KINDS.environment) };
  const jobDoc = job ? nodes.get(job) : undefined;
  const parameters = jobDoc ? factRecord(jobDoc, 'parameters') : null;
  return { labels, trainingData: labelsOf(DATA_KINDS), parameters, complete: job !== undefined && labels.data.length > 0 };
}

function compare(a: Upstream, b: Upstream): UpstreamChange[] {
  const changes: UpstreamChange[] = [];
  for (const aspect of ['data', 'code', 'environment'] as const) {
    if (canonicalJson(a.labels[aspect]) !== canonicalJson(b.labels[aspect]))
      changes.push({ aspect, from: a.labels[aspect], to: b.labels[aspect] });
  }
  if (a.parameters !== null && b.parameters !== null && canonicalJson(a.parameters) !== canonicalJson(b.parameters))
    changes.push({ aspect: 'parameters', from: a.parameters, to: b.parameters });
  return changes;
}

/** The model version a deployment served just before `current` took over (at or before `instant`). */
function previousModel(deployment: NodeDoc, current: string, instant: string): string | null {
  const entries = (deployment.series.model ?? []).filter((e) => e.instant <= instant).sort((x, y) => (x.instant < y.instant ? 1 : -1));
  for (const e of entries) {
    const id = servedModelId(e);
    if (id && id !== current) return id;
  }
  return null;
}

interface Concerned {
  deployment: NodeDoc;
  model: string;
  share: number | null;
}

/** Which deployment served one of `models` at `instant`, preferring the largest traffic share. */
async function servingAt(
  reader: GraphReader,
  deploymentIds: string[],
  models: Set<string>,
  instant: string,
  depends: Set<string>,
): Promise<Concerned | undefined> {
  const candidates: Concerned[] = [];
  const nodes = await reader.nodes(deploymentIds);
  for (const id of deploymentIds) {
    depends.add(id);
    const doc = nodes.get(id);
    if (!doc) continue;
    let model = modelIdAt(doc, instant);
    if (!model && doc.kind === 'service') {
      model = deployedModels(id, await reader.closure(id, 'up')).find((m) => models.has(m)) ?? null;
    }
    if (!model || (models.size > 0 && !models.has(model))) continue;
    const shares = await trafficShares(reader, id, instant);
    const share = shares.length > 0 ? Math.max(...shares) : null;
    if (share === 0) continue;
    candidates.push({ deployment: doc, model, share });
  }
  candidates.sort((a, b) => (b.share ?? 0) - (a.share ?? 0) || a.deployment.id.localeCompare(b.deployment.id));
  return candidates[0];
}

/** Deployments and models a monitor run names in its tags or properties, or links upstream. */
async function monitorTargets(reader: GraphReader, job: NodeDoc): Promise<{ deployments: string[]; models: string[] }> {
  const deployments = new Set<string>();
  const models = new Set<string>();
  const fields = { ...factRecord(job, 'properties'), ...factRecord(job, 'tags') };
  const text = (re: RegExp) => Object.entries(fields).find(([k, v]) => re.test(k) && typeof v === 'string')?.[1] as string | undefined;
  const endpoint = text(/endpoint/i);
  const deployment = text(/deployment/i);
  if (job.workspace && endpoint && deployment) {
    const ref = parseArmId(deployment) ?? endpointDeployment(job.workspace, 'onlineEndpoints', endpoint, deployment);
    deployments.add(nodeId(ref.kind, ref.key));
  }
  const model = text(/^(azureml\.)?.*model(_?id|_?name)?$/i);
  const m = model ? /^(?:azureml:)?([^:/]+):([^:/]+)$/.exec(model) : null;
  if (job.workspace && m) {
    const ref = versionedAsset(job.workspace, 'models', m[1] as string, m[2] as string);
    models.add(nodeId(ref.kind, ref.key));
  }
  const up = await reader.closure(job.id, 'up');
  for (const id of Object.keys(up?.members ?? {})) {
    if (kindOfId(id) === 'deployment' || kindOfId(id) === 'service') deployments.add(id);
    if (kindOfId(id) === 'model') models.add(id);
  }
  return { deployments: [...deployments], models: [...models] };
}

function unattributed(
  base: Omit<DriftItem, 'attributed' | 'comparedWith' | 'changes' | 'reason' | 'explanation'>,
  reason: DriftReason,
): DriftItem {
  return { ...base, attributed: false, comparedWith: null, changes: [], reason, explanation: DRIFT_REASONS[reason] };
}

export async function evaluateSignal(reader: GraphReader, signal: NodeDoc): Promise<SignalEntry> {
  const depends = new Set<string>([signal.id]);
  const source = signal.kind === 'drift' ? 'dataset-drift' : 'model-monitor';
  const instant = (signal.kind === 'job' ? signal.facts.tags?.instant : undefined) ?? firstSeen(signal) ?? '9999';
  const detectedAt = (signal.kind === 'job' ? signal.facts.tags?.eventTime : signal.provenance[0]?.eventTime) ?? null;
  let deploymentIds: string[] = [];
  let models = new Set<string>();
  let baseline: string | undefined;
  let target: string | undefined;

  if (signal.kind === 'drift') {
    const up = await reader.closure(signal.id, 'up');
    const links = closureLinks(up);
    baseline = links.find((l) => l.kind === 'driftBaselineOf' && l.to === signal.id)?.from;
    target = links.find((l) => l.kind === 'driftTargetOf' && l.to === signal.id)?.from;
    const datasets = [baseline, target].filter((x): x is string => x !== undefined);
    datasets.forEach((d) => depends.add(d));
    // What was trained on (or fed) the drifted data: models and deployments downstream of it.
    const downs = await reader.closures(datasets, 'down');
    for (const c of downs.values()) {
      for (const id of Object.keys(c.members)) {
        if (kindOfId(id) === 'model') models.add(id);
        if (kindOfId(id) === 'deployment' || kindOfId(id) === 'service') deploymentIds.push(id);
      }
    }
  } else {
    const t = await monitorTargets(reader, signal);
    deploymentIds = t.deployments;
    models = new Set(t.models);
  }
  deploymentIds = [...new Set(deploymentIds)].sort();

  const concerned = await servingAt(reader, deploymentIds, signal.kind === 'drift' ? models : new Set(), instant, depends);
  const labels = await reader.nodes([baseline, target, concerned?.model].filter((x): x is string => x !== undefined));
  const base = {
    signal: signal.id,
    label: signal.label,
    source,
    workspace: signal.workspace,
    detectedAt,
    deployment: concerned?.deployment.label ?? null,
    model: concerned ? (labels.get(concerned.model)?.label ?? concerned.model) : null,
    trainingData: [] as string[],
  } satisfies Partial<DriftItem>;
  if (!concerned) return { ...unattributed(base, 'no-deployment'), dependsOn: [...depends].sort() };

  const current = await upstreamAspects(reader, concerned.model, depends);
  base.trainingData = current.trainingData;

  let incomplete = !current.complete;
  const previous = previousModel(concerned.deployment, concerned.model, instant);
  if (previous) {
    const before = await upstreamAspects(reader, previous, depends);
    const changes = compare(before, current);
    incomplete ||= !before.complete;
    if (changes.length > 0) {
      const label = (await reader.node(previous))?.label ?? previous;
      return {
        ...base,
        attributed: true,
        comparedWith: { kind: 'previous-serving-version', label },
        changes,
        reason: null,
        explanation: null,
        dependsOn: [...depends].sort(),
      };
    }
  }
  if (baseline && target && baseline !== target) {
    const from = labels.get(baseline)?.label ?? baseline;
    const to = labels.get(target)?.label ?? target;
    return {
      ...base,
      attributed: true,
      comparedWith: { kind: 'baseline', label: from },
      changes: [{ aspect: 'data', from, to }],
      reason: null,
      explanation: null,
      dependsOn: [...depends].sort(),
    };
  }
  const reason: DriftReason =
    !previous && !(baseline && target) ? 'no-comparison' : incomplete ? 'upstream-incomplete' : 'no-upstream-change';
  return { ...unattributed(base, reason), dependsOn: [...depends].sort() };
}

/**
 * Recomputes the signals among `affected`, and every kept signal computed from an affected node.
 * `changedNodes` are node documents from the change stream: a job becomes a signal only through
 * a change to its own document (the run tag arrives with a run event).
 */
export async function updateDriftState(
  state: DriftState,
  reader: GraphReader,
  affected: Set<string>,
  changedNodes: Map<string, NodeDoc>,
): Promise<void> {
  const todo = new Set<string>();
  for (const id of affected) if (kindOfId(id) === 'drift') todo.add(id);
  for (const [id, doc] of changedNodes) if (isMonitorBreach(doc)) todo.add(id);
  for (const [id, entry] of Object.entries(state.signals)) if (entry.dependsOn.some((d) => affected.has(d))) todo.add(id);
  const docs = await reader.nodes([...todo]);
  for (const id of todo) {
    const doc = docs.get(id);
    if (!doc || (doc.kind === 'job' && !isMonitorBreach(doc))) {
      delete state.signals[id];
      continue;
    }
    state.signals[id] = await evaluateSignal(reader, doc);
  }
}

export function driftSection(state: DriftState) {
  const all = Object.values(state.signals).map(({ dependsOn: _dependsOn, ...item }) => item);
  const order = (a: DriftItem, b: DriftItem) => (a.detectedAt ?? '').localeCompare(b.detectedAt ?? '') || a.signal.localeCompare(b.signal);
  const attributed = all.filter((s) => s.attributed).sort(order);
  return {
    numerator: attributed.length,
    denominator: all.length,
    ratio: ratio(attributed.length, all.length),
    items: all.filter((s) => !s.attributed).sort(order),
    attributed,
  };
}
