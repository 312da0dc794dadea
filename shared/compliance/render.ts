import { parseHTML } from 'linkedom';
import { explorerLink } from '../util/explorerLinks.js';
import {
  DRIFT_REASONS,
  SECTIONS,
  ratio,
  type ComplianceReport,
  type DeploymentGap,
  type DriftItem,
  type IntegrityFailure,
  type LineageGap,
  type PiiFindingItem,
  type RetentionViolation,
  type SchemaDriftSource,
  type SectionName,
  type ServingMismatch,
  type StaleDeployment,
  type TrendPoint,
  type UpstreamChange,
} from './report.js';
import { SECTION_TITLES } from './sections.js';
import { TARGET, trendChart } from './trendChart.js';

export { SECTION_TITLES };

/**
 * Renders a compliance report as one self-contained HTML page for auditors: no scripts, no external
 * assets, so it can be archived next to the JSON report and opened offline years later. When the
 * app's public origin is known, each gap links to its view in the lineage explorer.
 *
 * Convention: every helper returns HTML, and every string taken from the report goes through `esc`
 * exactly once, at the point where it becomes HTML.
 */

/** Long item lists would make the page unreadable (and huge); the JSON report keeps them all. */
export const MAX_ROWS = 200;

const NONE = '<span class="muted">—</span>';

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:72em}
table{border-collapse:collapse;margin:.5em 0 1em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}
dt{font-weight:600;float:left;clear:left;width:9em}
dd{margin:0 0 .2em 10em}
.muted{color:#777}
.note{font-style:italic;color:#555}
.trend-chart{display:block;height:auto;max-width:100%;background:#fff}
.trend-chart text{white-space:pre}
`.trim();

/**
 * `explorerOrigin`: the app's public origin (see `appOrigin`); with it, every gap links to the
 * explorer's lineage view of the node it is about.
 */
export function renderHtml(report: ComplianceReport, history: TrendPoint[], explorerOrigin: string | null = null): string {
  const link = gapLink(explorerOrigin);
  const title = 'Lineage compliance report';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${title} — ${esc(report.runId)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${title}</h1>`,
    renderRunDetails(report),
    renderSummary(report),
    renderTrend(history),
    renderLineage(report.lineageCompleteness, link),
    renderDeployment(report.deploymentTraceability, link),
    renderDrift(report.driftAttribution, link),
    renderRetention(report.retention),
    renderPii(report.pii),
    renderIntegrity(report.integrity),
    renderFreshness(report.freshness, link),
    renderServingMatchesTraining(report.servingMatchesTraining, link),
    renderSchemaDrift(report.schemaDrift),
    renderCost(report.cost),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Page parts

function renderRunDetails(report: ComplianceReport): string {
  const details: [term: string, html: string][] = [
    ['Run id', esc(report.runId)],
    ['Generated at', esc(report.generatedAt)],
    ['Mode', esc(report.mode)],
    ['Trigger', esc(report.trigger)],
  ];
  if (report.window) details.push(['Window', `${esc(report.window.since)} – ${esc(report.window.until)}`]);
  details.push(['Checks run', report.checksRun.length > 0 ? esc(report.checksRun.join(', ')) : NONE]);
  return `<dl>\n${details.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('\n')}\n</dl>`;
}

function renderSummary(report: ComplianceReport): string {
  const rows = dataTable(
    [...SECTIONS],
    [
      col('Section', (name) => `<a href="#${name}">${SECTION_TITLES[name]}</a>`),
      num('OK / total', (name) => fraction(report[name].numerator, report[name].denominator)),
      num('Ratio', (name) => percent(report[name].ratio)),
      col('Computed at', (name) => optional(report[name].computedAt, '<span class="muted">never</span>')),
    ],
    'summary',
  );
  return `<h2>Summary</h2>\n${rows}`;
}

interface SectionShape {
  numerator: number;
  denominator: number;
  ratio: number | null;
}

function sectionHeading(name: SectionName, s: SectionShape): string {
  return `<h2>${SECTION_TITLES[name]}</h2>\n<p>${fraction(s.numerator, s.denominator)} OK — ${percent(s.ratio)}</p>`;
}

/** Escaped label, linked to the explorer's lineage view of `node` when the origin is known. */
type GapLink = (label: string, node: string, workspace: string | null) => string;

function gapLink(origin: string | null): GapLink {
  return (label, node, workspace) => {
    if (origin === null) return esc(label);
    const href = explorerLink(origin, 'lineage', { ref: node, workspace, direction: 'both', depth: 3 });
    return `<a href="${esc(href)}">${esc(label)}</a>`;
  };
}

function renderLineage(s: ComplianceReport['lineageCompleteness'], link: GapLink): string {
  const items = dataTable<LineageGap>(s.items, [
    col('Label', (g) => link(g.label, g.node, g.workspace)),
    col('Workspace', (g) => workspace(g.workspace)),
    col('Owner', (g) => esc(g.owner)),
    col('Missing', (g) => esc(g.missing.join(', '))),
  ]);
  return sectionElement('lineageCompleteness', [
    sectionHeading('lineageCompleteness', s),
    '<h3>Gaps</h3>',
    items,
    ...renderTallies(s.byWorkspace, s.byOwner),
  ]);
}

function renderDeployment(s: ComplianceReport['deploymentTraceability'], link: GapLink): string {
  const items = dataTable<DeploymentGap>(s.items, [
    col('Label', (g) => link(g.label, g.node, g.workspace)),
    col('Model', (g) => optional(g.model)),
    col('Workspace', (g) => workspace(g.workspace)),
    col('Owner', (g) => esc(g.owner)),
    col('Missing', (g) => esc(g.missing.join(', '))),
  ]);
  return sectionElement('deploymentTraceability', [
    sectionHeading('deploymentTraceability', s),
    '<h3>Gaps</h3>',
    items,
    ...renderTallies(s.byWorkspace, s.byOwner),
  ]);
}

type Tallies = Record<string, { numerator: number; denominator: number }>;

function renderTallies(byWorkspace: Tallies, byOwner: Tallies): string[] {
  const tally = (keyHeader: string, tallies: Tallies, key: (k: string) => string) =>
    dataTable(sortedEntries(tallies), [
      col(keyHeader, ([k]) => key(k)),
      num('OK / total', ([, t]) => fraction(t.numerator, t.denominator)),
      num('Ratio', ([, t]) => percent(ratio(t.numerator, t.denominator))),
    ]);
  return ['<h3>By workspace</h3>', tally('Workspace', byWorkspace, workspace), '<h3>By owner</h3>', tally('Owner', byOwner, esc)];
}

function renderDrift(s: ComplianceReport['driftAttribution'], link: GapLink): string {
  const unattributed = dataTable<DriftItem>(s.items, [
    col('Label', (d) => link(d.label, d.signal, d.workspace)),
    col('Source', (d) => esc(d.source)),
    col('Detected at', (d) => optional(d.detectedAt)),
    col('Deployment', (d) => optional(d.deployment)),
    col('Model', (d) => optional(d.model)),
    col('Training data', (d) => (d.trainingData.length > 0 ? esc(d.trainingData.join(', ')) : NONE)),
    col('Reason', driftReason),
  ]);
  const attributed = dataTable<DriftItem>(s.attributed, [
    col('Label', (d) => esc(d.label)),
    col('Compared with', (d) => (d.comparedWith ? `${esc(d.comparedWith.kind)}: ${esc(d.comparedWith.label)}` : NONE)),
    col('Changes', (d) => (d.changes.length > 0 ? d.changes.map(change).join('<br>') : NONE)),
  ]);
  return sectionElement('driftAttribution', [
    sectionHeading('driftAttribution', s),
    '<h3>Unattributed drift</h3>',
    unattributed,
    '<h3>Attributed drift</h3>',
    attributed,
  ]);
}

function driftReason(d: DriftItem): string {
  if (d.reason === null) return d.explanation === null ? NONE : esc(d.explanation);
  // Older reports may lack an explanation; the reason code alone means little to an auditor.
  return `<code>${esc(d.reason)}</code>: ${esc(d.explanation ?? DRIFT_REASONS[d.reason])}`;
}

function change(c: UpstreamChange): string {
  return `${esc(c.aspect)}: ${esc(changeValue(c.from))} → ${esc(changeValue(c.to))}`;
}

function changeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  // JSON.stringify returns undefined for undefined (and functions): fall back to String.
  return JSON.stringify(value) ?? String(value);
}

function renderRetention(s: ComplianceReport['retention']): string {
  const policies = dataTable(s.policies, [
    col('Record kind', (p) => esc(p.recordKind)),
    col('Policy', (p) => esc(p.policy)),
    num('Retention days', (p) => String(p.retentionDays)),
    num('Purged', (p) => String(p.purged)),
    num('Purged this run', (p) => String(p.purgedThisRun)),
    num('Held', (p) => String(p.held)),
  ]);
  const violations = dataTable<RetentionViolation>(s.items, [
    col('Kind', (v) => esc(v.kind)),
    col('Record kind', (v) => esc(v.recordKind)),
    col('Record', (v) => esc(v.record)),
    col('Record time', (v) => optional(v.recordTime)),
    col('Policy', (v) => esc(v.policy)),
    col('Detail', (v) => esc(v.detail)),
  ]);
  return sectionElement('retention', [
    sectionHeading('retention', s),
    '<h3>Policies</h3>',
    policies,
    '<h3>Active legal holds</h3>',
    list(s.activeHolds),
    '<h3>Violations</h3>',
    violations,
  ]);
}

function renderPii(s: ComplianceReport['pii']): string {
  const byKind = dataTable(sortedEntries(s.byKind), [col('Kind', ([k]) => esc(k)), num('Findings', ([, n]) => String(n))]);
  const findings = dataTable<PiiFindingItem>(s.items, [
    col('Container', (f) => esc(f.container)),
    col('Document', (f) => esc(f.document)),
    col('Label', (f) => optional(f.label)),
    col('Kind', (f) => esc(f.kind)),
    col('Path', (f) => `<code>${esc(f.path)}</code>`),
  ]);
  return sectionElement('pii', [sectionHeading('pii', s), '<h3>By kind</h3>', byKind, '<h3>Findings</h3>', findings]);
}

function renderIntegrity(s: ComplianceReport['integrity']): string {
  const failures = dataTable<IntegrityFailure>(s.items, [
    col('Kind', (f) => esc(f.kind)),
    col('Event', (f) => optional(f.event)),
    col('Leaf', (f) => optional(f.leafIndex === null ? null : String(f.leafIndex))),
    col('Checkpoint', (f) => optional(f.checkpoint === null ? null : String(f.checkpoint))),
    col('Detail', (f) => esc(f.detail)),
  ]);
  const tree = `<p>Leaves checked: ${s.treeSize}; last consistent checkpoint: ${s.verifiedCheckpoint === null ? NONE : String(s.verifiedCheckpoint)}</p>`;
  return sectionElement('integrity', [sectionHeading('integrity', s), tree, '<h3>Failures</h3>', failures]);
}

function renderFreshness(s: ComplianceReport['freshness'], link: GapLink): string {
  const figures: [term: string, html: string][] = [
    ['Stale after', s.staleAfterHours === null ? NONE : `${s.staleAfterHours} h`],
    ['Age p50', duration(s.p50Seconds)],
    ['Age p95', duration(s.p95Seconds)],
    ['Age max', duration(s.maxSeconds)],
  ];
  const stale = dataTable<StaleDeployment>(s.items, [
    col('Deployment', (d) => link(d.label, d.node, d.workspace)),
    col('Workspace', (d) => workspace(d.workspace)),
    col('Last observed', (d) => optional(d.lastObservedAt, '<span class="muted">never</span>')),
    num('Age', (d) => duration(d.ageSeconds)),
  ]);
  return sectionElement('freshness', [
    sectionHeading('freshness', s),
    `<dl>\n${figures.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('\n')}\n</dl>`,
    '<h3>Stale deployments</h3>',
    stale,
  ]);
}

function renderServingMatchesTraining(s: ComplianceReport['servingMatchesTraining'], link: GapLink): string {
  const side = (x: ServingMismatch['comparisons'][number]['serving']) =>
    x.asset === null
      ? '<span class="muted">not recorded</span>'
      : [esc(x.asset), x.image ? `<code>${esc(x.image)}</code>` : '', x.digest ? `digest <code>${esc(x.digest)}</code>` : '']
          .filter(Boolean)
          .join('<br>');
  const rows = s.items.flatMap((m) => m.comparisons.filter((c) => c.verdict !== 'match').map((c) => ({ m, c })));
  const items = dataTable(rows, [
    col('Deployment', ({ m }) => link(m.label, m.node, m.workspace)),
    col('Model', ({ m }) => optional(m.model)),
    col('Training job', ({ m }) => optional(m.trainingJob)),
    col('Aspect', ({ c }) => esc(c.aspect)),
    col('Verdict', ({ c }) => esc(c.verdict)),
    col('Serving', ({ c }) => side(c.serving)),
    col('Training', ({ c }) => side(c.training)),
  ]);
  return sectionElement('servingMatchesTraining', [sectionHeading('servingMatchesTraining', s), '<h3>Differences</h3>', items]);
}

function renderSchemaDrift(s: ComplianceReport['schemaDrift']): string {
  const paths = (list: SchemaDriftSource['unexpectedFields']) =>
    list.length === 0 ? NONE : list.map((p) => `<code>${esc(p.path)}</code> (${p.events})`).join('<br>');
  const sources = dataTable<SchemaDriftSource>(s.bySource, [
    col('Channel', (x) => esc(x.channel)),
    col('Source', (x) => `${esc(x.source)} <span class="muted">(${esc(x.sourceKind)})</span>`),
    num('Events', (x) => String(x.events)),
    num('Unexpected fields', (x) => String(x.withUnexpectedFields)),
    num('Dead-lettered', (x) => String(x.deadLettered)),
  ]);
  const items = dataTable<SchemaDriftSource>(s.items, [
    col('Source', (x) => esc(x.source)),
    col('Fields we did not expect (events)', (x) => paths(x.unexpectedFields)),
    col('Dead-lettered for (events)', (x) => paths(x.deadLetterFields)),
  ]);
  return sectionElement('schemaDrift', [
    sectionHeading('schemaDrift', s),
    '<h3>By source</h3>',
    sources,
    '<h3>Examples by field path</h3>',
    items,
  ]);
}

function renderCost(cost: ComplianceReport['cost']): string {
  const byCheck = dataTable(sortedEntries(cost.byCheck), [
    col('Check', ([k]) => esc(k)),
    num('Cosmos requests', ([, c]) => String(c.cosmosRequests)),
    num('Documents read', ([, c]) => String(c.documentsRead)),
    num('Changed documents', ([, c]) => String(c.changedDocuments)),
  ]);
  return [
    '<section id="cost">',
    '<h2>Cost of this run</h2>',
    `<dl>\n<dt>Cosmos requests</dt><dd>${cost.cosmosRequests}</dd>\n<dt>Documents read</dt><dd>${cost.documentsRead}</dd>\n</dl>`,
    byCheck,
    '</section>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Trend

/** Runs listed under the chart, newest first: the chart's numbers in a table a screen reader can read. */
export const TREND_TABLE_RUNS = 20;

function renderTrend(history: TrendPoint[]): string {
  const heading = '<h2>Trend</h2>';
  if (history.length === 0) return `${heading}\n<p class="note">no history yet</p>`;
  const dom = parseHTML('<!DOCTYPE html><html><body></body></html>') as unknown as { document: unknown };
  const chart = trendChart(history, dom.document, SECTIONS).outerHTML;
  const recent = history.slice(-TREND_TABLE_RUNS).reverse();
  const table = dataTable(recent, [
    col('Run time (UTC)', (p) => esc(p.generatedAt)),
    col('Run id', (p) => esc(p.runId)),
    ...SECTIONS.map((name) => num<TrendPoint>(SECTION_TITLES[name], (p) => percent(p.ratios[name]))),
  ]);
  return [
    heading,
    `<p class="note">One panel per section; a marker per run (hover for its value, time and run id); the newest value is written beside the last marker; the dotted line is the ${TARGET * 100} % target; a gap is a run with nothing to measure.</p>`,
    chart,
    `<details><summary>The last ${recent.length} run${recent.length === 1 ? '' : 's'} as a table</summary>`,
    table,
    '</details>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTML helpers

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in text and in double- or single-quoted attribute values. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Workspaces are long ARM ids; the name after "/workspaces/" is what people recognise. */
function workspace(id: string | null): string {
  if (id === null) return NONE;
  const marker = '/workspaces/';
  const at = id.lastIndexOf(marker);
  const short = at >= 0 ? id.slice(at + marker.length) : '';
  return short === '' ? esc(id) : `<span title="${esc(id)}">${esc(short)}</span>`;
}

function optional(text: string | null, absent = NONE): string {
  return text === null ? absent : esc(text);
}

/** Seconds as the largest units that matter (`3 d 4 h`, `12 min`). */
export function duration(seconds: number | null): string {
  if (seconds === null) return NONE;
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let left = seconds;
  for (const [unit, size] of units) {
    const n = Math.floor(left / size);
    if (n > 0 && parts.length < 2) parts.push(`${n} ${unit}`);
    if (parts.length > 0) left -= n * size;
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0 s';
}

function fraction(numerator: number, denominator: number): string {
  return `${numerator} / ${denominator}`;
}

function percent(value: number | null): string {
  return value === null ? 'n/a (nothing to measure)' : `${(value * 100).toFixed(1)} %`;
}

interface Column<T> {
  header: string;
  /** Returns HTML: report strings must already be escaped. */
  html: (item: T) => string;
  numeric: boolean;
}

function col<T>(header: string, html: (item: T) => string): Column<T> {
  return { header, html, numeric: false };
}

/** A right-aligned column, so counts and percentages line up. */
function num<T>(header: string, html: (item: T) => string): Column<T> {
  return { header, html, numeric: true };
}

function dataTable<T>(items: T[], columns: Column<T>[], className?: string): string {
  if (items.length === 0) return '<p class="muted">None.</p>';
  const shown = items.slice(0, MAX_ROWS);
  const head = `<tr>${columns.map((c) => `<th>${c.header}</th>`).join('')}</tr>`;
  const rows = shown.map((item) => `<tr>${columns.map((c) => `<td${c.numeric ? ' class="num"' : ''}>${c.html(item)}</td>`).join('')}</tr>`);
  const cls = className ? ` class="${className}"` : '';
  const html = [`<table${cls}>`, `<thead>${head}</thead>`, '<tbody>', ...rows, '</tbody>', '</table>'].join('\n');
  return html + leftOut(items.length);
}

function list(items: string[]): string {
  if (items.length === 0) return '<p class="muted">None.</p>';
  const shown = items.slice(0, MAX_ROWS).map((item) => `<li>${esc(item)}</li>`);
  return `<ul>\n${shown.join('\n')}\n</ul>${leftOut(items.length)}`;
}

function leftOut(total: number): string {
  const left = total - MAX_ROWS;
  return left > 0 ? `\n<p class="note">${left} more not shown (first ${MAX_ROWS} of ${total} listed).</p>` : '';
}

function sortedEntries<V>(record: Record<string, V>): [string, V][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function sectionElement(name: SectionName, parts: string[]): string {
  return [`<section id="${name}">`, ...parts, '</section>'].join('\n');
}
