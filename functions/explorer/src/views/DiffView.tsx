import { getJson, type DiffAnswer, type Node } from '../api.js';
import { navigate, viewHref } from '../router.js';
import { ErrorBox, Field, formFields, Loading, useLoad } from '../ui.js';

/** Q4: two model versions side by side, aspect by aspect, what changed marked in words and style. */
type Sided = DiffAnswer['differences'][number]['from'];

/** A data asset by version, with the digests its runs logged: `credit-applications:2 (digest 5f0e2a91)`. */
function versioned(name: string, v: unknown): string | undefined {
  if (!v || typeof v !== 'object' || !('version' in v)) return undefined;
  const { version, digests } = v as { version: unknown; digests?: unknown };
  const logged = Array.isArray(digests) && digests.length > 0 ? ` (digest ${digests.map(String).join(', ')})` : '';
  return `${name}:${String(version)}${logged}`;
}

function show(value: unknown): string {
  if (Array.isArray(value))
    return value.length === 0 ? '(none)' : value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0
      ? '(none)'
      : entries.map(([k, v]) => versioned(k, v) ?? `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  }
  return value === undefined || value === null ? '(none)' : (JSON.stringify(value) ?? '(none)');
}

function Side({ side }: { side: Sided }) {
  return (
    <>
      <span class="value">{show(side.value)}</span>
      {side.provenance.length > 0 && (
        <small class="provenance">
          {side.provenance.map((p) => (
            <span key={`${p.hash}${p.fact ?? ''}`} title={p.hash}>
              {p.fact ? `${p.fact}, ` : ''}event {p.eventTime}, {p.hash.slice(0, 19)}…
            </span>
          ))}
        </small>
      )}
    </>
  );
}

function Version({ node, side }: { node: Node; side: string }) {
  return (
    <div class="diff-version">
      <h2>
        {side}: {node.label}
      </h2>
      <p>
        <a href={viewHref('lineage', { ref: node.id, workspace: node.workspace, direction: 'upstream', depth: 6 })}>
          Upstream of {node.label}
        </a>
      </p>
    </div>
  );
}

export function DiffView({ params }: { params: URLSearchParams }) {
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const workspace = params.get('workspace') ?? '';
  const loaded = useLoad(from && to ? (signal) => getJson<DiffAnswer>('diff', { from, to, workspace }, signal) : null, [
    from,
    to,
    workspace,
  ]);

  function submit(event: Event) {
    event.preventDefault();
    const form = formFields(event);
    navigate(
      viewHref('diff', {
        from: form.from,
        to: form.to,
        workspace: form.workspace,
      }),
    );
  }

  return (
    <section class="view" aria-labelledby="view-title">
      <h1 id="view-title">Compare two model versions</h1>
      <form class="query" onSubmit={submit} key={`${from}|${to}|${workspace}`}>
        <Field label="From (older)">
          <input name="from" defaultValue={from} required size={40} />
        </Field>
        <Field label="To (newer)">
          <input name="to" defaultValue={to} required size={40} />
        </Field>
        <Field label="Workspace (ARM id)">
          <input name="workspace" defaultValue={workspace} size={36} />
        </Field>
        <button type="submit">Compare</button>
      </form>
      {loaded.state === 'loading' && <Loading what="the differences" />}
      {loaded.state === 'error' && <ErrorBox error={loaded.error} />}
      {loaded.state === 'done' && (
        <>
          <div class="diff-columns">
            <Version node={loaded.value.from} side="From" />
            <Version node={loaded.value.to} side="To" />
          </div>
          {loaded.value.partial && <p class="note">Partial: the upstream of one side was cut short, so some aspects may be missing.</p>}
          <table aria-label="Differences" class="diff">
            <thead>
              <tr>
                <th scope="col">Aspect</th>
                <th scope="col">Status</th>
                <th scope="col">{loaded.value.from.label}</th>
                <th scope="col">{loaded.value.to.label}</th>
              </tr>
            </thead>
            <tbody>
              {loaded.value.differences.map((d) => (
                <tr key={d.aspect} class="changed" data-aspect={d.aspect}>
                  <th scope="row">{d.aspect}</th>
                  <td>
                    <span class="badge changed">≠ changed</span>
                  </td>
                  <td>
                    <Side side={d.from} />
                  </td>
                  <td>
                    <Side side={d.to} />
                  </td>
                </tr>
              ))}
              {loaded.value.same.map((aspect) => (
                <tr key={aspect} class="same" data-aspect={aspect}>
                  <th scope="row">{aspect}</th>
                  <td>
                    <span class="badge">= same</span>
                  </td>
                  <td colSpan={2} class="muted">
                    the same on both sides
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
