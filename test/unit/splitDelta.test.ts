import { describe, expect, it } from 'vitest';
import { nodeId } from '../../shared/graph/keys.js';
import type { GraphDelta, NodeRef } from '../../shared/graph/model.js';
import { LINKS_PER_PART, splitDelta } from '../../shared/graph/split.js';
import { normalizeAzureMlEvent } from '../../shared/ingest/eventGrid/azureMlEvents.js';
import { parseEnvelope } from '../../shared/ingest/eventGrid/envelope.js';
import { modelDeployed } from '../helpers/events.js';

/** The delta of a documented ModelDeployed naming `n` models. */
function deployment(n: number): GraphDelta {
  const ids = Array.from({ length: n }, (_, i) => `model-${i}:${(i % 3) + 1}`).join(',');
  const envelope = parseEnvelope(modelDeployed('credit-scoring', ids));
  if (!envelope.ok) throw new Error('fixture envelope');
  const normalized = normalizeAzureMlEvent(envelope.envelope);
  if (!normalized.ok) throw new Error('fixture event');
  return normalized.delta;
}

const idOf = (ref: NodeRef) => nodeId(ref.kind, ref.key);
const edgeId = (e: GraphDelta['edges'][number]) => `${idOf(e.from)}|${e.kind}|${idOf(e.to)}`;

describe('splitting an event that names many resources', () => {
  it('leaves a delta within the bound whole', () => {
    const delta = deployment(LINKS_PER_PART);
    expect(splitDelta(delta)).toEqual([delta]);
  });

  it('3,000 models: parts of at most the bound, every link in exactly one part, nodes asserted in part 0 only', () => {
    const delta = deployment(3000);
    const parts = splitDelta(delta);
    expect(parts).toHaveLength(Math.ceil(3000 / LINKS_PER_PART));
    for (const part of parts) expect(part.edges.length).toBeLessThanOrEqual(LINKS_PER_PART);
    const links = parts.flatMap((p) => p.edges.map(edgeId));
    expect(links).toHaveLength(3000);
    expect(new Set(links)).toEqual(new Set(delta.edges.map(edgeId)));
    expect(parts[0]?.nodes).toEqual(delta.nodes);
    expect(parts.slice(1).every((p) => p.nodes.length === 0)).toBe(true);
  });

  it('each part names the ends of its own links, so it projects on its own and in any order', () => {
    const parts = splitDelta(deployment(250), 100);
    const service = parts[0]?.nodes[0]?.ref as NodeRef;
    for (const [i, part] of parts.entries()) {
      const named = new Set([...part.references, ...part.nodes.map((n) => n.ref)].map(idOf));
      for (const e of part.edges) {
        expect(named.has(idOf(e.from)), `part ${i} names ${e.from.label}`).toBe(true);
        expect(named.has(idOf(e.to)), `part ${i} names the service`).toBe(true);
      }
      // The service is asserted once (part 0) and only a placeholder elsewhere.
      expect(part.references.some((r) => idOf(r) === idOf(service))).toBe(i > 0);
    }
  });

  it('cuts the same delta the same way every time (a queued part names only its number)', () => {
    expect(splitDelta(deployment(1234))).toEqual(splitDelta(deployment(1234)));
  });

  it('keeps references no link names in part 0', () => {
    const delta = deployment(150);
    const loose: NodeRef = { ...(delta.references[0] as NodeRef), key: `${(delta.references[0] as NodeRef).key}-loose`, label: 'loose' };
    delta.references.push(loose);
    const parts = splitDelta(delta, 100);
    expect(parts[0]?.references.map(idOf)).toContain(idOf(loose));
    expect(parts[1]?.references.map(idOf)).not.toContain(idOf(loose));
  });
});
