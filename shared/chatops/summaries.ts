import type { TimelineAnswer } from '../usecases/endpointTimeline.js';
import { parseArmId } from '../graph/keys.js';
import type { AsOfAnswer } from '../usecases/asOf.js';
import type { DiffAnswer } from '../usecases/diff.js';
import { describeUnmet, type GateAnswer } from '../usecases/gate.js';
import { describeApproval } from '../usecases/modelProfile.js';
import { isRecord } from '../util/isRecord.js';
import type { ImpactAnswer } from '../usecases/impact.js';
import type { LineageAnswer, LineageNode } from '../usecases/traversal.js';
import type { PredictionRequestAnswer } from '../usecases/predictionRequest.js';
import type { ReproduceAnswer } from '../usecases/reproduce.js';
import { listed, truncate, type Answer } from './answer.js';

/** Use-case answers reduced to the few facts worth a chat line each. Pure: no I/O. */

const byLabel = (a: { label: string }, b: { label: string }) => a.label.localeCompare(b.label);
const labels = (nodes: Array<{ label: string }>) => nodes.map((n) => n.label);

/** A model reference as stored on a deployment (ARM id) shown as NAME:VERSION. */
function modelLabel(ref: string | null): string {
  if (!ref) return 'unknown';
  return parseArmId(ref)?.label ?? truncate(ref, 80);
}

function boundNote(partial: boolean, hidden?: number, reason?: string): string[] {
  const notes: string[] = [];
  if (partial) notes.push(`Partial answer${reason ? ` (${reason})` : ''}: see the full JSON.`);
  if (hidden) notes.push(`${hidden} node(s) in workspaces this chat may not see are left out.`);
  return notes;
}

const GROUPS: Array<[string, string[]]> = [
  ['Data', ['data', 'dataset', 'storage']],
  ['Code', ['code']],
  ['Commit', ['commit']],
  ['Environment', ['environment']],
  ['Compute', ['compute']],
  ['Parent models', ['model']],
  ['Components', ['component']],
];

export function lineageSummary(answer: LineageAnswer, link: string): Answer {
  const root = answer.nodes.find((n) => n.id === answer.root);
  const byId = new Map(answer.nodes.map((n) => [n.id, n]));
  const upstream = answer.nodes.filter((n) => n.id !== answer.root);
  const producers = answer.edges
    .filter((e) => e.kind === 'produced' && e.to === answer.root)
    .map((e) => byId.get(e.from))
    .filter((n): n is LineageNode => n !== undefined);
  const lines: string[] = [];
  if (producers.length > 0) lines.push(`Produced by: ${listed(producers.map((p) => `${p.kind} ${p.label}`))}`);
  const producerIds = new Set(producers.map((p) => p.id));
  for (const [name, kinds] of GROUPS) {
    const found = upstream.filter((n) => kinds.includes(n.kind)).sort(byLabel);
    if (found.length > 0) lines.push(`${name}: ${listed(labels(found))}`);
  }
  const jobs = upstream.filter((n) => n.kind === 'job' && !producerIds.has(n.id)).sort(byLabel);
  if (jobs.length > 0) lines.push(`${producers.length > 0 ? 'Earlier jobs' : 'Jobs'}: ${listed(labels(jobs))}`);
  if (upstream.length === 0) lines.push('Nothing upstream is recorded yet.');
  else lines.push(`Upstream: ${upstream.length} node(s), ${answer.edges.length} edge(s) within ${answer.depth} hop(s).`);
  if (root?.placeholder) lines.push('Referenced by events, but no event about it has arrived yet.');
  lines.push(...boundNote(answer.partial, answer.hidden, answer.partialReason));
  return { title: `Lineage of ${root ? `${root.kind} ${root.label}` : answer.root}`, lines, link, tone: 'info' };
}

