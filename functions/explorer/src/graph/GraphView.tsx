import type { Core, ElementDefinition, NodeSingular, StylesheetJson } from 'cytoscape';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Node } from '../api.js';
import { EDGE_READINGS, kindStyle } from '../kinds.js';
import cytoscape from './cytoscape.js';
import { Legend } from './Legend.js';
import type { Graph } from './model.js';

/**
 * A lineage graph: Cytoscape.js draws it, dagre lays it out left to right (edges point downstream,
 * so what a thing was built from sits on its left). Next to the drawing, the same graph as text
 * (tables of nodes and links with kinds and labels) for screen readers and for anyone who would
 * rather read, and keyboard navigation on the drawing itself.
 */
export interface GraphViewProps {
  graph: Graph;
  /** One sentence naming what is drawn ("Upstream of model credit-default:3"). */
  caption: string;
  root?: string;
  /** Node id → why it is highlighted ("serving now"); drawn with a double border and said in words. */
  highlighted?: Map<string, string>;
  selected?: string | null;
  onSelect?: (id: string) => void;
  /** Expand a node in place (its neighbours in both directions, one hop). */
  onExpand?: (id: string) => void;
  /** Base name of exported files. */
  exportName: string;
}

const STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      shape: 'data(shape)' as never,
      'background-color': 'data(color)',
      label: 'data(display)',
      'text-wrap': 'wrap',
      'text-max-width': '160px',
      'font-size': 11,
      'font-family': 'system-ui, sans-serif',
      color: '#111',
      'text-valign': 'bottom',
      'text-margin-y': 4,
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'text-background-padding': '1px',
      'min-zoomed-font-size': 5,
      width: 36,
      height: 36,
      'border-width': 1.5,
      'border-color': '#222',
    },
  },
  { selector: 'node[?placeholder]', style: { 'border-style': 'dashed', 'background-opacity': 0.35, 'border-width': 2 } },
  { selector: 'node[?root]', style: { 'border-width': 5, 'border-color': '#000', width: 46, height: 46, 'font-weight': 'bold' } },
  { selector: 'node[?highlight]', style: { 'border-width': 6, 'border-style': 'double', 'border-color': '#006D2C' } },
  { selector: 'node:selected', style: { 'overlay-color': '#000', 'overlay-opacity': 0.18, 'overlay-padding': 7 } },
  {
    selector: 'edge',
    style: {
      width: 1.5,
      'curve-style': 'bezier',
      'line-color': '#7a7a7a',
      'target-arrow-shape': 'triangle',
      'target-arrow-color': '#7a7a7a',
      label: 'data(kind)',
      'font-size': 9,
      color: '#333',
      'text-rotation': 'autorotate',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.85,
      'min-zoomed-font-size': 7,
    },
  },
  // Configuration links (code, environment, compute, commit) dashed; drift links dotted: style as well as words.
  {
    selector: 'edge[kind = "codeOf"], edge[kind = "environmentOf"], edge[kind = "computeOf"], edge[kind = "commitOf"]',
    style: { 'line-style': 'dashed' },
  },
  { selector: 'edge[kind = "driftTargetOf"], edge[kind = "driftBaselineOf"]', style: { 'line-style': 'dotted', width: 2 } },
  { selector: 'edge[kind = "serves"], edge[kind = "deployedTo"]', style: { width: 2.5 } },
];

function notes(n: Node, root: string | undefined, highlighted: Map<string, string> | undefined): string[] {
  const out: string[] = [];
  if (n.id === root) out.push('root');
  const why = highlighted?.get(n.id);
  if (why) out.push(why);
  if (n.placeholder) out.push('referenced, not yet seen');
  return out;
}

function elements(graph: Graph, root: string | undefined, highlighted: Map<string, string> | undefined): ElementDefinition[] {
  const ids = new Set(graph.nodes.map((n) => n.id));
  const nodes = graph.nodes.map((n): ElementDefinition => {
    const style = kindStyle(n.kind);
    const marks = notes(n, root, highlighted).filter((m) => m !== 'root');
    return {
      group: 'nodes',
      data: {
        id: n.id,
        kind: n.kind,
        shape: style.shape,
        color: style.color,
        display: [breakable(n.label), n.kind, ...marks.map((m) => `(${m})`)].join('\n'),
        placeholder: n.placeholder,
        root: n.id === root,
        highlight: highlighted?.has(n.id) ?? false,
      },
    };
  });
  const edges = graph.edges
    .filter((e) => ids.has(e.from) && ids.has(e.to))
    .map((e): ElementDefinition => ({ group: 'edges', data: { id: `e:${e.id}`, source: e.from, target: e.to, kind: e.kind } }));
  return [...nodes, ...edges];
}

