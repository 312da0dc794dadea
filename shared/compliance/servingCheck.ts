import { z } from 'zod';
import { kindOfId } from '../graph/keys.js';
import type { NodeDoc } from '../graph/model.js';
import type { GraphReader } from '../store/graphReader.js';
import { toInstant } from '../util/time.js';
import { evaluateDeployment } from './lineageCheck.js';
import { closureLinks } from './links.js';
import { aspectComparisonSchema, ratio, type AspectComparison, type ServingMismatch, type StaleDeployment } from './report.js';

/**
 * What serves, seen from two sides (failure modes F2 and F7):
 *
 * - `freshness`: for each deployment serving now, how old our latest observation of it is (the
 *   newest `learnedAt` of the deployment or of an endpoint it serves behind). An unchanged resource
 *   read again is the same evidence and adds no observation, so the age is the time since we last
 *   learned something about it; the reconcile timer (functions/reconcileServing.ts) keeps it from
 *   being older than its own period whenever something did change.
 * - `servingMatchesTraining`: its environment (asset, image, digest where the image names one) and
 *   code compared with those of the job that trained the model version it serves.
 *
 * Both come from one upstream closure read per deployment. Each kept entry remembers the nodes it
 * was computed from, so a run re-evaluates it exactly when one of them changes.
 */
export const servingEntrySchema = z.object({
  label: z.string(),
  workspace: z.string().nullable(),
  serving: z.boolean(),
  lastObservedAt: z.string().nullable(),
  model: z.string().nullable(),
  trainingJob: z.string().nullable(),
  comparisons: z.array(aspectComparisonSchema),
  dependsOn: z.array(z.string()),
});
export type ServingEntry = z.infer<typeof servingEntrySchema>;

export const servingStateSchema = z.object({ deployments: z.record(z.string(), servingEntrySchema) });
export type ServingState = z.infer<typeof servingStateSchema>;

export function emptyServingState(): ServingState {
  return { deployments: {} };
}

type Side = AspectComparison['serving'];

/** The digest an image reference pins (`repo@sha256:…`), if it pins one. */
export function imageDigest(image: string | null | undefined): string | null {
  const m = image ? /@(sha256:[0-9a-f]{64})$/i.exec(image.trim()) : null;
  return m?.[1]?.toLowerCase() ?? null;
}

function environmentSide(id: string | undefined, nodes: Map<string, NodeDoc>): Side {
  if (!id) return { asset: null, image: null, digest: null };
  const doc = nodes.get(id);
  const image = doc?.facts.image?.value;
  const text = typeof image === 'string' && image.trim() !== '' ? image.trim() : null;
  return { asset: doc?.label ?? id, image: text, digest: imageDigest(text) };
}

/**
 * Environments match when they are the same asset version, or when both name the same image and
 * no digest known on either side differs. A different asset on the same mutable tag is a match
 * here: the digest is what would tell them apart, and it is compared wherever it is known.
 */
export function compareEnvironments(serving: Side, training: Side, sameAsset: boolean): AspectComparison['verdict'] {
  if (serving.asset === null || training.asset === null) return 'unknown';
  if (sameAsset) return 'match';
  if (serving.image && training.image) {
    if (serving.digest && training.digest) return serving.digest === training.digest ? 'match' : 'mismatch';
    return serving.image === training.image ? 'match' : 'mismatch';
  }
  return 'mismatch';
}

function newestLearnedAt(docs: Array<NodeDoc | undefined>): string | null {
  let newest: string | null = null;
  for (const doc of docs) for (const p of doc?.provenance ?? []) if (newest === null || p.learnedAt > newest) newest = p.learnedAt;
  return newest;
}

