import { useEffect, useRef } from 'preact/hooks';
import { kindStyle } from '../kinds.js';
import cytoscape from './cytoscape.js';

/**
 * The key to the drawing: each kind's shape and colour, drawn by the same renderer as the graph so
 * they match exactly, with the words beside them for screen readers.
 */
const ROW = 30;

export function Legend({ kinds }: { kinds: string[] }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!container.current || kinds.length === 0) return;
    const cy = cytoscape({
      container: container.current,
      elements: kinds.map((kind, i) => {
        const s = kindStyle(kind);
        return { data: { id: kind, shape: s.shape, color: s.color, text: kind }, position: { x: 14, y: 14 + i * ROW } };
      }),
      style: [
        {
          selector: 'node',
          style: {
            shape: 'data(shape)' as never,
            'background-color': 'data(color)',
            'border-width': 1.5,
            'border-color': '#222',
            width: 20,
            height: 20,
            label: 'data(text)',
            'text-halign': 'right',
            'text-valign': 'center',
            'text-margin-x': 8,
            'font-size': 12,
            'font-family': 'system-ui, sans-serif',
          },
        },
      ],
      userZoomingEnabled: false,
      userPanningEnabled: false,
      autoungrabify: true,
      autounselectify: true,
      layout: { name: 'preset', fit: false, pan: { x: 4, y: 0 } } as never,
    });
    return () => cy.destroy();
  }, [kinds.join(',')]);
  return (
    <div class="legend">
      <h3 id="legend-title">Legend</h3>
      <div ref={container} class="legend-canvas" style={{ height: `${kinds.length * ROW + 4}px` }} aria-hidden="true" />
      <ul class="visually-hidden" aria-labelledby="legend-title">
        {kinds.map((kind) => {
          const s = kindStyle(kind);
          return (
            <li key={kind}>
              {kind}: {s.title}, drawn as {/^[aeiou]/.test(s.shapeName) ? 'an' : 'a'} {s.shapeName}
            </li>
          );
        })}
      </ul>
      <p class="legend-notes">
        Thick border: where the answer starts. Dashed outline: referenced, not yet seen. Double border: serving now. Dashed links: code,
        environment, compute, commit; dotted: drift.
      </p>
    </div>
  );
}
