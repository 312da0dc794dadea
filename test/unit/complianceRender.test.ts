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
    integrity: {
      numerator: 10,
      denominator: 11,
      ratio: 10 / 11,
      computedAt: '2024-05-03T10:00:04Z',
      items: [
        {
          kind: 'body-altered',
          event: `sha256:${'ab'.repeat(32)}`,
          leafIndex: 3,
          checkpoint: null,
          detail: 'the stored body <b>does not</b> hash to its id',
          detectedAt: '2024-05-03T10:00:04Z',
        },
      ],
      treeSize: 8,
      verifiedCheckpoint: 8,
    },
    freshness: {
      numerator: 1,
      denominator: 2,
      ratio: 0.5,
      computedAt: '2024-05-03T10:00:05Z',
      items: [
        {
          node: 'deployment-1',
          label: 'churn-endpoint/blue',
          workspace: WORKSPACE,
          lastObservedAt: '2024-05-01T08:00:00Z',
          ageSeconds: 2 * 86_400 + 2 * 3600 + 5,
        },
      ],
      staleAfterHours: 24,
      p50Seconds: 600,
      p95Seconds: 2 * 86_400 + 2 * 3600 + 5,
      maxSeconds: 2 * 86_400 + 2 * 3600 + 5,
    },
    servingMatchesTraining: {
      numerator: 0,
      denominator: 1,
      ratio: 0,
      computedAt: '2024-05-03T10:00:05Z',
      items: [
        {
          node: 'deployment-2',
          label: 'churn-endpoint/green',
          workspace: WORKSPACE,
          model: 'churn:4',
          trainingJob: 'train-42',
          comparisons: [
            {
              aspect: 'environment',
              verdict: 'mismatch',
              serving: {
                asset: 'sklearn-env:3',
                image: 'mcr.microsoft.com/sk@sha256:' + 'a'.repeat(64),
                digest: 'sha256:' + 'a'.repeat(64),
              },
              training: { asset: 'sklearn-env:2', image: 'mcr.microsoft.com/sk:latest', digest: null },
            },
            { aspect: 'code', verdict: 'match', serving: { asset: 'src:1' }, training: { asset: 'src:1' } },
          ],
        },
      ],
    },
    schemaDrift: {
      numerator: 8,
      denominator: 10,
      ratio: 0.8,
      computedAt: '2024-05-03T10:00:06Z',
      items: [
        {
          channel: 'eventgrid',
          source: 'Microsoft.MachineLearningServices.ModelRegistered',
          sourceKind: 'event-type',
          events: 10,
          clean: 8,
          withUnexpectedFields: 1,
          deadLettered: 1,
          unexpectedFields: [{ path: 'data.<b>NewField</b>', events: 1 }],
          deadLetterFields: [{ path: 'data.ModelName', events: 1 }],
        },
      ],
      bySource: [],
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

  /** The group Plot draws for one mark of one section (`line-…`, `runs-…`, `latest-…`), by its class. */
  function markGroup(svg: string, mark: 'line' | 'runs' | 'latest', s: SectionName): string | undefined {
    return new RegExp(`<g transform="translate\\(0,(\\d+)\\)"[^>]*class="${mark}-${s}">([\\s\\S]*?)</g>`).exec(svg)?.[0];
  }
  const panelOf = (group: string | undefined) => /translate\(0,(\d+)\)/.exec(group ?? '')?.[1];
  const segmentsOf = (group: string | undefined) => count(/ d="([^"]*)"/.exec(group ?? '')?.[1] ?? '', /M/g);
  const markersOf = (group: string | undefined) => count(group ?? '', /<path /g);

  it('draws one panel per section, so series at the same value never hide each other, and breaks lines where nothing was measured', () => {
    const history = [
      point(1, { lineageCompleteness: 0.5, deploymentTraceability: 0.1, retention: 1 }),
      point(2, { lineageCompleteness: 0.6, deploymentTraceability: 0.2 }),
      point(3, { lineageCompleteness: 0.7, deploymentTraceability: null, retention: 1, pii: 0.3 }),
      point(4, { lineageCompleteness: 0.8, deploymentTraceability: 0.4, pii: 0.3 }),
      point(5, { lineageCompleteness: 0.9, deploymentTraceability: 0.5, retention: 1 }),
    ];
    const svg = /<svg[\s\S]*<\/svg>/.exec(renderHtml(makeReport(), history))?.[0] ?? '';

    // Every section with a value has its own panel (a facet at its own vertical offset).
    const panels = (['lineageCompleteness', 'deploymentTraceability', 'retention', 'pii'] as const).map((s) =>
      panelOf(markGroup(svg, 'runs', s)),
    );
    expect(new Set(panels).size).toBe(4);

    expect(segmentsOf(markGroup(svg, 'line', 'lineageCompleteness'))).toBe(1);
    expect(segmentsOf(markGroup(svg, 'line', 'deploymentTraceability'))).toBe(2);
    expect(markGroup(svg, 'line', 'driftAttribution')).toBeUndefined();
    expect(markGroup(svg, 'runs', 'driftAttribution')).toBeUndefined();
    // A marker per measured run, even where a line cannot be drawn (isolated points).
    expect(markersOf(markGroup(svg, 'runs', 'lineageCompleteness'))).toBe(5);
    expect(markersOf(markGroup(svg, 'runs', 'retention'))).toBe(3);
    expect(markersOf(markGroup(svg, 'runs', 'pii'))).toBe(2);

    // The line runs oldest (left) to newest (right).
    const xs = [...(/ d="([^"]*)"/.exec(markGroup(svg, 'line', 'lineageCompleteness') ?? '')?.[1] ?? '').matchAll(/[ML]([\d.]+),/g)].map(
      (m) => Number(m[1]),
    );
    expect(xs).toHaveLength(5);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));

    // Each marker names its section, value, time and run; the newest value is written out.
    expect(markGroup(svg, 'runs', 'lineageCompleteness')).toContain(
      '<title>Lineage completeness: 90.0 % at 2024-05-05T10:00:00.000Z (run run-5)</title>',
    );
    expect(markGroup(svg, 'latest', 'lineageCompleteness')).toContain('>90.0 %<');
    expect(svg).toContain('0 %');
    expect(svg).toContain('100 %');
    for (const title of ['Lineage completeness', 'Deployment traceability', 'PII-free metadata']) expect(svg).toContain(`>${title}<`);
  });

  it('tells sections apart without colour: each has its own dash pattern and marker shape', () => {
    const history = [point(1, Object.fromEntries(SECTIONS.map((s) => [s, 1]))), point(2, Object.fromEntries(SECTIONS.map((s) => [s, 1])))];
    const svg = /<svg[\s\S]*<\/svg>/.exec(renderHtml(makeReport(), history))?.[0] ?? '';
    const dashes = SECTIONS.map((s) => /stroke-dasharray="([^"]+)"/.exec(markGroup(svg, 'line', s) ?? '')?.[1] ?? 'solid');
    const shapes = SECTIONS.map((s) => /<path d="([^"]+)"/.exec(markGroup(svg, 'runs', s) ?? '')?.[1]);
    expect(new Set(dashes).size).toBe(SECTIONS.length);
    expect(shapes.every((d) => d !== undefined)).toBe(true);
    expect(new Set(shapes).size).toBe(SECTIONS.length);
  });

  it('puts runs of one day apart on a time axis, and draws the 100 % target in every panel', () => {
    const sameDay = [1, 2, 3].map((i) => ({
      ...point(1, { lineageCompleteness: 0.5 }),
      runId: `run-${i}`,
      generatedAt: `2024-05-01T0${i}:00:00Z`,
    }));
    const svg = /<svg[\s\S]*<\/svg>/.exec(renderHtml(makeReport(), sameDay))?.[0] ?? '';
    const xs = [...(markGroup(svg, 'runs', 'lineageCompleteness') ?? '').matchAll(/<path [^>]*transform="translate\(([\d.]+),/g)].map((m) =>
      Number(m[1]),
    );
    expect(xs).toHaveLength(3);
    expect(new Set(xs).size).toBe(3);
    // Tick labels are times of day, not one date for all three runs.
    expect(svg).toMatch(/>0?[1-3]:00</);
    const target = /<g aria-label="rule">([\s\S]*?)<\/g><\/g>/.exec(svg)?.[1] ?? '';
    expect(count(target, /stroke-dasharray="1,4"/g)).toBe(SECTIONS.length);
  });

  it('draws a single run as markers and does not add the current report to the history', () => {
    const html = renderHtml(makeReport(), [point(1, { lineageCompleteness: 0.5, pii: 1 })]);
    expect(markersOf(markGroup(html, 'runs', 'lineageCompleteness'))).toBe(1);
    expect(markersOf(markGroup(html, 'runs', 'pii'))).toBe(1);
    expect(markGroup(html, 'runs', 'retention')).toBeUndefined();
    expect(count(html, /\(run run-1\)<\/title>/g)).toBe(2);
  });

  it('lists the recent runs as a table under the chart', () => {
    const html = renderHtml(makeReport(), [point(1, { lineageCompleteness: 0.5 }), point(2, { lineageCompleteness: 0.75, pii: 1 })]);
    const table = /<details><summary>The last 2 runs as a table<\/summary>([\s\S]*?)<\/details>/.exec(html)?.[1] ?? '';
    expect(table).toMatch(/<td>2024-05-02T10:00:00Z<\/td><td>run-2<\/td><td class="num">75.0 %<\/td>/);
    expect(table.indexOf('run-2')).toBeLessThan(table.indexOf('run-1'));
  });

  it('says "no history yet" when there is no history', () => {
    const html = renderHtml(makeReport(), []);
    expect(html).toContain('no history yet');
    expect(html).not.toContain('<svg');
  });

  it("links every gap to its lineage view in the explorer when the app's origin is known", () => {
    const report = makeReport();
    const linked = sectionHtml(renderHtml(report, [], 'https://lineage.example.com'), 'lineageCompleteness');
    const href = `https://lineage.example.com/api/explorer/lineage?${new URLSearchParams({ ref: 'node-1', workspace: WORKSPACE, direction: 'both', depth: '3' }).toString()}`;
    expect(linked).toContain(`<a href="${href.replace(/&/g, '&amp;')}">&lt;script&gt;alert(1)&lt;/script&gt;</a>`);
    const drift = sectionHtml(renderHtml(report, [], 'https://lineage.example.com'), 'driftAttribution');
    expect(drift).toContain('/api/explorer/lineage?ref=sig-1&amp;');
    // Without an origin (no PUBLIC_BASE_URL, no WEBSITE_HOSTNAME) the report has no links that could not work.
    expect(sectionHtml(renderHtml(report, []), 'lineageCompleteness')).not.toContain('<a ');
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

  it('lists freshness figures and stale deployments, serving-versus-training differences with both sides, and schema drift by field path', () => {
    const html = renderHtml(makeReport(), []);
    const freshness = sectionHtml(html, 'freshness');
    expect(freshness).toContain('<dt>Stale after</dt><dd>24 h</dd>');
    expect(freshness).toContain('<dt>Age p50</dt><dd>10 min</dd>');
    expect(freshness).toContain('<dt>Age max</dt><dd>2 d 2 h</dd>');
    expect(freshness).toContain('churn-endpoint/blue');
    expect(freshness).toContain('2024-05-01T08:00:00Z');

    const serving = sectionHtml(html, 'servingMatchesTraining');
    expect(serving).toContain('sklearn-env:3');
    expect(serving).toContain('sklearn-env:2');
    expect(serving).toContain(`digest <code>sha256:${'a'.repeat(64)}</code>`);
    expect(serving).toContain('<code>mcr.microsoft.com/sk:latest</code>');
    // Only what differs is listed: the matching code is not a row.
    expect(count(serving, /<td>code<\/td>/g)).toBe(0);
    expect(count(serving, /<td>environment<\/td>/g)).toBe(1);

    const drift = sectionHtml(html, 'schemaDrift');
    expect(drift).toContain('<code>data.&lt;b&gt;NewField&lt;/b&gt;</code> (1)');
    expect(drift).toContain('<code>data.ModelName</code> (1)');
    expect(summaryRow(html, 'Schema drift')).toContain('80.0 %');
  });

  it('reads a report written before the freshness, serving and schema drift sections existed as empty ones', () => {
    const { freshness: _f, servingMatchesTraining: _s, schemaDrift: _d, ...old } = makeReport();
    const parsed = reportSchema.parse(old);
    expect(parsed.freshness).toMatchObject({ numerator: 0, denominator: 0, ratio: null, items: [], p50Seconds: null });
    expect(parsed.schemaDrift.bySource).toEqual([]);
    expect(summaryRow(renderHtml(parsed, []), 'Serving matches training')).toContain('n/a (nothing to measure)');
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