export function impactSummary(answer: ImpactAnswer, link: string): Answer {
  const lines: string[] = [];
  const serving = answer.deployments.filter((d) => d.servingNow);
  const idle = answer.deployments.filter((d) => !d.servingNow);
  if (answer.models.length > 0)
    lines.push(`Model versions (${answer.models.length}): ${listed(labels(answer.models.map((m) => m.node).sort(byLabel)))}`);
  if (serving.length > 0)
    lines.push(`Serving now: ${listed(serving.map((d) => `${d.node.label} (${d.trafficShare ?? '?'}%, ${modelLabel(d.model)})`))}`);
  if (idle.length > 0) lines.push(`Other deployments: ${listed(labels(idle.map((d) => d.node).sort(byLabel)))}`);
  if (answer.endpoints.length > 0) lines.push(`Endpoints: ${listed(answer.endpoints.map((e) => e.node.label).sort())}`);
  if (answer.jobs.length > 0) lines.push(`Jobs (${answer.jobs.length}): ${listed(labels(answer.jobs.map((j) => j.node).sort(byLabel)))}`);
  if (answer.other.length > 0)
    lines.push(`Other (${answer.other.length}): ${listed(answer.other.map((o) => `${o.node.kind} ${o.node.label}`).sort())}`);
  if (lines.length === 0) lines.push('Nothing recorded depends on it.');
  lines.push(...boundNote(answer.partial, answer.hidden));
  const tone = serving.length > 0 ? 'warning' : 'info';
  return { title: `Impact of ${answer.root.kind} ${answer.root.label}`, lines, link, tone };
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value))
    return value.length === 0
      ? '—'
      : listed(
          value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
          4,
        );
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '—';
    return listed(
      entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`),
      4,
    );
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const VERDICT: Record<string, string> = { better: '▲ better', worse: '▼ worse', changed: 'changed', added: 'added', removed: 'removed' };
const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** A metric change as `auc 0.781 → 0.803 (+0.022, ▲ better)`; other changes as `name: from → to`. */
function changeLine(c: NonNullable<DiffAnswer['differences'][number]['changes']>[number]): string {
  if (c.verdict !== undefined)
    return `${c.name} ${shown(c.from)} → ${shown(c.to)}${c.delta !== null && c.delta !== undefined ? ` (${signed(c.delta)}, ${VERDICT[c.verdict] ?? c.verdict})` : ` (${VERDICT[c.verdict] ?? c.verdict})`}`;
  return `${c.name}: ${truncate(shown(c.from), 60)} → ${truncate(shown(c.to), 60)}`;
}

/** A side of a difference; approvals as the gate words them. */
function side(aspect: string, value: unknown): string {
  if (aspect === 'approvals' && Array.isArray(value))
    return shown(
      (value as unknown[]).map((a): unknown => (isRecord(a) ? describeApproval(a as Parameters<typeof describeApproval>[0]) : a)),
    );
  return shown(value);
}

export function diffSummary(answer: DiffAnswer, link: string): Answer {
  const lines = answer.differences.map((d) =>
    d.changes && d.changes.length > 0
      ? `${d.aspect}: ${truncate(d.changes.map(changeLine).join('; '), 300)}`
      : `${d.aspect}: ${truncate(side(d.aspect, d.from.value), 100)} → ${truncate(side(d.aspect, d.to.value), 100)}`,
  );
  if (answer.same.length > 0) lines.push(`Same: ${listed(answer.same, 8)}`);
  lines.push(...boundNote(answer.partial));
  const n = answer.differences.length;
  return {
    title: `${answer.from.label} → ${answer.to.label}: ${n === 0 ? 'no differences' : `${n} difference${n === 1 ? '' : 's'}`}`,
    lines,
    link,
    tone: 'info',
  };
}

export function lineageAsOfSummary(answer: AsOfAnswer, link: string): Answer {
  const lines = answer.serving.map(
    (s) =>
      `${s.deployment.label}: ${s.trafficShare}% → model ${s.model?.label ?? 'unknown'}${s.modelSince ? ` (since ${s.modelSince})` : ''}`,
  );
  if (lines.length === 0) lines.push('No deployment took traffic at that moment.');
  if (answer.notServing.length > 0)
    lines.push(
      `Not serving: ${listed(answer.notServing.map((d) => `${d.deployment.label} (${d.trafficShare === null ? 'no observation' : `${d.trafficShare}%`})`))}`,
    );
  return { title: `${answer.endpoint.label} at ${answer.at}`, lines, link, tone: 'info' };
}

export function predictionRequestSummary(answer: PredictionRequestAnswer, link: string): Answer {
  const producer = answer.model && answer.upstream?.edges.find((e) => e.kind === 'produced' && e.to === answer.model?.id);
  const job = producer ? answer.upstream?.nodes.find((n) => n.id === producer.from) : undefined;
  const lines = [
    `Time: ${answer.time}`,
    `Deployment: ${answer.deployment?.label ?? truncate(answer.deploymentArmId, 120)}`,
    `Model: ${answer.model ? `${answer.model.label}${answer.modelSince ? ` (since ${answer.modelSince})` : ''}` : 'unknown at that moment'}`,
  ];
  if (job) lines.push(`Trained by: job ${job.label}`);
  const outcome = [
    answer.responseCode !== undefined ? `HTTP ${answer.responseCode}` : '',
    answer.modelStatusCode !== undefined ? `model ${answer.modelStatusCode}` : '',
    answer.totalDurationMs !== undefined ? `${answer.totalDurationMs} ms` : '',
  ]
    .filter(Boolean)
    .join(', ');
  if (outcome) lines.push(`Response: ${outcome}`);
  return { title: `Request ${answer.requestId}`, lines, link, tone: 'info' };
}

export function gateSummary(answer: GateAnswer, link: string): Answer {
  const lines = answer.required.map((r) => {
    const check = answer.checks[r];
    if (check?.present) return `✓ ${r}: ${listed(check.evidence, 4)}`;
    if (check?.observed !== undefined) return `✗ ${r}: observed ${check.observed ?? 'no such metric'}`;
    return `✗ ${r}: ${check && check.evidence.length > 0 ? listed(check.evidence, 4) : 'nothing recorded'}`;
  });
  lines.push(`Policy: ${answer.required.join(', ') || '(nothing required)'}`);
  const title = answer.passed
    ? `✅ ${answer.model.label} passes the gate`
    : `❌ ${answer.model.label} does not meet ${describeUnmet(answer).join('; ')}`;
  return { title, lines, link, tone: answer.passed ? 'good' : 'error' };
}

const day = (at: string) => at.replace(/T(\d{2}:\d{2}).*$/, ' $1');

export function timelineSummary(answer: TimelineAnswer, link: string): Answer {
  const now = answer.current.filter((c) => c.share > 0).map((c) => `${c.deployment} ${c.share}% → ${c.model ?? 'unknown model'}`);
  const lines = [`Now: ${now.length > 0 ? listed(now) : 'no deployment takes traffic'}`];
  const recent = answer.changes.slice(-6).map((c) => {
    const what = c.kind === 'traffic' ? `${c.from ?? '–'}% → ${c.to ?? '–'}%` : `model ${c.from ?? '–'} → ${c.to ?? '–'}`;
    return `${day(c.at)} ${c.deployment}: ${what}`;
  });
  if (answer.changes.length > recent.length) lines.push(`${answer.changes.length - recent.length} earlier change(s) behind the link`);
  lines.push(...recent);
  for (const v of answer.versions.filter((x) => !x.good).slice(0, 3))
    lines.push(`${v.model.label}: not good (${v.notGoodBecause.join('; ')})`);
  lines.push(
    answer.lastGood
      ? `Last good: ${answer.lastGood.model}${answer.lastGood.deployment ? ` on ${answer.lastGood.deployment}` : ''}`
      : 'No version meets the last-good rule.',
  );
  return { title: `${answer.endpoint.label} (${answer.endpoint.type}) timeline`, lines, link, tone: answer.lastGood ? 'info' : 'warning' };
}

export function rollbackSummary(answer: TimelineAnswer, link: string): Answer {
  if (!answer.lastGood || !answer.rollback)
    return {
      title: `No rollback target for ${answer.endpoint.label}`,
      lines: [`No model version meets the rule: ${answer.rule.description}.`],
      link,
      tone: 'warning',
    };
  const lines = [
    `Last good: ${answer.lastGood.model} on ${answer.lastGood.deployment ?? 'unknown deployment'}${answer.lastGood.servedUntil ? ` (served until ${answer.lastGood.servedUntil})` : ' (serving now)'}`,
    answer.rollback.note,
    ...answer.rollback.steps.flatMap((s, i) => [`${i + 1}. ${s.action}:`, s.command]),
  ];
  return {
    title: `Rollback ${answer.endpoint.label} to ${answer.lastGood.model}`,
    lines,
    link,
    tone: answer.rollback.alreadyServing ? 'good' : 'warning',
  };
}

export function reproduceSummary(answer: ReproduceAnswer, link: string): Answer {
  const lines = [
    ...(answer.model ? [`${answer.model.label} was produced by job ${answer.job.label}.`] : []),
    `Pinned: ${listed(answer.pinned.map((p) => `${p.what} ${p.to}`))}`,
    ...(answer.gaps.length > 0 ? [`Not pinned (${answer.gaps.length}):`, ...answer.gaps.map((g) => `• ${g.what}: ${g.detail}`)] : []),
    `Save the spec behind the link as ${answer.fileName}, then:`,
    answer.command,
  ];
  return {
    title: `Reproduce ${answer.job.label}${answer.gaps.length > 0 ? ` (${answer.gaps.length} gap${answer.gaps.length === 1 ? '' : 's'})` : ''}`,
    lines,
    link,
    tone: answer.gaps.length > 0 ? 'warning' : 'good',
  };
}
