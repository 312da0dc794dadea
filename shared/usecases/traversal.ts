import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import type { EdgeDoc, NodeDoc } from '../graph/model.js';
import { namedResource, nodeId, parseArmId, parseWorkspaceId } from '../graph/keys.js';
import { resolveRef } from '../graph/refs.js';
import type { GraphStore } from '../store/graphStore.js';

/**
 * The traversal toolkit the lookups share: the answer shapes (nodes and edges as answers show
 * them), resolving a reference to its one root node, and the breadth-first walk over stored edges.
 */

export type Direction = 'upstream' | 'downstream' | 'both';

export interface LineageNode {
  id: string;
  kind: string;
  key: string;
  label: string;
  workspace: string | null;
  placeholder: boolean;
  /** Hops from the root (upstream and downstream each count from 0). */
  distance?: number;
  properties: Record<string, unknown>;
  history: Record<string, Array<{ value: unknown; eventTime: string }>>;
  provenance: {
    facts: Record<string, { eventTime: string; hash: string }>;
    events: NodeDoc['provenance'];
  };
}

export interface LineageEdge {
  id: string;
  kind: string;
  from: string;
  to: string;
  properties: Record<string, unknown>;
  history: Record<string, Array<{ value: unknown; eventTime: string }>>;
  provenance: EdgeDoc['provenance'];
}

export interface LineageAnswer {
  root: string;
  direction: Direction;
  depth: number;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when a bound (node budget, time budget) cut the answer short. */
  partial: boolean;
  /** Why the answer is partial. */
  partialReason?: 'node-budget' | 'time-budget';
  /** Pass back as `cursor` for the next page of a partial answer. */
  cursor?: string;
  /** Nodes left out because they belong to workspaces the caller may not see. */
  hidden?: number;
  /** Where the answer came from: current closures, or a walk (closures behind, truncated, or not enough). */
  answeredFrom: 'closures' | 'walk';
}

export function toLineageNode(doc: NodeDoc, distance?: number): LineageNode {
  return {
    id: doc.id,
    kind: doc.kind,
    key: doc.key,
    label: doc.label,
    workspace: doc.workspace,
    placeholder: doc.placeholder,
    ...(distance !== undefined ? { distance } : {}),
    properties: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, f.value])),
    history: Object.fromEntries(
      Object.entries(doc.series).map(([k, entries]) => [k, entries.map((e) => ({ value: e.value, eventTime: e.eventTime }))]),
    ),
    provenance: {
      facts: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, { eventTime: f.eventTime, hash: f.hash }])),
      events: doc.provenance,
    },
  };
}

export function toLineageEdge(doc: EdgeDoc): LineageEdge {
  return {
    id: `${doc.from}~${doc.kind}~${doc.to}`,
    kind: doc.kind,
    from: doc.from,
    to: doc.to,
    properties: Object.fromEntries(Object.entries(doc.facts).map(([k, f]) => [k, f.value])),
    history: Object.fromEntries(
      Object.entries(doc.series).map(([k, entries]) => [k, entries.map((e) => ({ value: e.value, eventTime: e.eventTime }))]),
    ),
    provenance: doc.provenance,
  };
}

/** `NAME:VERSION`, with or without `azureml:`: names never hold `:` or `/`, versions no `/`. */
const SHORTHAND = /^(?:azureml:)?([^:/@\s]+):([^:/@\s]+)$/i;
/** A workspace named by its short name (`ws-credit`) rather than its ARM id. */
const SHORT_WORKSPACE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,32}$/;
const VERSIONED_KINDS = new Set(['model', 'data', 'environment', 'code', 'component']);
const SEARCH_LIMIT = 200;

/** A workspace's short name from its key (`…/workspaces/NAME`); registry assets have none. */
const workspaceName = (key: string | null): string | null => (key ? (parseWorkspaceId(key)?.name.toLowerCase() ?? null) : null);