/** Links from an environment, code version, compute or commit to each job that used it. */
const CONFIGURATION = new Set(['codeOf', 'environmentOf', 'computeOf', 'commitOf']);

/**
 * What the layered layout arranges: every link, except that each configuration node (an
 * environment, a code version, a compute cluster, a commit) counts only its first link. Those
 * nodes feed jobs all across a pipeline; each link spanning several columns costs dagre a dummy node
 * per column crossed, which made a 500-node answer take seconds to lay out. With one link the
 * node sits beside its first consumer; all its links are still drawn.
 */
function layoutElements(cy: Core) {
  const placed = new Set<string>();
  const edges = cy.edges().filter((e) => {
    if (!CONFIGURATION.has(e.data('kind') as string)) return true;
    const source = e.source().id();
    if (placed.has(source)) return false;
    placed.add(source);
    return true;
  });
  return cy.nodes().union(edges);
}

/** Long storage paths and commit ids have no spaces: let them wrap after each `/` and `@`. */
function breakable(label: string): string {
  return label.replace(/([/@])/g, '$1\u200b');
}

let firstDrawMarked = false;

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function GraphView({ graph, caption, root, highlighted, selected, onSelect, onExpand, exportName }: GraphViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const cyRef = useRef<Core | null>(null);
  const handlers = useRef({ onSelect, onExpand });
  handlers.current = { onSelect, onExpand };
  const [drawn, setDrawn] = useState<{ layoutMs: number } | null>(null);
  const [focusText, setFocusText] = useState('');
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  const shownEdges = useMemo(() => graph.edges.filter((e) => byId.has(e.from) && byId.has(e.to)), [graph, byId]);

  useEffect(() => {
    if (!container.current) return;
    const cy = cytoscape({
      container: container.current,
      style: STYLE,
      minZoom: 0.05,
      maxZoom: 3,
      boxSelectionEnabled: false,
      selectionType: 'single',
    });
    cy.on('tap', 'node', (event) => handlers.current.onSelect?.((event.target as NodeSingular).id()));
    cy.on('dbltap', 'node', (event) => handlers.current.onExpand?.((event.target as NodeSingular).id()));
    cyRef.current = cy;
    // The canvas changes size when the details panel opens or the window resizes: redraw to fit.
    const resized = new ResizeObserver(() => {
      cy.resize();
      cy.fit(undefined, 24);
    });
    resized.observe(container.current);
    return () => {
      resized.disconnect();
      cy.destroy();
      cyRef.current = null;
    };
  }, []);

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    setDrawn(null);
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements(graph, root, highlighted));
    });
    const start = performance.now();
    const layout = layoutElements(cy).layout({
      name: 'dagre',
      rankDir: 'LR',
      // Each node as close to what it feeds as it can be: the fastest of dagre's rankers, and lineage reads well with it.
      ranker: 'longest-path',
      // Room for the labels under each node (up to three lines, 160 px wide) without measuring every label.
      nodeSep: 52,
      rankSep: 150,
      edgeSep: 10,
      fit: true,
      padding: 24,
      animate: false,
    } as never);
    layout.one('layoutstop', () => {
      const layoutMs = performance.now() - start;
      performance.measure('explorer:layout', { start, duration: layoutMs, detail: { nodes: graph.nodes.length } });
      if (!firstDrawMarked && graph.nodes.length > 0) {
        firstDrawMarked = true;
        performance.mark('explorer:first-graph');
      }
      setDrawn({ layoutMs });
    });
    layout.run();
  }, [graph, root, highlighted]);

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.$(':selected').unselect();
    if (selected) cy.getElementById(selected).select();
  }, [selected, drawn]);

  /** Arrow keys walk the drawing: right = downstream, left = upstream, up/down = the same column. */
  function onKeyDown(event: KeyboardEvent) {
    const cy = cyRef.current;
    if (!cy || cy.nodes().length === 0) return;
    const current = (selected ? cy.getElementById(selected) : cy.collection()) as unknown as NodeSingular;
    const byY = (a: NodeSingular, b: NodeSingular) => a.position('y') - b.position('y');
    let next: NodeSingular | undefined;
    if (current.length === 0 || event.key === 'Home') {
      next = root ? cy.getElementById(root) : cy.nodes()[0];
    } else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      const neighbours = (event.key === 'ArrowRight' ? current.outgoers() : current.incomers()).nodes().toArray();
      next = neighbours.sort(byY)[0];
    } else if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
      const column = cy
        .nodes()
        .toArray()
        .filter((n) => Math.abs(n.position('x') - current.position('x')) < 1)
        .sort(byY);
      const at = column.findIndex((n) => n.id() === current.id());
      next = column[(at + (event.key === 'ArrowDown' ? 1 : column.length - 1)) % column.length];
    } else if (event.key === 'Enter' || event.key === ' ') {
      handlers.current.onSelect?.(current.id());
      event.preventDefault();
      return;
    } else if (event.key === '+' || event.key === 'e') {
      handlers.current.onExpand?.(current.id());
      event.preventDefault();
      return;
    } else {
      return;
    }
    event.preventDefault();
    if (!next || next.length === 0) {
      setFocusText(`Nothing ${event.key === 'ArrowRight' ? 'downstream' : event.key === 'ArrowLeft' ? 'upstream' : 'there'}.`);
      return;
    }
    handlers.current.onSelect?.(next.id());
    cy.animate({ center: { eles: next } }, { duration: 150 });
    const n = byId.get(next.id());
    if (n)
      setFocusText(
        `${n.kind} ${n.label}${n.placeholder ? ', referenced, not yet seen' : ''}: ${next.incomers('node').length} upstream, ${next.outgoers('node').length} downstream.`,
      );
  }

  async function exportAs(format: 'png' | 'svg' | 'json') {
    const cy = cyRef.current;
    if (!cy) return;
    if (format === 'png') download(cy.png({ full: true, scale: 2, bg: '#ffffff', output: 'blob' }), `${exportName}.png`);
    if (format === 'svg') {
      const { default: svg } = await import('cytoscape-svg');
      cytoscape.use(svg);
      const text = (cy as unknown as { svg(o: object): string }).svg({ full: true, bg: '#ffffff' });
      download(new Blob([text], { type: 'image/svg+xml' }), `${exportName}.svg`);
    }
    if (format === 'json') download(new Blob([JSON.stringify(graph, null, 2)], { type: 'application/json' }), `${exportName}.json`);
  }

  const label = (id: string) => {
    const n = byId.get(id);
    return n ? `${n.kind} ${n.label}` : id;
  };
  const kinds = [...new Set(graph.nodes.map((n) => n.kind))].sort();

  return (
    <figure class="graph" aria-label={caption}>
      <figcaption>{caption}</figcaption>
      <div class="graph-toolbar" role="toolbar" aria-label="Graph tools">
        <button type="button" onClick={() => cyRef.current?.fit(undefined, 24)}>
          Fit
        </button>
        <button type="button" onClick={() => void exportAs('png')}>
          Export PNG
        </button>
        <button type="button" onClick={() => void exportAs('svg')}>
          Export SVG
        </button>
        <button type="button" onClick={() => void exportAs('json')}>
          Export JSON
        </button>
        <span class="hint">Drag to pan, scroll to zoom, double-click a node to expand it.</span>
      </div>
      <div class="graph-body">
        <div
          ref={container}
          class="graph-canvas"
          tabIndex={0}
          role="application"
          aria-roledescription="lineage graph"
          aria-label={`${caption}. Arrow keys: right goes downstream, left upstream, up and down within a column; Enter shows details; E expands.`}
          data-state={drawn ? 'drawn' : 'drawing'}
          data-layout-ms={drawn ? drawn.layoutMs.toFixed(1) : undefined}
          data-nodes={graph.nodes.length}
          onKeyDown={onKeyDown}
        />
        <Legend kinds={kinds} />
      </div>
      <p class="visually-hidden" aria-live="polite">
        {focusText}
      </p>
      {drawn && (
        <details class="graph-text" open>
          <summary>
            Graph as text: {graph.nodes.length} nodes, {shownEdges.length} links
          </summary>
          <table aria-label="Nodes">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Label</th>
                <th scope="col">Notes</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {graph.nodes.map((n) => (
                <tr key={n.id} data-node={n.id} aria-selected={n.id === selected}>
                  <td>{n.kind}</td>
                  <td>{n.label}</td>
                  <td>{notes(n, root, highlighted).join('; ')}</td>
                  <td>
                    {onSelect && (
                      <button type="button" onClick={() => onSelect(n.id)} aria-label={`Details of ${n.kind} ${n.label}`}>
                        Details
                      </button>
                    )}{' '}
                    {onExpand && (
                      <button type="button" onClick={() => onExpand(n.id)} aria-label={`Expand ${n.kind} ${n.label}`}>
                        Expand
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <table aria-label="Links">
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">Link</th>
                <th scope="col">To</th>
              </tr>
            </thead>
            <tbody>
              {shownEdges.map((e) => (
                <tr key={e.id}>
                  <td>{label(e.from)}</td>
                  <td>
                    {e.kind} <span class="muted">({EDGE_READINGS[e.kind] ?? e.kind})</span>
                  </td>
                  <td>{label(e.to)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </figure>
  );
}
