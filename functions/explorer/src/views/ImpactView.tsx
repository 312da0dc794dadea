import { useMemo, useState } from 'preact/hooks';
import { getJson, modelLabel, type ImpactAnswer, type LineageAnswer } from '../api.js';
import { GraphView } from '../graph/GraphView.js';
import { NodePanel } from '../NodePanel.js';
import { navigate, viewHref } from '../router.js';
import { Bounds, ErrorBox, Field, formFields, Loading, useLoad } from '../ui.js';

/**
 * Q5: what depends on a data version, environment, code version, commit or model version now. The
 * drawing is the downstream lineage (real links); the impact answer says which deployments serve a
 * dependent model right now, and those and their endpoints are marked live.
 */
export function ImpactView({ params }: { params: URLSearchParams }) {
  const ref = params.get('ref') ?? '';
  const workspace = params.get('workspace') ?? '';
  const depth = Math.min(50, Math.max(1, Number(params.get('depth') ?? 25) || 25));
  const [selected, setSelected] = useState<string | null>(null);
  const loaded = useLoad(
    ref
      ? (signal) =>
          Promise.all([
            getJson<ImpactAnswer>('impact', { ref, workspace, depth }, signal),
            getJson<LineageAnswer>('lineage', { ref, workspace, direction: 'downstream', depth, limit: 500 }, signal),
          ])
      : null,
    [ref, workspace, depth],
  );

  const live = useMemo(() => {
    const marks = new Map<string, string>();
    if (loaded.state !== 'done') return marks;
    const [impact] = loaded.value;
    for (const d of impact.deployments)
      if (d.servingNow) marks.set(d.node.id, `serving now${d.trafficShare === null ? '' : ` ${d.trafficShare} %`}`);
    for (const e of impact.endpoints) if (e.servingDeployments.length > 0) marks.set(e.node.id, 'live endpoint');
    return marks;
  }, [loaded]);

  function submit(event: Event) {
    event.preventDefault();
    const form = formFields(event);
    navigate(viewHref('impact', { ref: form.ref, workspace: form.workspace }));
  }

  return (
    <section class="view" aria-labelledby="view-title">
      <h1 id="view-title">Impact</h1>
      <form class="query" onSubmit={submit} key={`${ref}|${workspace}`}>
        <Field label="Reference" hint="a data version, environment, code version, commit or model version">
          <input name="ref" defaultValue={ref} required size={48} />
        </Field>
        <Field label="Workspace (ARM id)">
          <input name="workspace" defaultValue={workspace} size={36} />
        </Field>
        <button type="submit">Show impact</button>
      </form>
      {loaded.state === 'loading' && <Loading what="what depends on it" />}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} />}
      {loaded.state === 'done' &&
        (() => {
          const [impact, lineage] = loaded.value;
          const liveEndpoints = impact.endpoints.filter((e) => e.servingDeployments.length > 0);
          const node = lineage.nodes.find((n) => n.id === selected) ?? null;
          return (
            <>
              <p role="status" class="summary">
                {impact.root.kind} {impact.root.label}: {impact.models.length} model version(s),{' '}
                {impact.deployments.filter((d) => d.servingNow).length} deployment(s) serving now, {liveEndpoints.length} live endpoint(s) (
                {liveEndpoints.map((e) => e.node.label).join(', ') || 'none'}), {impact.jobs.length} job(s).
              </p>
              <Bounds partial={impact.partial || lineage.partial} hidden={impact.hidden} />
              <div class="with-panel">
                <GraphView
                  graph={{ nodes: lineage.nodes, edges: lineage.edges }}
                  caption={`Everything downstream of ${impact.root.kind} ${impact.root.label}; live deployments and endpoints marked`}
                  root={lineage.root}
                  highlighted={live}
                  selected={selected}
                  onSelect={setSelected}
                  exportName={`impact-${impact.root.label.replace(/[^\w.-]+/g, '_')}`}
                />
                {node && <NodePanel node={node} onClose={() => setSelected(null)} />}
              </div>
              <h2>Deployments</h2>
              {impact.deployments.length === 0 ? (
                <p>None.</p>
              ) : (
                <table aria-label="Dependent deployments">
                  <thead>
                    <tr>
                      <th scope="col">Deployment</th>
                      <th scope="col">Serving now</th>
                      <th scope="col">Traffic share</th>
                      <th scope="col">Model</th>
                    </tr>
                  </thead>
                  <tbody>
                    {impact.deployments.map((d) => (
                      <tr key={d.node.id} class={d.servingNow ? 'live' : ''}>
                        <th scope="row">{d.node.label}</th>
                        <td>{d.servingNow ? '● yes' : 'no'}</td>
                        <td>{d.trafficShare === null ? '—' : `${d.trafficShare} %`}</td>
                        <td>{d.model ? modelLabel(d.model) : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              <h2>Model versions</h2>
              <ul>
                {impact.models.map((m) => (
                  <li key={m.node.id}>
                    <a href={viewHref('lineage', { ref: m.node.id, workspace: m.node.workspace, direction: 'upstream', depth: 6 })}>
                      {m.node.label}
                    </a>
                  </li>
                ))}
                {impact.models.length === 0 && <li>None.</li>}
              </ul>
            </>
          );
        })()}
    </section>
  );
}
