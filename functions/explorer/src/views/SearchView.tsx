import { getJson, workspaceName, type SearchAnswer } from '../api.js';
import { IMPACT_ROOTS, KIND_STYLES } from '../kinds.js';
import { endpointOf } from '../NodePanel.js';
import { navigate, viewHref } from '../router.js';
import { ErrorBox, Field, formFields, Loading, useLoad } from '../ui.js';

/** Find a node by any reference form the API accepts, a tag (`tag:KEY=VALUE`) or the start of a name. */
export function SearchView({ params }: { params: URLSearchParams }) {
  const q = params.get('q') ?? '';
  const kind = params.get('kind') ?? '';
  const workspace = params.get('workspace') ?? '';
  const loaded = useLoad(q ? (signal) => getJson<SearchAnswer>('search', { q, kind, workspace, limit: 50 }, signal) : null, [
    q,
    kind,
    workspace,
  ]);

  function submit(event: Event) {
    event.preventDefault();
    const form = formFields(event);
    navigate(
      viewHref('search', {
        q: form.q,
        kind: form.kind,
        workspace: form.workspace,
      }),
    );
  }

  return (
    <section class="view" aria-labelledby="view-title">
      <h1 id="view-title">Search</h1>
      <form class="query" role="search" onSubmit={submit} key={`${q}|${kind}|${workspace}`}>
        <Field label="Find" hint="credit-default:3, azureml:NAME:VERSION, an ARM id, a registry URI, tag:team=risk, or a name prefix">
          <input name="q" type="search" defaultValue={q} required size={48} autoFocus />
        </Field>
        <Field label="Kind">
          <select name="kind" defaultValue={kind}>
            <option value="">any</option>
            {Object.keys(KIND_STYLES).map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Workspace (ARM id)">
          <input name="workspace" defaultValue={workspace} size={36} />
        </Field>
        <button type="submit">Search</button>
      </form>
      {loaded.state === 'loading' && <Loading what="matches" />}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} />}
      {loaded.state === 'done' &&
        (loaded.value.nodes.length === 0 ? (
          <p role="status">Nothing matches “{q}”.</p>
        ) : (
          <table aria-label="Search results" class="results">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Label</th>
                <th scope="col">Workspace</th>
                <th scope="col">Open</th>
              </tr>
            </thead>
            <tbody>
              {loaded.value.nodes.map((n) => {
                const ws = n.workspace ?? undefined;
                const endpoint = n.kind === 'endpoint' ? n.key : n.kind === 'deployment' ? endpointOf(n.key) : null;
                return (
                  <tr key={n.id}>
                    <td>{n.kind}</td>
                    <td>
                      <a href={viewHref('lineage', { ref: n.id, workspace: ws, direction: 'upstream', depth: 6 })}>{n.label}</a>
                      {n.placeholder && <span class="muted"> (referenced, not yet seen)</span>}
                    </td>
                    <td title={n.workspace ?? ''}>{workspaceName(n.workspace) || '—'}</td>
                    <td class="actions">
                      <a
                        href={viewHref('lineage', { ref: n.id, workspace: ws, direction: 'upstream', depth: 6 })}
                        aria-label={`Upstream of ${n.label}`}
                      >
                        upstream
                      </a>
                      <a
                        href={viewHref('lineage', { ref: n.id, workspace: ws, direction: 'downstream', depth: 6 })}
                        aria-label={`Downstream of ${n.label}`}
                      >
                        downstream
                      </a>
                      {IMPACT_ROOTS.has(n.kind) && (
                        <a href={viewHref('impact', { ref: n.id, workspace: ws })} aria-label={`Impact of ${n.label}`}>
                          impact
                        </a>
                      )}
                      {endpoint && (
                        <a
                          href={viewHref('endpoint', { endpoint, at: new Date().toISOString() })}
                          aria-label={`Endpoint over time for ${n.label}`}
                        >
                          over time
                        </a>
                      )}
                      {n.kind === 'model' && (
                        <a href={viewHref('diff', { to: n.id, workspace: ws })} aria-label={`Compare ${n.label}`}>
                          compare
                        </a>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ))}
    </section>
  );
}
