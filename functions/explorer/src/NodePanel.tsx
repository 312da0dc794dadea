import { useEffect, useState } from 'preact/hooks';
import { apiUrl, getJson, type AsOfAnswer, type ImpactAnswer, type Node } from './api.js';
import { IMPACT_ROOTS, kindStyle } from './kinds.js';
import { viewHref } from './router.js';

/**
 * Details of one node: its facts, each with the event that asserted it (event time and content
 * hash, with a link to the raw event where the API has such a route), what it was over time, and
 * for models and deployments whether they serve traffic now.
 */
let rawEventRoute: Promise<string | null> | undefined;

/** The raw-event route, if this deployment of the API has one (`/events/{hash}`): read from its OpenAPI document. */
function findRawEventRoute(): Promise<string | null> {
  rawEventRoute ??= getJson<{ paths?: Record<string, unknown> }>('openapi.json')
    .then((doc) => Object.keys(doc.paths ?? {}).find((p) => /^\/events\/\{\w+\}$/.test(p)) ?? null)
    .catch(() => null);
  return rawEventRoute;
}

function hex(hash: string): string {
  return hash.replace(/^sha256:/, '');
}

function Hash({ hash, route }: { hash: string; route: string | null }) {
  const short = `${hash.slice(0, 19)}…`;
  if (!route) return <code title={hash}>{short}</code>;
  return (
    <a href={apiUrl(route.slice(1).replace(/\{\w+\}/, hex(hash)))} title={`Raw event ${hash}`} target="_blank" rel="noopener">
      <code>{short}</code>
    </a>
  );
}

function value(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

/** The endpoint a deployment belongs to: its ARM id up to `/deployments/`. */
export function endpointOf(deploymentKey: string): string | null {
  const at = deploymentKey.toLowerCase().lastIndexOf('/deployments/');
  return at > 0 ? deploymentKey.slice(0, at) : null;
}

type Serving = { state: 'loading' } | { state: 'done'; lines: string[] } | { state: 'error'; message: string };

function useServing(node: Node): Serving | null {
  const [serving, setServing] = useState<Serving | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    if (node.kind === 'model') {
      setServing({ state: 'loading' });
      getJson<ImpactAnswer>('impact', { ref: node.id, depth: 3 }, controller.signal)
        .then((a) => {
          const live = a.deployments.filter((d) => d.servingNow);
          setServing({
            state: 'done',
            lines:
              live.length > 0
                ? live.map((d) => `Serving now: ${d.node.label} (${d.trafficShare ?? '?'} % of traffic)`)
                : [
                    `Not serving traffic now${a.deployments.length > 0 ? ` (deployed to ${a.deployments.map((d) => d.node.label).join(', ')})` : ''}.`,
                  ],
          });
        })
        .catch((e: unknown) => !controller.signal.aborted && setServing({ state: 'error', message: String(e) }));
    } else if (node.kind === 'deployment') {
      const endpoint = endpointOf(node.key);
      if (!endpoint) return;
      setServing({ state: 'loading' });
      getJson<AsOfAnswer>('lineage/as-of', { endpoint, at: new Date().toISOString(), depth: 1 }, controller.signal)
        .then((a) => {
          const s = a.serving.find((x) => x.deployment.id === node.id);
          setServing({
            state: 'done',
            lines: s
              ? [
                  `Serving now: ${s.trafficShare ?? '?'} % of ${a.endpoint.label}'s traffic since ${s.trafficSince ?? '?'}`,
                  `Model: ${s.model?.label ?? 'unknown'}`,
                ]
              : [`Not serving traffic now (0 % or no traffic share observed on ${a.endpoint.label}).`],
          });
        })
        .catch((e: unknown) => !controller.signal.aborted && setServing({ state: 'error', message: String(e) }));
    } else {
      setServing(null);
    }
    return () => controller.abort();
  }, [node.id]);
  return serving;
}

