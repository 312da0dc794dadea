/**
 * Whether a bigger value of a metric is better: from METRIC_DIRECTIONS (`name:higher` or
 * `name:lower`, comma-separated, exact names), else from the metric's name: losses, errors and
 * costs are better lower; scores, rates of success and areas under curves better higher. A name
 * that says neither has no direction, and a change of it is only "changed".
 */
export type MetricDirection = 'higher' | 'lower';
export type Verdict = 'better' | 'worse' | 'same' | 'changed' | 'added' | 'removed';

const LOWER =
  /(^|[_.\-/])(loss|logloss|log_loss|error|err|rmse|mse|mae|mape|smape|rmsle|brier|cost|latency|perplexity|fpr|fnr|wer|cer)($|[_.\-/])|_loss$|loss$|error$/i;
const HIGHER =
  /(^|[_.\-/])(auc|roc_auc|pr_auc|accuracy|acc|f1|f1_score|precision|recall|r2|r_squared|ks|gini|map|ndcg|bleu|rouge|iou|dice|specificity|sensitivity|tpr|mcc|kappa|explained_variance)($|[_.\-/])/i;

export function parseMetricDirections(text: string): Map<string, MetricDirection> {
  const out = new Map<string, MetricDirection>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(.+):(higher|lower)$/i.exec(part);
    if (!m) throw new Error(`"${part}" is not NAME:higher or NAME:lower`);
    out.set((m[1] as string).trim(), (m[2] as string).toLowerCase() as MetricDirection);
  }
  return out;
}

export function metricDirection(name: string, configured: ReadonlyMap<string, MetricDirection> = new Map()): MetricDirection | undefined {
  const set = configured.get(name);
  if (set) return set;
  if (LOWER.test(name)) return 'lower';
  if (HIGHER.test(name)) return 'higher';
  return undefined;
}

export interface MetricChange {
  name: string;
  from: number | null;
  to: number | null;
  /** to - from, when both sides have the metric. */
  delta: number | null;
  direction: MetricDirection | null;
  verdict: Verdict;
}

/** Rounds away binary noise (0.803 - 0.781 = 0.02200000000000002). */
const tidy = (n: number) => Number(n.toPrecision(12));

export function compareMetric(
  name: string,
  from: number | undefined,
  to: number | undefined,
  configured?: ReadonlyMap<string, MetricDirection>,
): MetricChange {
  const direction = metricDirection(name, configured) ?? null;
  const base = { name, from: from ?? null, to: to ?? null, direction };
  if (from === undefined) return { ...base, delta: null, verdict: 'added' };
  if (to === undefined) return { ...base, delta: null, verdict: 'removed' };
  const delta = tidy(to - from);
  if (delta === 0) return { ...base, delta, verdict: 'same' };
  if (!direction) return { ...base, delta, verdict: 'changed' };
  return { ...base, delta, verdict: delta > 0 === (direction === 'higher') ? 'better' : 'worse' };
}