function oneOf(found: NodeDoc[], ref: string, what = ref): NodeDoc {
  if (found.length === 0) throw new DomainError('not-found', `No lineage is recorded for ${what}.`);
  if (found.length > 1) {
    throw new DomainError('ambiguous-ref', `${ref} names ${found.length} nodes; ask again with one of the candidates.`, {
      candidates: found.map((n) => ({ id: n.id, kind: n.kind, key: n.key, label: n.label, workspace: workspaceName(n.workspace) })),
    });
  }
  return found[0] as NodeDoc;
}

/**
 * Nodes of `kinds` labelled `label` (case-insensitive) in the workspaces the caller may see, or in
 * the workspace with that short name: how `NAME:VERSION` and bare endpoint names resolve when no
 * workspace ARM id says where to look. One query.
 */
async function byLabel(graph: GraphStore, label: string, kinds: Set<string>, workspace: string | undefined, scope: Set<string> | null) {
  const wanted = label.toLowerCase();
  const wsName = workspace?.toLowerCase();
  const found = await graph.search({ prefix: label, limit: SEARCH_LIMIT });
  return found.filter(
    (n) =>
      kinds.has(n.kind) &&
      n.label.toLowerCase() === wanted &&
      canSee(scope, n.workspace) &&
      (wsName === undefined || workspaceName(n.workspace) === wsName),
  );
}

/** The label to look up when `ref` is `NAME:VERSION` and no workspace ARM id says where; else undefined. */
export function labelOf(ref: string, workspace: string | undefined): string | undefined {
  const shorthand = SHORTHAND.exec(ref.trim());
  const ws = workspace?.trim();
  if (!shorthand || !(ws === undefined || ws === '' || SHORT_WORKSPACE.test(ws))) return undefined;
  return `${shorthand[1]}:${shorthand[2]}`;
}

/**
 * The one node a reference names. `NAME:VERSION` (with or without `azureml:`) and a workspace
 * given by its ARM id name the asset in that workspace; without a workspace, or with its short
 * name, they resolve across the workspaces the caller may see, and several matches answer
 * `ambiguous-ref` with the choices.
 */
export async function resolveRoot(graph: GraphStore, ref: string, workspace?: string, scope?: Set<string> | null): Promise<NodeDoc> {
  const label = labelOf(ref, workspace);
  if (label) {
    const ws = workspace?.trim() || undefined;
    const found = await byLabel(graph, label, VERSIONED_KINDS, ws, scope ?? null);
    return oneOf(found, ref, ws ? `${label} in ${ws}` : label);
  }
  const candidates = resolveRef(ref, workspace);
  return oneOf(
    [...(await graph.readNodes(candidates)).values()].filter((n) => canSee(scope ?? null, n.workspace)),
    ref,
  );
}

const BARE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * The endpoint a reference names: its ARM id (online or batch, `azureml:` prefix allowed), its
 * node id, or a bare endpoint name, looked up in the workspace given (ARM id or short name) or
 * across the workspaces the caller may see.
 */
export async function resolveEndpoint(
  graph: GraphStore,
  ref: string,
  workspace: string | undefined,
  scope: Set<string> | null,
): Promise<NodeDoc> {
  const text = ref.trim().replace(/^azureml:(?=\/)/i, '');
  const ws = workspace?.trim() || undefined;
  if (BARE_NAME.test(text) && !/^endpoint-[0-9a-f]{32}$/.test(text)) {
    const full = ws ? parseWorkspaceId(ws) : undefined;
    if (full) {
      const ids = ['onlineEndpoints', 'batchEndpoints'].map((c) => nodeId('endpoint', namedResource(full, c, text).key));
      return oneOf(
        [...(await graph.readNodes(ids)).values()].filter((n) => canSee(scope, n.workspace)),
        ref,
        `endpoint ${ref}`,
      );
    }
    if (ws && !SHORT_WORKSPACE.test(ws))
      throw new DomainError('invalid-request', 'workspace must be a workspace ARM id or its short name.');
    return oneOf(await byLabel(graph, text, new Set(['endpoint']), ws, scope), ref, `endpoint ${ref}`);
  }
  let id = text;
  if (!/^endpoint-[0-9a-f]{32}$/.test(text)) {
    const arm = parseArmId(text);
    if (arm?.kind !== 'endpoint')
      throw new DomainError(
        'invalid-ref',
        'endpoint must be the ARM id of an online or batch endpoint (/subscriptions/…/workspaces/WS/onlineEndpoints/NAME or …/batchEndpoints/NAME), or its name.',
      );
    id = nodeId('endpoint', arm.key);
  }
  const endpoint = await graph.readNode(id);
  return oneOf(endpoint && canSee(scope, endpoint.workspace) ? [endpoint] : [], ref, `endpoint ${ref}`);
}

