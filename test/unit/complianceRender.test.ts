import { describe, it, expect } from 'vitest';
import { renderHtml } from '../../shared/compliance/render.js';
import {
  reportSchema,
  SECTIONS,
  trendPoint,
  type ComplianceReport,
  type LineageGap,
  type SectionName,
  type TrendPoint,
} from '../../shared/compliance/report.js';

const WORKSPACE =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-prod';

function gap(i: number, label = `gap-${i}`): LineageGap {
  return { node: `node-${i}`, label, workspace: WORKSPACE, owner: 'team-a', missing: ['data', 'code'] };
}

/** A report that passes reportSchema; tests override the parts they look at. */
function makeReport(overrides: Partial<ComplianceReport> = {}): ComplianceReport {
  const base: ComplianceReport = {
    schemaVersion: 1,
    runId: 'run-42',
    generatedAt: '2024-05-03T10:00:00Z',
    trigger: 'timer',
    mode: 'window',
    window: { since: '2024-05-01T00:00:00Z', until: '2024-05-03T00:00:00Z' },
    checksRun: ['lineage', 'drift', 'retention', 'pii'],
    lineageCompleteness: {
      numerator: 2,
      denominator: 3,
      ratio: 2 / 3,
      computedAt: '2024-05-03T10:00:01Z',
      items: [gap(1, '<script>alert(1)</script>')],
      byWorkspace: { [WORKSPACE]: { numerator: 2, denominator: 3 } },
      byOwner: { 'O\'Brien & "Co"': { numerator: 2, denominator: 3 } },
    },
    deploymentTraceability: {
      numerator: 0,
      denominator: 0,
      ratio: null,
      computedAt: '2024-05-03T10:00:01Z',
      items: [],
      byWorkspace: {},
      byOwner: {},
    },
    driftAttribution: {
      numerator: 1,
      denominator: 2,
      ratio: 0.5,
      computedAt: null,
      items: [
        {
          signal: 'sig-1',
          label: 'drift on churn-data',
          source: 'dataset-drift',
          workspace: WORKSPACE,
          detectedAt: '2024-05-02T08:00:00Z',
          deployment: 'churn-endpoint/blue',
          model: 'churn:3',
          trainingData: ['churn-data:1', 'churn-data:2'],
          attributed: false,
          comparedWith: null,
          changes: [],
          reason: 'no-comparison',
          explanation: null,
        },
      ],
      attributed: [
        {
          signal: 'sig-2',
          label: 'monitor alert',
          source: 'model-monitor',
          workspace: WORKSPACE,
          detectedAt: '2024-05-02T09:00:00Z',
          deployment: 'churn-endpoint/green',
          model: 'churn:4',
          trainingData: ['churn-data:2'],
          attributed: true,
          comparedWith: { kind: 'previous-serving-version', label: 'churn:3' },
          changes: [
            { aspect: 'data', from: 'churn-data:1', to: 'churn-data:2' },
            { aspect: 'parameters', from: { lr: 0.1 }, to: { lr: 0.2 } },
          ],
          reason: null,
          explanation: null,
        },
      ],
    },
    retention: {
      numerator: 10,
      denominator: 10,
      ratio: 1,
      computedAt: '2024-05-03T10:00:02Z',
      items: [],
      policies: [{ recordKind: 'raw-event', policy: 'raw-90d', retentionDays: 90, purged: 5, purgedThisRun: 1, held: 2 }],
      activeHolds: ['hold-litigation-7'],
    },
    pii: {
      numerator: 99,
      denominator: 100,
      ratio: 0.99,
      computedAt: '2024-05-03T10:00:03Z',
      items: [{ container: 'graph', document: 'doc-1', label: 'dataset x', kind: 'email', path: 'properties.owner' }],
      byKind: { email: 1 },
    },
    cost: {
      cosmosRequests: 123,
      documentsRead: 456,
      byCheck: { lineage: { cosmosRequests: 100, documentsRead: 400, changedDocuments: 7 } },
    },
  };
  return reportSchema.parse({ ...base, ...overrides });
}

