import { useEffect, useMemo, useState } from 'preact/hooks';
import { getJson, type LineageAnswer } from '../api.js';
import { GraphView } from '../graph/GraphView.js';
import { EMPTY_GRAPH, mergeGraphs, type Graph } from '../graph/model.js';
import { NodePanel } from '../NodePanel.js';
import { navigate, viewHref } from '../router.js';
import { Bounds, ErrorBox, Field, formFields, Loading } from '../ui.js';

/**
 * Q1 and its mirror: what a thing was built from (upstream), what uses it (downstream) or both, to
 * a depth. Nodes expand in place; a partial answer continues from its cursor.
 */
const DIRECTIONS = ['upstream', 'downstream', 'both'] as const;
type Direction = (typeof DIRECTIONS)[number];

interface State {
  graph: Graph;
  root: string;
  rootLabel: string;
  partial: boolean;
  partialReason?: string;
  cursor?: string;
  hidden: number;
}

export function LineageView({ params }: { params: URLSearchParams }) {
  const ref = params.get('ref') ?? '';
  const workspace = params.get('workspace') ?? '';
  const direction: Direction = (DIRECTIONS as readonly string[]).includes(params.get('direction') ?? '')
    ? (params.get('direction') as Direction)
    : 'upstream';
  const depth = Math.min(50, Math.max(1, Number(params.get('depth') ?? 3) || 3));
  // Nodes per page, as the API takes it (default: the API's own); the rest comes by cursor.
  const limit = params.get('limit') ?? undefined;
  const query = { ref, workspace, direction, depth, limit };

  const [state, setState] = useState<State | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    setState(null);
    setError(null);
    setSelected(null);
    if (!ref) return;
    const controller = new AbortController();
    setBusy('the lineage');
    getJson<LineageAnswer>('lineage', query, controller.signal)
      .then((a) => {
        const root = a.nodes.find((n) => n.id === a.root);
        setState({
          graph: { nodes: a.nodes, edges: a.edges },
          root: a.root,
          rootLabel: root ? `${root.kind} ${root.label}` : a.root,
          partial: a.partial,
          partialReason: a.partialReason,
          cursor: a.cursor,
          hidden: a.hidden ?? 0,
        });
      })
      .catch((e: unknown) => !controller.signal.aborted && setError(e))
      .finally(() => !controller.signal.aborted && setBusy(null));
    return () => controller.abort();
  }, [ref, workspace, direction, depth, limit]);

  async function more(what: string, call: () => Promise<LineageAnswer>, continues: boolean) {
    setBusy(what);
    setError(null);
    try {
      const a = await call();
      setState(
        (s) =>
          s && {
            ...s,
            graph: mergeGraphs(s.graph, { nodes: a.nodes, edges: a.edges }),
            hidden: s.hidden + (a.hidden ?? 0),
            ...(continues ? { partial: a.partial, partialReason: a.partialReason, cursor: a.cursor } : {}),
          },
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  const expand = (id: string) =>
    void more('the neighbours', () => getJson<LineageAnswer>('lineage', { ref: id, direction: 'both', depth: 1 }), false);
  const nextPage = () => void more('the next page', () => getJson<LineageAnswer>('lineage', { ...query, cursor: state?.cursor }), true);

  function submit(event: Event) {
    event.preventDefault();
    const form = formFields(event);
    navigate(
      viewHref('lineage', {
        ref: form.ref,
        workspace: form.workspace,
        direction: form.direction,
        depth: form.depth,
      }),
    );
  }

  const node = useMemo(() => state?.graph.nodes.find((n) => n.id === selected) ?? null, [state, selected]);
  const caption = state
    ? `${direction === 'both' ? 'Upstream and downstream' : direction === 'upstream' ? 'Upstream' : 'Downstream'} lineage of ${state.rootLabel}, ${depth} hop${depth === 1 ? '' : 's'}`
    : '';

  return (
    <section class="view" aria-labelledby="view-title">
      <h1 id="view-title">Lineage</h1>
      <form class="query" onSubmit={submit} key={`${ref}|${workspace}|${direction}|${depth}`}>
        <Field label="Reference" hint="ARM id, azureml:NAME:VERSION (with workspace), registry URI or node id">
          <input name="ref" defaultValue={ref} required size={48} />
        </Field>
        <Field label="Workspace (ARM id)">
          <input name="workspace" defaultValue={workspace} size={36} />
        </Field>
        <Field label="Direction">
          <select name="direction" defaultValue={direction}>
            {DIRECTIONS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Depth">
          <input name="depth" type="number" min={1} max={50} defaultValue={String(depth)} />
        </Field>
        <button type="submit">Show</button>
      </form>
      {!ref && <p>Enter a reference, or find one with search.</p>}
      {busy && <Loading what={busy} />}
      {error !== null && <ErrorBox error={error} />}
      {state && (
        <>
          <Bounds partial={state.partial} reason={state.partialReason} hidden={state.hidden} />
          {state.partial && state.cursor && (
            <p>
              <button type="button" onClick={nextPage} disabled={busy !== null}>
                Load more (continue from the cursor; {state.graph.nodes.length} nodes shown)
              </button>
            </p>
          )}
          <div class="with-panel">
            <GraphView
              graph={state.graph.nodes.length > 0 ? state.graph : EMPTY_GRAPH}
              caption={caption}
              root={state.root}
              selected={selected}
              onSelect={setSelected}
              onExpand={expand}
              exportName={`lineage-${state.rootLabel.replace(/[^\w.-]+/g, '_')}`}
            />
            {node && <NodePanel node={node} onClose={() => setSelected(null)} />}
          </div>
        </>
      )}
    </section>
  );
}
