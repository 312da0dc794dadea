import * as Plot from '@observablehq/plot';
import type { TrendPoint } from './report.js';
import { SECTION_TITLES, type SectionName } from './sections.js';

/**
 * The compliance trend: one small chart per section (so series at the same value never hide each
 * other), runs on a time axis (so runs on one day stay apart), a marker per run with its value, time
 * and run id, the latest value written beside the last marker, and the target as a dotted line.
 * Each section also has its own marker symbol and dash pattern, so it stays recognisable in print and
 * without colour. Observable Plot draws it; the same code runs in the browser (the explorer) and on
 * the server (the HTML report, with linkedom's document), so both show the same picture.
 *
 * Imports only types from report.ts, so the explorer's bundle does not take zod with it.
 */
/** Every section aims at 100 %: each item that is not fine is something to fix. */
export const TARGET = 1;

const SECTION_MARKS: Record<SectionName, { color: string; symbol: string; dash: string }> = {
  lineageCompleteness: { color: '#0072B2', symbol: 'circle', dash: 'none' },
  deploymentTraceability: { color: '#D55E00', symbol: 'square', dash: '6,3' },
  driftAttribution: { color: '#009E73', symbol: 'triangle', dash: '2,2' },
  retention: { color: '#CC79A7', symbol: 'diamond', dash: '8,3,2,3' },
  pii: { color: '#6A3D9A', symbol: 'cross', dash: '1,3' },
  integrity: { color: '#E69F00', symbol: 'star', dash: '4,2,1,2' },
  freshness: { color: '#56B4E9', symbol: 'wye', dash: '10,4' },
  servingMatchesTraining: { color: '#000000', symbol: 'hexagon', dash: '3,6' },
  schemaDrift: { color: '#999933', symbol: 'times', dash: '12,2,2,2' },
};

/** The few members of a DOM element this module uses: the same in a browser and in linkedom. */
export interface ChartElement {
  outerHTML: string;
  querySelectorAll(selectors: string): ArrayLike<{ remove(): void }>;
}

interface Row {
  section: SectionName;
  title: string;
  at: Date;
  ratio: number | null;
  runId: string;
}

const percent = (r: number) => `${(r * 100).toFixed(1)} %`;

/** A chart that CSS sizes (`.trend-chart`); Plot's own <style> element is dropped so a strict CSP page can show it. */
export function trendChart(history: TrendPoint[], document: unknown, sections: readonly SectionName[], width = 760): ChartElement {
  const rows: Row[] = history.flatMap((p) =>
    sections.map((section) => ({
      section,
      title: SECTION_TITLES[section],
      at: new Date(p.generatedAt),
      ratio: typeof p.ratios[section] === 'number' ? p.ratios[section] : null,
      runId: p.runId,
    })),
  );
  const times = history.map((p) => Date.parse(p.generatedAt)).filter((t) => !Number.isNaN(t));
  const first = times.length > 0 ? Math.min(...times) : Date.now();
  const last = times.length > 0 ? Math.max(...times) : first;
  // A little room either side; a single run gets a day around it rather than a zero-width axis.
  const pad = last > first ? (last - first) * 0.04 : 12 * 3_600_000;
  const titles = sections.map((s) => SECTION_TITLES[s]);

  const marks = sections.flatMap((section) => {
    const mine = rows.filter((r) => r.section === section);
    const measured = mine.filter((r) => r.ratio !== null);
    const { color, symbol, dash } = SECTION_MARKS[section];
    const latest = measured[measured.length - 1];
    const title = SECTION_TITLES[section];
    return [
      Plot.line(mine, {
        x: 'at',
        y: 'ratio',
        fy: 'title',
        stroke: color,
        strokeWidth: 2,
        strokeDasharray: dash,
        className: `line-${section}`,
        ariaDescription: `${title} over time`,
      }),
      Plot.dot(measured, {
        className: `runs-${section}`,
        x: 'at',
        y: 'ratio',
        fy: 'title',
        symbol: () => symbol,
        fill: color,
        stroke: '#000',
        strokeWidth: 0.75,
        r: 4,
        title: (r: Row) => `${r.title}: ${percent(r.ratio ?? 0)} at ${r.at.toISOString()} (run ${r.runId})`,
      }),
      Plot.text(latest ? [latest] : [], {
        className: `latest-${section}`,
        x: 'at',
        y: 'ratio',
        fy: 'title',
        text: (r: Row) => percent(r.ratio ?? 0),
        dx: 8,
        dy: -8,
        textAnchor: 'start',
        fontWeight: 'bold',
      }),
    ];
  });

  const options: Plot.PlotOptions = {
    className: 'trend-chart',
    width,
    height: 70 + sections.length * 95,
    marginLeft: 48,
    marginRight: 70,
    marginTop: 30,
    x: { type: 'utc', domain: [new Date(first - pad), new Date(last + pad)], label: 'run time (UTC)', grid: true },
    y: { domain: [0, 1.05], ticks: [0, 0.5, 1], tickFormat: (r: number) => `${r * 100} %`, label: 'ratio' },
    fy: { domain: titles, axis: null, padding: 0.3 },
    symbol: { type: 'identity' },
    marks: [
      Plot.frame({ stroke: '#ccc' }),
      Plot.ruleY([TARGET], { stroke: '#333', strokeDasharray: '1,4', strokeWidth: 1.5 }),
      // Each panel's title sits above it, clear of values at 100 %.
      Plot.text(titles, {
        fy: (t: string) => t,
        text: (t: string) => t,
        frameAnchor: 'top-left',
        lineAnchor: 'bottom',
        dy: -4,
        fontWeight: 'bold',
        fontSize: 11,
      }),
      ...marks,
    ],
    ariaLabel: `Compliance ratio per section over ${history.length} run${history.length === 1 ? '' : 's'}`,
  };
  // The document to build with (a browser's, or linkedom's on the server); passed untyped because
  // the server code is compiled without the DOM's types.
  const chart = Plot.plot(Object.assign(options, { document })) as unknown as ChartElement;
  Array.from(chart.querySelectorAll('style')).forEach((s) => s.remove());
  return chart;
}