async function evaluate(reader: GraphReader, doc: NodeDoc, instant: string): Promise<ServingEntry> {
  const { serving, models } = await evaluateDeployment(reader, doc, instant);
  const depends = new Set<string>([doc.id]);
  const up = await reader.closure(doc.id, 'up');
  const down = await reader.closure(doc.id, 'down');
  const links = closureLinks(up);
  const endpoints = closureLinks(down)
    .filter((l) => l.kind === 'serves' && l.from === doc.id)
    .map((l) => l.to);
  const model = models[0];
  const job = model ? links.find((l) => l.kind === 'produced' && l.to === model && kindOfId(l.from) === 'job')?.from : undefined;
  const linked = (kind: string, to: string | undefined) => (to ? links.find((l) => l.kind === kind && l.to === to)?.from : undefined);
  const env = { serving: linked('environmentOf', doc.id), training: linked('environmentOf', job) };
  const code = { serving: linked('codeOf', doc.id), training: linked('codeOf', job) };
  const ids = [model, job, env.serving, env.training, code.serving, code.training, ...endpoints].filter((x): x is string => !!x);
  ids.forEach((id) => depends.add(id));
  const nodes = await reader.nodes(ids);

  const comparisons: AspectComparison[] = [];
  const servingEnv = environmentSide(env.serving, nodes);
  const trainingEnv = environmentSide(env.training, nodes);
  comparisons.push({
    aspect: 'environment',
    verdict: compareEnvironments(servingEnv, trainingEnv, env.serving !== undefined && env.serving === env.training),
    serving: servingEnv,
    training: trainingEnv,
  });
  const codeSide = (id: string | undefined): Side => ({ asset: id ? (nodes.get(id)?.label ?? id) : null });
  comparisons.push({
    aspect: 'code',
    verdict: !code.serving || !code.training ? 'unknown' : code.serving === code.training ? 'match' : 'mismatch',
    serving: codeSide(code.serving),
    training: codeSide(code.training),
  });
  return {
    label: doc.label,
    workspace: doc.workspace,
    serving,
    lastObservedAt: newestLearnedAt([doc, ...endpoints.map((e) => nodes.get(e))]),
    model: model ? (nodes.get(model)?.label ?? model) : null,
    trainingJob: job ? (nodes.get(job)?.label ?? job) : null,
    comparisons,
    dependsOn: [...depends].sort(),
  };
}

/** Re-evaluates the deployments among `affected`, and every kept one computed from an affected node. */
export async function updateServingState(state: ServingState, reader: GraphReader, affected: Set<string>, now: Date): Promise<void> {
  const todo = new Set<string>();
  for (const id of affected) if (kindOfId(id) === 'deployment') todo.add(id);
  for (const [id, entry] of Object.entries(state.deployments)) if (entry.dependsOn.some((d) => affected.has(d))) todo.add(id);
  const instant = toInstant(now.toISOString()) as string;
  const docs = await reader.nodes([...todo]);
  for (const id of todo) {
    const doc = docs.get(id);
    if (!doc) delete state.deployments[id];
    else state.deployments[id] = await evaluate(reader, doc, instant);
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const byLabel = <T extends { label: string; node: string }>(a: T, b: T) => a.label.localeCompare(b.label) || a.node.localeCompare(b.node);

/** Ages as of `computedAt` (when the check last ran), so the section is the same whichever report carries it. */
export function freshnessSection(state: ServingState, computedAt: string | null, staleAfterHours: number) {
  const at = computedAt ? Date.parse(computedAt) : Date.now();
  const ages: number[] = [];
  const stale: StaleDeployment[] = [];
  let serving = 0;
  for (const [node, d] of Object.entries(state.deployments)) {
    if (!d.serving) continue;
    serving++;
    const ageSeconds = d.lastObservedAt ? Math.max(0, Math.floor((at - Date.parse(d.lastObservedAt)) / 1000)) : null;
    if (ageSeconds !== null) ages.push(ageSeconds);
    if (ageSeconds === null || ageSeconds > staleAfterHours * 3600)
      stale.push({ node, label: d.label, workspace: d.workspace, lastObservedAt: d.lastObservedAt, ageSeconds });
  }
  ages.sort((a, b) => a - b);
  return {
    numerator: serving - stale.length,
    denominator: serving,
    ratio: ratio(serving - stale.length, serving),
    items: stale.sort(byLabel),
    staleAfterHours,
    p50Seconds: percentile(ages, 50),
    p95Seconds: percentile(ages, 95),
    maxSeconds: ages.at(-1) ?? null,
  };
}

/** Serving deployments whose environment and code both match training; the others listed with both sides. */
export function servingMatchesTrainingSection(state: ServingState) {
  const items: ServingMismatch[] = [];
  let serving = 0;
  for (const [node, d] of Object.entries(state.deployments)) {
    if (!d.serving) continue;
    serving++;
    if (d.comparisons.every((c) => c.verdict === 'match')) continue;
    items.push({ node, label: d.label, workspace: d.workspace, model: d.model, trainingJob: d.trainingJob, comparisons: d.comparisons });
  }
  return {
    numerator: serving - items.length,
    denominator: serving,
    ratio: ratio(serving - items.length, serving),
    items: items.sort(byLabel),
  };
}
