import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import { parseArmId, parseWorkspaceId } from '../graph/keys.js';
import type { NodeDoc, SeriesEntry } from '../graph/model.js';
import type { GraphStore } from '../store/graphStore.js';
import { toInstant } from '../util/time.js';
import { servedModelId } from './asOf.js';
import { gate, type GateRequirement } from './gate.js';
import { resolveEndpoint } from './traversal.js';

/**
 * An endpoint's history for the on-call engineer: every traffic and model change behind it, each
 * model version with the periods it served, its gate result and the drift signals raised while
 * it served, the last good version and the Azure CLI command that returns traffic to it.
 *
 * Everything is replayed from stored observations: the traffic share on each deployment's
 * `serves` edge (a batch endpoint's default deployment is observed as a 100% share) and each
 * deployment's `model` series. Nothing is asked of Azure.
 *
 * The last-good rule: the most recently serving model version that
 *   1. served at least `minTrafficPercent` of the endpoint's traffic for at least `minServiceMinutes`
 *      in total (ROLLBACK_MIN_TRAFFIC_PERCENT, ROLLBACK_MIN_SERVICE_MINUTES),
 *   2. had no drift signal attributed to it on this endpoint while it served, and
 *   3. passes the promotion gate (GATE_REQUIRE) on the lineage captured for it.
 */
export interface LastGoodRule {
  minTrafficPercent: number;
  minServiceMinutes: number;
  gateRequires: GateRequirement[];
}

/**
 * A drift signal as the drift compliance check attributed it (the fields read here of its report
 * items); the caller hands them in, so this use case does not reach up into compliance.
 */
export interface AttributedSignal {
  signal: string;
  label: string;
  source: 'dataset-drift' | 'model-monitor';
  workspace: string | null;
  detectedAt: string | null;
  deployment: string | null;
  model: string | null;
  attributed: boolean;
}

export interface TimelineChange {
  /** Event time as the source wrote it. */
  at: string;
  kind: 'traffic' | 'model';
  deployment: string;
  /** Traffic percent, or the model version label; null before the first observation. */
  from: number | string | null;
  to: number | string | null;
  /** Content hash of the event that asserted it (the evidence log entry). */
  evidence: string;
}

export interface ServicePeriod {
  from: string;
  /** null: still serving. */
  until: string | null;
  /** The version's share of the endpoint's traffic during the period (summed over deployments). */
  share: number;
  deployments: string[];
}

export interface TimelineVersion {
  model: { id: string; label: string; key: string };
  periods: ServicePeriod[];
  maxShare: number;
  /** Minutes served at or above the rule's share (up to now for a period still open). */
  minutesAtShare: number;
  gate: { passed: boolean; missing: GateRequirement[] } | null;
  driftSignals: Array<Pick<AttributedSignal, 'signal' | 'label' | 'source' | 'detectedAt' | 'deployment' | 'attributed'>>;
  good: boolean;
  /** Why the version is not good under the rule (empty when it is). */
  notGoodBecause: string[];
}

export interface RollbackStep {
  /** What the step does, in words. */
  action: string;
  command: string;
}

export interface TimelineAnswer {
  endpoint: { id: string; key: string; label: string; workspace: string | null; type: 'online' | 'batch' };
  since: string | null;
  until: string | null;
  changes: TimelineChange[];
  versions: TimelineVersion[];
  /** What serves at `until` (or now): deployment, share and model. */
  current: Array<{ deployment: string; share: number; model: string | null }>;
  rule: LastGoodRule & { description: string };
  lastGood: { model: string; deployment: string | null; servedUntil: string | null } | null;
  rollback: {
    /** True when the last good version already takes all traffic: the steps change nothing. */
    alreadyServing: boolean;
    steps: RollbackStep[];
    note: string;
  } | null;
}

interface Observation {
  instant: string;
  eventTime: string;
  hash: string;
  kind: 'traffic' | 'model';
  deployment: string;
  value: number | string | null;
}

export function describeRule(rule: LastGoodRule): string {
  return (
    `the most recently serving model version that took at least ${rule.minTrafficPercent}% of traffic for at least ` +
    `${rule.minServiceMinutes} minutes, had no drift signal on this endpoint while it served, and passes the gate ` +
    `(${rule.gateRequires.join(', ') || 'no requirements'})`
  );
}