/**
 * A job named by its name alone (as Studio and `az ml job show` spell it), in the workspace given
 * (ARM id or short name) or across the workspaces the caller may see; undefined when `ref` is not
 * a bare name.
 */
export async function resolveJobName(
  graph: GraphStore,
  ref: string,
  workspace: string | undefined,
  scope: Set<string> | null,
): Promise<NodeDoc | undefined> {
  const text = ref.trim();
  if (!BARE_NAME.test(text) || /^[a-z]+-[0-9a-f]{32}$/.test(text)) return undefined;
  const ws = workspace?.trim() || undefined;
  const full = ws ? parseWorkspaceId(ws) : undefined;
  if (full) {
    const job = await graph.readNode(nodeId('job', namedResource(full, 'jobs', text).key));
    return oneOf(job && canSee(scope, job.workspace) ? [job] : [], ref, `job ${ref}`);
  }
  if (ws && !SHORT_WORKSPACE.test(ws)) throw new DomainError('invalid-request', 'workspace must be a workspace ARM id or its short name.');
  return oneOf(await byLabel(graph, text, new Set(['job']), ws, scope), ref, `job ${ref}`);
}

/** A walk's raw result: nodes in breadth-first order with their distance, and the edges seen. */
export interface Walk {
  order: Array<{ doc: NodeDoc; distance: number }>;
  edges: Map<string, EdgeDoc>;
  cut?: 'node-budget' | 'time-budget';
}

/**
 * Breadth-first walk, one level at a time: each level costs one query for the edges of the whole
 * frontier and one for the nodes they reach, whatever the frontier's size. Stops at `limit` nodes
 * or the deadline.
 */
export async function walk(
  graph: GraphStore,
  root: NodeDoc,
  dir: 'in' | 'out',
  depth: number,
  limit: number,
  deadline: number,
  into?: Walk,
): Promise<Walk> {
  const result: Walk = into ?? { order: [{ doc: root, distance: 0 }], edges: new Map() };
  const seen = new Set(result.order.map((o) => o.doc.id));
  let frontier = [root.id];
  for (let level = 1; level <= depth && frontier.length > 0; level++) {
    if (Date.now() > deadline) {
      result.cut = 'time-budget';
      break;
    }
    const found = await graph.edgesOf(frontier, dir);
    const candidates = new Set<string>();
    for (const edge of found) {
      const other = dir === 'in' ? edge.from : edge.to;
      if (!seen.has(other)) candidates.add(other);
      result.edges.set(`${edge.from}~${edge.kind}~${edge.to}`, edge);
    }
    // Cut a level by id order, so a walk with a larger budget extends a smaller one (stable pages).
    const sorted = [...candidates].sort();
    const room = Math.max(0, limit - seen.size);
    if (sorted.length > room) result.cut = 'node-budget';
    const next = new Set(sorted.slice(0, room));
    const docs = await graph.nodes([...next]);
    for (const id of [...next].sort()) {
      const doc = docs.get(id);
      if (doc) {
        seen.add(id);
        result.order.push({ doc, distance: level });
      }
    }
    if (result.cut) break;
    frontier = [...next];
  }
  return result;
}
