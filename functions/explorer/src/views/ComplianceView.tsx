import { useEffect, useRef } from 'preact/hooks';
import type { ComplianceReport, TrendPoint } from '../../../../shared/compliance/report.js';
import { SECTION_TITLES as TITLES, SECTIONS } from '../../../../shared/compliance/sections.js';
import { ApiError, getJson, workspaceName } from '../api.js';
import { viewHref } from '../router.js';
import { ErrorBox, Loading, useLoad } from '../ui.js';

/**
 * Q9 and Q6: the latest compliance report, its trend (the same chart as the HTML report, one panel
 * per section), and every gap linked to the lineage that explains it.
 */
const TABLE_RUNS = 20;

const percent = (r: number | null) => (r === null ? 'n/a (nothing to measure)' : `${(r * 100).toFixed(1)} %`);

function lineageHref(node: string, workspace: string | null): string {
  return viewHref('lineage', { ref: node, workspace, direction: 'both', depth: 3 });
}

function TrendChart({ points }: { points: TrendPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let cancelled = false;
    // Plot is loaded only for this view: the other views never pay for it.
    void import('../../../../shared/compliance/trendChart.js').then(({ trendChart }) => {
      if (cancelled || !box.current) return;
      const chart = trendChart(points, document, SECTIONS) as unknown as Element;
      box.current.replaceChildren(chart);
      box.current.dataset.state = 'drawn';
    });
    return () => {
      cancelled = true;
    };
  }, [points]);
  return <div ref={box} class="trend" data-state="drawing" />;
}