export function NodePanel({ node, onClose }: { node: Node; onClose: () => void }) {
  const [route, setRoute] = useState<string | null>(null);
  useEffect(() => {
    void findRawEventRoute().then(setRoute);
  }, []);
  const serving = useServing(node);
  const ws = node.workspace ?? undefined;
  const facts = Object.entries(node.properties);
  const series = Object.entries(node.history);
  const endpoint = node.kind === 'endpoint' ? node.key : node.kind === 'deployment' ? endpointOf(node.key) : null;

  return (
    <aside class="node-panel" aria-label={`Details of ${node.kind} ${node.label}`}>
      <header>
        <h2>
          <span class="kind-badge" data-kind={node.kind}>
            {node.kind}
          </span>{' '}
          {node.label}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close details">
          Close
        </button>
      </header>
      <p class="muted">{kindStyle(node.kind).title}</p>
      {node.placeholder && <p class="note">Referenced by an event, but no event about it has arrived yet.</p>}
      <dl class="facts-list">
        <dt>Key</dt>
        <dd>
          <code>{node.key}</code>
        </dd>
        <dt>Workspace</dt>
        <dd>{node.workspace ?? '(none: a registry asset or a commit)'}</dd>
        <dt>Id</dt>
        <dd>
          <code>{node.id}</code>
        </dd>
      </dl>

      <nav class="panel-links" aria-label="Open in another view">
        <a href={viewHref('lineage', { ref: node.id, workspace: ws, direction: 'upstream', depth: 6 })}>Upstream</a>
        <a href={viewHref('lineage', { ref: node.id, workspace: ws, direction: 'downstream', depth: 6 })}>Downstream</a>
        {IMPACT_ROOTS.has(node.kind) && <a href={viewHref('impact', { ref: node.id, workspace: ws })}>Impact</a>}
        {endpoint && <a href={viewHref('endpoint', { endpoint, at: new Date().toISOString() })}>Endpoint over time</a>}
        {node.kind === 'model' && <a href={viewHref('diff', { to: node.id, workspace: ws })}>Compare with another version</a>}
        <a href={apiUrl('lineage', { ref: node.id, direction: 'both', depth: 1 })} target="_blank" rel="noopener">
          JSON
        </a>
        {node.kind === 'model' && (
          <a href={apiUrl('evidence', { ref: node.id })} target="_blank" rel="noopener">
            Evidence package (raw events)
          </a>
        )}
      </nav>

      {serving && (
        <section aria-label="Serving status">
          <h3>Serving status</h3>
          {serving.state === 'loading' && <p class="muted">Looking up traffic…</p>}
          {serving.state === 'error' && <p class="error">{serving.message}</p>}
          {serving.state === 'done' && (
            <ul>
              {serving.lines.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          )}
        </section>
      )}

      <section aria-label="Facts">
        <h3>Facts</h3>
        {facts.length === 0 ? (
          <p class="muted">None yet.</p>
        ) : (
          <table aria-label="Facts with provenance">
            <thead>
              <tr>
                <th scope="col" class="fact">
                  Fact
                </th>
                <th scope="col" class="value">
                  Value
                </th>
                <th scope="col" class="provenance">
                  Asserted by (event time, content hash)
                </th>
              </tr>
            </thead>
            <tbody>
              {facts.map(([k, v]) => {
                const p = node.provenance.facts[k];
                return (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td class="value">{value(v)}</td>
                    <td>
                      {p ? (
                        <>
                          <span class="event-time">{p.eventTime}</span> <Hash hash={p.hash} route={route} />
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      {series.length > 0 && (
        <section aria-label="Over time">
          <h3>Over time</h3>
          {series.map(([k, entries]) => (
            <div key={k}>
              <h4>{k}</h4>
              <ol>
                {entries.map((e, i) => (
                  <li key={i}>
                    {e.eventTime}: {value(e.value)}
                  </li>
                ))}
              </ol>
            </div>
          ))}
        </section>
      )}

      <section aria-label="Events behind this node">
        <h3>Events behind it</h3>
        <table aria-label="Provenance events">
          <thead>
            <tr>
              <th scope="col">Event time</th>
              <th scope="col">Source</th>
              <th scope="col">Type</th>
              <th scope="col">Content hash</th>
            </tr>
          </thead>
          <tbody>
            {node.provenance.events.map((e) => (
              <tr key={e.hash}>
                <td>{e.eventTime}</td>
                <td>{e.source}</td>
                <td>{e.eventType}</td>
                <td>
                  <Hash hash={e.hash} route={route} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!route && (
          <p class="muted">
            Each hash is the id of the raw event in the event log (the hex digest); recompute SHA-256 over its canonical JSON to check it.
          </p>
        )}
      </section>
    </aside>
  );
}
