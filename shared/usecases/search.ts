import { canSee } from '../access.js';
import { DomainError } from '../errors.js';
import { parseWorkspaceId } from '../graph/keys.js';
import { resolveRef } from '../graph/refs.js';
import type { GraphStore } from '../store/graphStore.js';
import { toLineageNode, type LineageNode } from './traversal.js';

/**
 * Finds nodes for a bot or a person who has only part of a name: any accepted reference form
 * (ARM id, azureml:NAME:VERSION, registry URI, node id), `tag:KEY` or `tag:KEY=VALUE`, or a
 * name prefix.
 */
export async function search(
  graph: GraphStore,
  query: { q: string; workspace?: string; kind?: string; limit: number; scope?: Set<string> | null },
): Promise<{ nodes: LineageNode[] }> {
  const q = query.q.trim();
  const ws = query.workspace ? parseWorkspaceId(query.workspace) : undefined;
  if (query.workspace && !ws) throw new DomainError('invalid-request', 'workspace must be the ARM id of an Azure ML workspace.');
  let candidates: string[] | undefined;
  try {
    candidates = resolveRef(q, query.workspace);
  } catch {
    candidates = undefined; // not a reference: a tag or a name prefix
  }
  let nodes;
  if (candidates) {
    nodes = [...(await graph.nodes(candidates)).values()];
  } else {
    const tag = /^tag:([^=]+)(?:=(.*))?$/i.exec(q);
    nodes = await graph.search({
      ...(tag ? { tagKey: (tag[1] as string).trim(), tagValue: tag[2]?.trim() } : { prefix: q }),
      kind: query.kind,
      workspace: ws?.key,
      limit: query.limit,
    });
  }
  return {
    nodes: nodes
      .filter((n) => canSee(query.scope ?? null, n.workspace) && (!query.kind || n.kind === query.kind))
      .slice(0, query.limit)
      .map((n) => toLineageNode(n)),
  };
}
