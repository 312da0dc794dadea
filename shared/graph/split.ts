import { nodeId } from './keys.js';
import type { GraphDelta, NodeRef } from './model.js';

/**
 * How many links one part of an event's delta carries. An event naming many resources (a
 * `ModelDeployed` with thousands of `ModelIds`) costs a few store round trips per link, so capture
 * projects the first part inline, within Event Grid's response time, and queues the rest; each
 * queued part finishes well within one queue invocation. About 16 store requests a link today.
 */
export const LINKS_PER_PART = 100;

/**
 * Cuts a delta into parts of at most `linksPerPart` links, in a deterministic order, so the same
 * event always gives the same parts (a queued part names only its number). Part 0 asserts every
 * node and references whatever no link names; every part references the ends of its own links, so
 * each one projects on its own, in any order, any number of times. A delta within the bound is
 * one part, unchanged.
 */
export function splitDelta(delta: GraphDelta, linksPerPart = LINKS_PER_PART): GraphDelta[] {
  if (delta.edges.length <= linksPerPart) return [delta];
  const asserted = new Set(delta.nodes.map((n) => idOf(n.ref)));
  const parts: GraphDelta[] = [];
  for (let at = 0; at < delta.edges.length; at += linksPerPart) {
    const edges = delta.edges.slice(at, at + linksPerPart);
    const ends = new Map<string, NodeRef>();
    for (const { from, to } of edges) for (const ref of [from, to]) ends.set(idOf(ref), ref);
    const nodes = at === 0 ? delta.nodes : [];
    // Part 0 asserts its nodes; a placeholder for them there would only cost a round trip.
    const references = [...ends.entries()].filter(([id]) => at > 0 || !asserted.has(id)).map(([, ref]) => ref);
    parts.push({ nodes, edges, references });
  }
  const named = new Set(delta.edges.flatMap(({ from, to }) => [idOf(from), idOf(to)]));
  (parts[0] as GraphDelta).references.push(...delta.references.filter((ref) => !named.has(idOf(ref))));
  return parts;
}

const idOf = (ref: NodeRef) => nodeId(ref.kind, ref.key);