const ms = (instant: string) => Date.parse(`${instant.slice(0, 23)}Z`);

function momentOf(text: string | undefined, name: string): string | null {
  if (text === undefined || text === '') return null;
  const instant = toInstant(text);
  if (!instant) throw new DomainError('invalid-request', `${name}: expected an ISO 8601 date-time, got "${text.slice(0, 100)}"`);
  return instant;
}

function sorted(entries: SeriesEntry[] | undefined): SeriesEntry[] {
  return [...(entries ?? [])].sort((a, b) => a.instant.localeCompare(b.instant) || a.hash.localeCompare(b.hash));
}

export async function endpointTimeline(
  graph: GraphStore,
  query: {
    endpoint: string;
    /** Workspace ARM id or short name, for a bare endpoint name. */
    workspace?: string;
    since?: string;
    until?: string;
    rule: LastGoodRule;
    scope: Set<string> | null;
    /** Drift signals as the compliance drift check attributed them. */
    driftSignals: () => Promise<AttributedSignal[]>;
    now?: () => Date;
  },
): Promise<TimelineAnswer> {
  const since = momentOf(query.since, 'since');
  const until = momentOf(query.until, 'until');
  if (since && until && since > until) throw new DomainError('invalid-request', 'since: must not be later than until');
  const endpoint = await resolveEndpoint(graph, query.endpoint, query.workspace, query.scope);
  const type = /\/batchendpoints\//.test(endpoint.key) ? 'batch' : 'online';
  const edges = (await graph.edgesOf([endpoint.id], 'in')).filter((e) => e.kind === 'serves');
  const deployments = await graph.nodes(edges.map((e) => e.from));
  const nameOf = (id: string) => deployments.get(id)?.label ?? id;

  const observations: Observation[] = [];
  const modelIds = new Set<string>();
  for (const edge of edges) {
    for (const e of sorted(edge.series.traffic))
      observations.push({ ...e, kind: 'traffic', deployment: edge.from, value: Number(e.value) });
    const doc = deployments.get(edge.from);
    for (const e of sorted(doc?.series.model)) {
      const id = servedModelId(e);
      if (id) modelIds.add(id);
      observations.push({ ...e, kind: 'model', deployment: edge.from, value: id });
    }
  }
  const models = await graph.nodes([...modelIds]);
  const modelLabel = (id: string | number | null) => (typeof id === 'string' ? (models.get(id)?.label ?? id) : id);
  const seen = observations
    .filter((o) => until === null || o.instant <= until)
    .sort(
      (a, b) =>
        a.instant.localeCompare(b.instant) ||
        (a.kind === b.kind ? 0 : a.kind === 'model' ? -1 : 1) ||
        nameOf(a.deployment).localeCompare(nameOf(b.deployment)),
    );

  // Replay: one state per instant, the versions' shares recomputed after each.
  const traffic = new Map<string, number>();
  const served = new Map<string, string | null>();
  const changes: TimelineChange[] = [];
  const periods = new Map<string, ServicePeriod[]>();
  const open = new Map<string, ServicePeriod>();
  const lastDeployment = new Map<string, string>();
  const nowInstant = until ?? toInstant((query.now?.() ?? new Date()).toISOString()) ?? '9999';
  for (let i = 0; i < seen.length;) {
    const instant = (seen[i] as Observation).instant;
    let eventTime = (seen[i] as Observation).eventTime;
    for (; i < seen.length && (seen[i] as Observation).instant === instant; i++) {
      const o = seen[i] as Observation;
      eventTime = o.eventTime;
      const state = o.kind === 'traffic' ? traffic : served;
      const before = state.has(o.deployment) ? (state.get(o.deployment) ?? null) : null;
      if (state.has(o.deployment) && before === o.value) continue;
      (state as Map<string, number | string | null>).set(o.deployment, o.value);
      changes.push({
        at: o.eventTime,
        kind: o.kind,
        deployment: nameOf(o.deployment),
        from: o.kind === 'model' ? modelLabel(before) : before,
        to: o.kind === 'model' ? modelLabel(o.value) : o.value,
        evidence: o.hash,
      });
    }
    const shares = new Map<string, { share: number; deployments: string[] }>();
    for (const [deployment, share] of traffic) {
      const model = served.get(deployment);
      if (!model || !(share > 0)) continue;
      const s = shares.get(model) ?? { share: 0, deployments: [] };
      s.share += share;
      s.deployments.push(nameOf(deployment));
      shares.set(model, s);
      lastDeployment.set(model, deployment);
    }
    for (const [model, period] of open) {
      const now = shares.get(model);
      if (now && now.share === period.share && now.deployments.sort().join() === [...period.deployments].sort().join()) continue;
      period.until = eventTime;
      open.delete(model);
    }
    for (const [model, s] of shares) {
      if (open.has(model)) continue;
      const period: ServicePeriod = { from: eventTime, until: null, share: s.share, deployments: s.deployments.sort() };
      open.set(model, period);
      periods.set(model, [...(periods.get(model) ?? []), period]);
    }
  }

  const signals = await query.driftSignals();
  const deploymentLabels = new Set([...deployments.values()].map((d) => d.label));
  const versions: TimelineVersion[] = [];
  for (const [modelId, list] of periods) {
    const model = models.get(modelId);
    const label = model?.label ?? modelId;
    const spans = list.map((p) => ({
      from: toInstant(p.from) ?? p.from,
      until: p.until ? (toInstant(p.until) ?? p.until) : nowInstant,
      share: p.share,
    }));
    const maxShare = Math.max(...list.map((p) => p.share));
    const minutesAtShare = Math.round(
      spans.filter((s) => s.share >= query.rule.minTrafficPercent).reduce((sum, s) => sum + Math.max(0, ms(s.until) - ms(s.from)), 0) /
        60_000,
    );
    const drift = signals.filter((s) => {
      const at = s.detectedAt ? toInstant(s.detectedAt) : undefined;
      return (
        s.workspace === endpoint.workspace &&
        s.model === label &&
        s.deployment !== null &&
        deploymentLabels.has(s.deployment) &&
        at !== undefined &&
        spans.some((p) => at >= p.from && at <= p.until)
      );
    });
    let gateResult: TimelineVersion['gate'] = null;
    if (model && canSee(query.scope, model.workspace)) {
      const g = await gate(graph, { ref: model.id, require: query.rule.gateRequires, scope: query.scope });
      gateResult = { passed: g.passed, missing: g.missing };
    }
    const notGoodBecause: string[] = [];
    if (maxShare < query.rule.minTrafficPercent || minutesAtShare < query.rule.minServiceMinutes)
      notGoodBecause.push(
        `served at least ${query.rule.minTrafficPercent}% for ${minutesAtShare} of the ${query.rule.minServiceMinutes} minutes required`,
      );
    if (drift.length > 0) notGoodBecause.push(`${drift.length} drift signal(s) while it served`);
    if (!gateResult) notGoodBecause.push('no gate result: the model version is not recorded');
    else if (!gateResult.passed) notGoodBecause.push(`fails the gate: missing ${gateResult.missing.join(', ')}`);
    versions.push({
      model: { id: modelId, label, key: model?.key ?? modelId },
      periods: list,
      maxShare,
      minutesAtShare,
      gate: gateResult,
      driftSignals: drift.map(({ signal, label: l, source, detectedAt, deployment, attributed }) => ({
        signal,
        label: l,
        source,
        detectedAt,
        deployment,
        attributed,
      })),
      good: notGoodBecause.length === 0,
      notGoodBecause,
    });
  }
  const lastServed = (v: TimelineVersion) => {
    const last = v.periods[v.periods.length - 1] as ServicePeriod;
    return last.until === null ? '9999' : (toInstant(last.until) ?? last.until);
  };
  versions.sort((a, b) => lastServed(b).localeCompare(lastServed(a)) || a.model.label.localeCompare(b.model.label));

  const current = [...traffic]
    .map(([deployment, share]) => ({
      deployment: nameOf(deployment),
      share,
      model: modelLabel(served.get(deployment) ?? null) as string | null,
    }))
    .sort((a, b) => b.share - a.share || a.deployment.localeCompare(b.deployment));
  const good = versions.find((v) => v.good);
  const target = good ? pickDeployment(good.model.id, served, traffic, lastDeployment) : null;
  const inWindow = (at: string) => {
    const instant = toInstant(at) ?? at;
    return (since === null || instant >= since) && (until === null || instant <= until);
  };
  return {
    endpoint: {
      id: endpoint.id,
      key: endpoint.key,
      label: typeof endpoint.facts.name?.value === 'string' ? endpoint.facts.name.value : endpoint.label,
      workspace: endpoint.workspace,
      type,
    },
    since: query.since ?? null,
    until: query.until ?? null,
    changes: changes.filter((c) => inWindow(c.at)),
    versions: versions.filter((v) => since === null || lastServed(v) >= since),
    current,
    rule: { ...query.rule, description: describeRule(query.rule) },
    lastGood: good
      ? { model: good.model.label, deployment: target ? nameOf(target.deployment) : null, servedUntil: good.periods.at(-1)?.until ?? null }
      : null,
    rollback: good && target ? rollbackSteps(endpoint, type, good, target, traffic, nameOf) : null,
  };
}

