import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJson, modelLabel, type AsOfAnswer, type LineageAnswer } from '../api.js';
import { GraphView } from '../graph/GraphView.js';
import { impliedEdge, mergeGraphs, type Graph } from '../graph/model.js';
import { NodePanel } from '../NodePanel.js';
import { navigate, viewHref } from '../router.js';
import { ErrorBox, Field, formFields, Loading, useLoad } from '../ui.js';

/**
 * Q2 over time: which deployments and model versions served an endpoint at a moment, with their
 * traffic shares, and every change the graph has recorded (traffic shares, the model each
 * deployment served), with a time slider to move between them.
 */
interface Change {
  time: string;
  ms: number;
  text: string;
}

/** `2024-05-20` or any date-time the browser parses, as the ISO instant the API expects. */
function toIso(text: string): string | null {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function changesOf(answer: LineageAnswer): Change[] {
  const label = new Map(answer.nodes.map((n) => [n.id, n.label]));
  const out = new Map<string, Change>();
  const add = (time: string, text: string) => {
    const ms = Date.parse(time);
    if (!Number.isNaN(ms)) out.set(`${ms}|${text}`, { time, ms, text });
  };
  for (const e of answer.edges)
    if (e.kind === 'serves')
      for (const h of e.history.traffic ?? []) add(h.eventTime, `${label.get(e.from) ?? e.from}: ${String(h.value)} % of traffic`);
  for (const n of answer.nodes)
    if (n.kind === 'deployment')
      for (const h of n.history.model ?? [])
        add(h.eventTime, `${n.label} serves model ${typeof h.value === 'string' ? modelLabel(h.value) : String(h.value)}`);
  return [...out.values()].sort((a, b) => a.ms - b.ms || a.text.localeCompare(b.text));
}

function servedGraph(a: AsOfAnswer): { graph: Graph; highlighted: Map<string, string> } {
  let graph: Graph = { nodes: [a.endpoint], edges: [] };
  const highlighted = new Map<string, string>();
  for (const s of a.serving) {
    highlighted.set(s.deployment.id, `serving ${s.trafficShare ?? '?'} %`);
    const part: Graph = {
      nodes: [s.deployment],
      edges: [impliedEdge('serves', s.deployment.id, a.endpoint.id, { trafficShare: s.trafficShare })],
    };
    if (s.model) {
      part.nodes.push(s.model);
      part.edges.push(impliedEdge('deployedTo', s.model.id, s.deployment.id));
    }
    graph = mergeGraphs(mergeGraphs(graph, part), s.upstream ?? { nodes: [], edges: [] });
  }
  return { graph, highlighted };
}

const HOUR = 3_600_000;

export function EndpointView({ params }: { params: URLSearchParams }) {
  const endpoint = params.get('endpoint') ?? '';
  const given = params.get('at');
  // No moment given: now, fixed when the view opens (not at every render).
  const atParam = useMemo(() => given ?? new Date().toISOString(), [given]);
  const at = toIso(atParam);
  const [selected, setSelected] = useState<string | null>(null);
  const [sliderMs, setSliderMs] = useState<number | null>(at ? Date.parse(at) : null);
  useEffect(() => setSliderMs(at ? Date.parse(at) : null), [at]);

  const timeline = useLoad(
    endpoint ? (signal) => getJson<LineageAnswer>('lineage', { ref: endpoint, direction: 'upstream', depth: 1 }, signal) : null,
    [endpoint],
  );
  const served = useLoad(endpoint && at ? (signal) => getJson<AsOfAnswer>('lineage/as-of', { endpoint, at }, signal) : null, [
    endpoint,
    at,
  ]);
  const changes = useMemo(() => (timeline.state === 'done' ? changesOf(timeline.value) : []), [timeline]);
  const drawn = useMemo(() => (served.state === 'done' ? servedGraph(served.value) : null), [served]);

  // The slider spans the recorded changes (a day either side) and now; moving it asks again after a pause.
  const now = Date.now();
  const min = (changes[0]?.ms ?? now - 30 * 24 * HOUR) - 24 * HOUR;
  const max = Math.max(now, (changes[changes.length - 1]?.ms ?? now) + 24 * HOUR);
  const debounce = useRef<number | undefined>(undefined);
  const moveTo = (ms: number, immediately = false) => {
    setSliderMs(ms);
    clearTimeout(debounce.current);
    const go = () => navigate(viewHref('endpoint', { endpoint, at: new Date(ms).toISOString() }), true);
    if (immediately) go();
    else debounce.current = window.setTimeout(go, 300);
  };
  const current = sliderMs ?? (at ? Date.parse(at) : now);
  const previousChange = [...changes].reverse().find((c) => c.ms < current - 1000);
  const nextChange = changes.find((c) => c.ms > current + 1000);

  function submit(event: Event) {
    event.preventDefault();
    const form = formFields(event);
    const time = form.at ?? '';
    navigate(
      viewHref('endpoint', {
        endpoint: form.endpoint,
        at: toIso(/Z|[+-]\d\d:?\d\d$/.test(time) ? time : `${time}Z`) ?? time,
      }),
    );
  }

  const selectedNode = drawn?.graph.nodes.find((n) => n.id === selected) ?? null;
  const atText = at ?? atParam;

  return (
    <section class="view" aria-labelledby="view-title">
      <h1 id="view-title">Endpoint over time</h1>
      <form class="query" onSubmit={submit} key={`${endpoint}|${atText}`}>
        <Field label="Endpoint (ARM id)">
          <input name="endpoint" defaultValue={endpoint} required size={60} />
        </Field>
        <Field label="At (UTC)">
          <input name="at" type="datetime-local" step={1} defaultValue={at ? at.slice(0, 19) : ''} required />
        </Field>
        <button type="submit">Show</button>
      </form>
      {!at && <ErrorBox error={new Error(`"${atParam}" is not a date-time.`)} />}
      {endpoint && (
        <div class="time-slider">
          <label for="time-slider">
            Moment: <output for="time-slider">{new Date(current).toISOString()}</output>
          </label>
          <input
            id="time-slider"
            type="range"
            min={min}
            max={max}
            step={HOUR}
            value={current}
            list="change-times"
            aria-valuetext={new Date(current).toISOString()}
            onInput={(e) => moveTo(Number(e.currentTarget.value))}
          />
          <datalist id="change-times">
            {changes.map((c) => (
              <option key={`${c.ms}|${c.text}`} value={c.ms} label={c.time} />
            ))}
          </datalist>
          <div class="slider-steps">
            <button type="button" disabled={!previousChange} onClick={() => previousChange && moveTo(previousChange.ms, true)}>
              Previous change
            </button>
            <button type="button" disabled={!nextChange} onClick={() => nextChange && moveTo(nextChange.ms, true)}>
              Next change
            </button>
            <button type="button" onClick={() => moveTo(Date.now(), true)}>
              Now
            </button>
          </div>
        </div>
      )}
      {served.state === 'loading' && <Loading what="what served then" />}
      {served.state === 'error' && <ErrorBox error={served.error} />}
      {served.state === 'done' && (
        <>
          <h2>
            Serving {served.value.endpoint.label} at {served.value.at}
          </h2>
          {served.value.serving.length === 0 ? (
            <p role="status">Nothing served traffic at this moment (or nothing had been observed yet).</p>
          ) : (
            <table aria-label="Serving at this moment" class="serving">
              <thead>
                <tr>
                  <th scope="col">Deployment</th>
                  <th scope="col">Traffic share</th>
                  <th scope="col">Model version</th>
                  <th scope="col">Share set at</th>
                  <th scope="col">Model since</th>
                </tr>
              </thead>
              <tbody>
                {served.value.serving.map((s) => (
                  <tr key={s.deployment.id} data-deployment={s.deployment.label}>
                    <th scope="row">{s.deployment.label}</th>
                    <td>
                      <meter min={0} max={100} value={s.trafficShare ?? 0} aria-hidden="true" /> <span>{s.trafficShare ?? '?'} %</span>
                    </td>
                    <td>
                      {s.model ? (
                        <a href={viewHref('lineage', { ref: s.model.id, workspace: s.model.workspace, direction: 'upstream', depth: 6 })}>
                          {s.model.label}
                        </a>
                      ) : (
                        'unknown'
                      )}
                    </td>
                    <td>{s.trafficSince ?? '—'}</td>
                    <td>{s.modelSince ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {served.value.notServing.length > 0 && (
            <p>
              Not serving then:{' '}
              {served.value.notServing
                .map((d) => `${d.deployment.label} (${d.trafficShare === null ? 'no share observed' : `${d.trafficShare} %`})`)
                .join(', ')}
            </p>
          )}
          {drawn && (
            <div class="with-panel">
              <GraphView
                graph={drawn.graph}
                caption={`What ${served.value.endpoint.label} served at ${served.value.at}, with each model's upstream`}
                root={served.value.endpoint.id}
                highlighted={drawn.highlighted}
                selected={selected}
                onSelect={setSelected}
                exportName={`endpoint-${served.value.endpoint.label}-${served.value.at}`.replace(/[^\w.-]+/g, '_')}
              />
              {selectedNode && <NodePanel node={selectedNode} onClose={() => setSelected(null)} />}
            </div>
          )}
        </>
      )}
      {timeline.state === 'error' && <ErrorBox error={timeline.error} />}
      {changes.length > 0 && (
        <section aria-labelledby="changes-title">
          <h2 id="changes-title">Changes over time</h2>
          <table aria-label="Changes over time">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Change</th>
                <th scope="col">Show</th>
              </tr>
            </thead>
            <tbody>
              {changes.map((c) => (
                <tr key={`${c.ms}|${c.text}`} aria-current={c.ms <= current && (!nextChange || c.ms < nextChange.ms) ? 'true' : undefined}>
                  <td>{c.time}</td>
                  <td>{c.text}</td>
                  <td>
                    <a href={viewHref('endpoint', { endpoint, at: new Date(c.ms).toISOString() })}>at this moment</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </section>
  );
}