function point(i: number, ratios: Partial<Record<SectionName, number | null>>): TrendPoint {
  const all = Object.fromEntries(SECTIONS.map((s) => [s, ratios[s] ?? null])) as Record<SectionName, number | null>;
  return { runId: `run-${i}`, generatedAt: `2024-05-0${i}T10:00:00Z`, ratios: all };
}

/** The HTML of one `<section id="...">`, so assertions cannot match text elsewhere on the page. */
function sectionHtml(html: string, id: string): string {
  const match = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  if (!match?.[1]) throw new Error(`section ${id} not found`);
  return match[1];
}

function summaryRow(html: string, title: string): string {
  const table = /<table class="summary">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  const row = table.split('\n').find((line) => line.includes(`>${title}</a>`));
  if (!row) throw new Error(`summary row ${title} not found`);
  return row;
}

function count(html: string, pattern: RegExp): number {
  return html.match(pattern)?.length ?? 0;
}

describe('renderHtml', () => {
  it('renders a self-contained HTML5 page with the run details', () => {
    const report = makeReport();
    const html = renderHtml(report, [trendPoint(report)]);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<h1>Lineage compliance report</h1>');
    for (const text of ['run-42', '2024-05-03T10:00:00Z', 'window', 'timer', '2024-05-01T00:00:00Z', 'lineage, drift, retention, pii']) {
      expect(html).toContain(text);
    }
    expect(html).not.toMatch(/<script|<link|\ssrc=/i);
  });

  it('escapes every report string, in text and in attributes', () => {
    const html = renderHtml(makeReport(), []);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('O&#39;Brien &amp; &quot;Co&quot;');
  });

  it('shows the workspace name, with the full ARM id in a title attribute', () => {
    const lineage = sectionHtml(renderHtml(makeReport(), []), 'lineageCompleteness');
    expect(lineage).toContain(`<span title="${WORKSPACE}">ws-prod</span>`);

    const hostile = { ...gap(1), workspace: '/rg/"><b>x</b>/workspaces/w&1' };
    const base = makeReport();
    const report = makeReport({ lineageCompleteness: { ...base.lineageCompleteness, items: [hostile] } });
    const escaped = sectionHtml(renderHtml(report, []), 'lineageCompleteness');
    expect(escaped).toContain('<span title="/rg/&quot;&gt;&lt;b&gt;x&lt;/b&gt;/workspaces/w&amp;1">w&amp;1</span>');
    expect(escaped).not.toContain('<b>');
  });

  it('summarises every section in order with counts, percentages and n/a for nothing to measure', () => {
    const html = renderHtml(makeReport(), []);
    const lineage = summaryRow(html, 'Lineage completeness');
    expect(lineage).toContain('2 / 3');
    expect(lineage).toContain('66.7 %');
    expect(lineage).toContain('2024-05-03T10:00:01Z');
    const deployment = summaryRow(html, 'Deployment traceability');
    expect(deployment).toContain('0 / 0');
    expect(deployment).toContain('n/a (nothing to measure)');
    expect(summaryRow(html, 'Drift attribution')).toContain('never');
    expect(summaryRow(html, 'Retention compliance')).toContain('100.0 %');
    expect(summaryRow(html, 'PII-free metadata')).toContain('99.0 %');

    const titles = ['Lineage completeness', 'Deployment traceability', 'Drift attribution', 'Retention compliance', 'PII-free metadata'];
    const positions = titles.map((t) => html.indexOf(`>${t}</a>`));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('draws one polyline per unbroken run of ratios and breaks lines at null', () => {
    const history = [
      point(1, { lineageCompleteness: 0.5, deploymentTraceability: 0.1, retention: 1 }),
      point(2, { lineageCompleteness: 0.6, deploymentTraceability: 0.2 }),
      point(3, { lineageCompleteness: 0.7, deploymentTraceability: null, retention: 1, pii: 0.3 }),
      point(4, { lineageCompleteness: 0.8, deploymentTraceability: 0.4, pii: 0.3 }),
      point(5, { lineageCompleteness: 0.9, deploymentTraceability: 0.5, retention: 1 }),
    ];
    const svg = /<svg[\s\S]*<\/svg>/.exec(renderHtml(makeReport(), history))?.[0] ?? '';
    const polylines = (s: SectionName) => count(svg, new RegExp(`<polyline data-section="${s}"`, 'g'));
    const circles = (s: SectionName) => count(svg, new RegExp(`<circle data-section="${s}"`, 'g'));

    expect(polylines('lineageCompleteness')).toBe(1);
    expect(polylines('deploymentTraceability')).toBe(2);
    expect(polylines('driftAttribution')).toBe(0);
    expect(circles('driftAttribution')).toBe(0);
    // Isolated points (neighbours are null) cannot form a line, so they are dots.
    expect(polylines('retention')).toBe(0);
    expect(circles('retention')).toBe(3);
    expect(polylines('pii')).toBe(1);

    // The lineage line spans all five runs, oldest at the left edge and newest at the right.
    const points = /<polyline data-section="lineageCompleteness" points="([^"]+)"/.exec(svg)?.[1]?.split(' ') ?? [];
    expect(points).toHaveLength(5);
    const xs = points.map((p) => Number(p.split(',')[0]));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));

    expect(svg).toContain('0 %');
    expect(svg).toContain('100 %');
    expect(svg).toContain('>2024-05-01<');
    expect(svg).toContain('>2024-05-05<');
    for (const title of ['Lineage completeness', 'PII-free metadata']) expect(svg).toContain(title);
  });

  it('draws a single run as dots and does not add the current report to the history', () => {
    const html = renderHtml(makeReport(), [point(1, { lineageCompleteness: 0.5, pii: 1 })]);
    expect(html).not.toContain('<polyline');
    expect(count(html, /<circle /g)).toBe(2);
  });

  it('says "no history yet" when there is no history', () => {
    const html = renderHtml(makeReport(), []);
    expect(html).toContain('no history yet');
    expect(html).not.toContain('<polyline');
    expect(html).not.toContain('<svg');
  });

  it('caps item tables at 200 rows and says how many were left out', () => {
    const items = Array.from({ length: 250 }, (_, i) => gap(i));
    const base = makeReport();
    const report = makeReport({ lineageCompleteness: { ...base.lineageCompleteness, numerator: 0, denominator: 250, ratio: 0, items } });
    const lineage = sectionHtml(renderHtml(report, []), 'lineageCompleteness');
    expect(count(lineage, /<td>gap-\d+<\/td>/g)).toBe(200);
    expect(lineage).toContain('<td>gap-199</td>');
    expect(lineage).not.toContain('<td>gap-200</td>');
    expect(lineage).toContain('50 more not shown (first 200 of 250 listed)');
  });

  it('lists drift, retention, PII and cost details', () => {
    const html = renderHtml(makeReport(), []);
    const drift = sectionHtml(html, 'driftAttribution');
    expect(drift).toContain('churn-data:1, churn-data:2');
    expect(drift).toContain('<code>no-comparison</code>: no previously serving model version');
    expect(drift).toContain('previous-serving-version: churn:3');
    expect(drift).toContain('data: churn-data:1 → churn-data:2');
    expect(drift).toContain('parameters: {&quot;lr&quot;:0.1} → {&quot;lr&quot;:0.2}');

    const retention = sectionHtml(html, 'retention');
    expect(retention).toContain('raw-90d');
    expect(retention).toContain('<li>hold-litigation-7</li>');

    const pii = sectionHtml(html, 'pii');
    expect(pii).toContain('<code>properties.owner</code>');
    expect(pii).toMatch(/<td>email<\/td><td class="num">1<\/td>/);

    const cost = sectionHtml(html, 'cost');
    expect(cost).toContain('<dd>123</dd>');
    expect(cost).toContain('<dd>456</dd>');
    expect(cost).toMatch(/<td>lineage<\/td><td class="num">100<\/td><td class="num">400<\/td><td class="num">7<\/td>/);
  });
});