/**
 * The deployment to return traffic to: one that serves the version now (the one that served it
 * last among them), else the one that served it last, whose model must be set back first.
 */
function pickDeployment(
  model: string,
  served: Map<string, string | null>,
  traffic: Map<string, number>,
  lastDeployment: Map<string, string>,
): { deployment: string; modelChanged: boolean } | null {
  const last = lastDeployment.get(model);
  const holding = [...served].filter(([, m]) => m === model).map(([d]) => d);
  if (last && holding.includes(last)) return { deployment: last, modelChanged: false };
  const busiest = holding.sort((a, b) => (traffic.get(b) ?? 0) - (traffic.get(a) ?? 0) || a.localeCompare(b))[0];
  if (busiest) return { deployment: busiest, modelChanged: false };
  return last ? { deployment: last, modelChanged: true } : null;
}

function rollbackSteps(
  endpoint: NodeDoc,
  type: 'online' | 'batch',
  version: TimelineVersion,
  target: { deployment: string; modelChanged: boolean },
  traffic: Map<string, number>,
  nameOf: (id: string) => string,
): NonNullable<TimelineAnswer['rollback']> {
  const ws = endpoint.workspace ? parseWorkspaceId(endpoint.workspace) : undefined;
  const where = ws ? ` --resource-group ${ws.resourceGroup} --workspace-name ${ws.name}` : '';
  const deploymentName = (id: string) => nameOf(id).slice(nameOf(id).indexOf('/') + 1);
  const spelled = endpoint.facts.name?.value;
  const endpointName = typeof spelled === 'string' ? spelled : endpoint.label;
  const name = deploymentName(target.deployment);
  const steps: RollbackStep[] = [];
  if (target.modelChanged) {
    const ref = parseArmId(version.model.key);
    const model = ref && ref.workspace ? `azureml:${version.model.label}` : version.model.key;
    steps.push({
      action: `set deployment ${name} back to model ${version.model.label} (it now serves another version)`,
      command: `az ml ${type}-deployment update --name ${name} --endpoint-name ${endpointName} --set model=${model}${where}`,
    });
  }
  if (type === 'batch') {
    steps.push({
      action: `make ${name} the default deployment again`,
      command: `az ml batch-endpoint update --name ${endpointName} --set defaults.deployment_name=${name}${where}`,
    });
  } else {
    const shares = [...traffic.keys()]
      .map(deploymentName)
      .filter((d) => d !== name)
      .sort()
      .map((d) => `${d}=0`);
    steps.push({
      action: `send all traffic to ${name}`,
      command: `az ml online-endpoint update --name ${endpointName} --traffic "${[`${name}=100`, ...shares].join(' ')}"${where}`,
    });
  }
  const alreadyServing = !target.modelChanged && traffic.get(target.deployment) === 100;
  return {
    alreadyServing,
    steps,
    note: alreadyServing
      ? `${version.model.label} already takes all traffic on ${name}; the command changes nothing.`
      : 'Printed, never run: review it, then run it with the Azure CLI ml extension (v2).',
  };
}