export function ComplianceView() {
  const loaded = useLoad(
    (signal) =>
      Promise.all([
        getJson<ComplianceReport>('compliance/latest', {}, signal).catch((e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return null;
          throw e;
        }),
        getJson<{ points: TrendPoint[] }>('compliance/trend', {}, signal),
      ]),
    [],
  );

  return (
    <section class="view" aria-labelledby="view-title">
      <h1 id="view-title">Compliance</h1>
      {loaded.state === 'loading' && <Loading what="the latest report" />}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} />}
      {loaded.state === 'done' &&
        (() => {
          const [report, { points }] = loaded.value;
          if (!report)
            return (
              <p role="status">
                No compliance report yet: the timers have not run. An admin can run the checks now (POST /api/compliance/run).
              </p>
            );
          const recent = points.slice(-TABLE_RUNS).reverse();
          return (
            <>
              <p>
                Run <code>{report.runId}</code> at {report.generatedAt} ({report.mode}, {report.trigger}); checks run:{' '}
                {report.checksRun.join(', ') || 'none'}.
              </p>
              <table aria-label="Summary">
                <thead>
                  <tr>
                    <th scope="col">Section</th>
                    <th scope="col">OK / total</th>
                    <th scope="col">Ratio</th>
                    <th scope="col">Computed at</th>
                  </tr>
                </thead>
                <tbody>
                  {SECTIONS.map((s) => (
                    <tr key={s}>
                      <th scope="row">
                        <a href={`#${s}`}>{TITLES[s]}</a>
                      </th>
                      <td class="num">
                        {report[s].numerator} / {report[s].denominator}
                      </td>
                      <td class="num">{percent(report[s].ratio)}</td>
                      <td>{report[s].computedAt ?? 'never'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>

              <h2>Trend</h2>
              {points.length === 0 ? (
                <p>No history yet.</p>
              ) : (
                <figure class="trend-figure" aria-labelledby="trend-caption">
                  <TrendChart points={points} />
                  <figcaption id="trend-caption">
                    One panel per section; a marker per run (hover for value, time and run id); the newest value beside the last marker; the
                    dotted line is the 100 % target; a gap is a run with nothing to measure.
                  </figcaption>
                  <details>
                    <summary>The last {recent.length} runs as a table</summary>
                    <table aria-label="Trend">
                      <thead>
                        <tr>
                          <th scope="col">Run time (UTC)</th>
                          <th scope="col">Run id</th>
                          {SECTIONS.map((s) => (
                            <th key={s} scope="col">
                              {TITLES[s]}
                            </th>
                          ))}
                        </tr>
                      </thead>
                      <tbody>
                        {recent.map((p) => (
                          <tr key={p.runId}>
                            <td>{p.generatedAt}</td>
                            <td>{p.runId}</td>
                            {SECTIONS.map((s) => (
                              <td key={s} class="num">
                                {percent(p.ratios[s])}
                              </td>
                            ))}
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </details>
                </figure>
              )}

              <h2 id="lineageCompleteness">Lineage completeness gaps</h2>
              <Gaps
                label="Lineage completeness gaps"
                rows={report.lineageCompleteness.items.map((g) => ({
                  key: g.node,
                  label: g.label,
                  href: lineageHref(g.node, g.workspace),
                  workspace: g.workspace,
                  owner: g.owner,
                  missing: g.missing.join(', '),
                }))}
              />
              <h2 id="deploymentTraceability">Deployment traceability gaps</h2>
              <Gaps
                label="Deployment traceability gaps"
                rows={report.deploymentTraceability.items.map((g) => ({
                  key: g.node,
                  label: `${g.label}${g.model ? ` (serves ${g.model})` : ''}`,
                  href: lineageHref(g.node, g.workspace),
                  workspace: g.workspace,
                  owner: g.owner,
                  missing: g.missing.join(', '),
                }))}
              />
              <h2 id="driftAttribution">Unattributed drift</h2>
              <Gaps
                label="Unattributed drift"
                rows={report.driftAttribution.items.map((d) => ({
                  key: d.signal,
                  label: d.label,
                  href: lineageHref(d.signal, d.workspace),
                  workspace: d.workspace,
                  owner: d.deployment ?? '—',
                  missing: d.explanation ?? d.reason ?? '',
                }))}
                ownerHeader="Deployment"
                missingHeader="Why unattributed"
              />
              <h2 id="retention">Retention</h2>
              {report.retention.items.length === 0 ? (
                <p>No violations.</p>
              ) : (
                <ul>
                  {report.retention.items.slice(0, 200).map((v) => (
                    <li key={`${v.kind}|${v.record}`}>
                      {v.kind}: {v.recordKind} <code>{v.record}</code> ({v.detail})
                    </li>
                  ))}
                </ul>
              )}
              <h2 id="pii">PII findings</h2>
              {report.pii.items.length === 0 ? (
                <p>No findings.</p>
              ) : (
                <ul>
                  {report.pii.items.slice(0, 200).map((f) => (
                    <li key={`${f.container}|${f.document}|${f.path}`}>
                      {f.kind} in {f.container} <code>{f.document}</code> at <code>{f.path}</code>
                      {f.label ? ` (${f.label})` : ''}
                    </li>
                  ))}
                </ul>
              )}
            </>
          );
        })()}
    </section>
  );
}

interface GapRow {
  key: string;
  label: string;
  href: string;
  workspace: string | null;
  owner: string;
  missing: string;
}

function Gaps({
  label,
  rows,
  ownerHeader = 'Owner',
  missingHeader = 'Missing',
}: {
  label: string;
  rows: GapRow[];
  ownerHeader?: string;
  missingHeader?: string;
}) {
  if (rows.length === 0) return <p>None.</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Item (opens its lineage)</th>
          <th scope="col">Workspace</th>
          <th scope="col">{ownerHeader}</th>
          <th scope="col">{missingHeader}</th>
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, 200).map((r) => (
          <tr key={r.key}>
            <td>
              <a href={r.href}>{r.label}</a>
            </td>
            <td title={r.workspace ?? ''}>{workspaceName(r.workspace) || '—'}</td>
            <td>{r.owner}</td>
            <td>{r.missing}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
