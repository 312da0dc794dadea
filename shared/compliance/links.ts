import { parseEdgeKey, type Closure } from '../graph/closure.js';
import { kindOfId } from '../graph/keys.js';
import type { GraphReader } from '../store/graphReader.js';
import { latestAtOrBefore } from '../usecases/asOf.js';

/** What closures say about links and deployments, read through a check's GraphReader. */

/** Links of a closure as `{from, kind, to}`. */
export function closureLinks(closure: Closure | undefined): Array<{ from: string; kind: string; to: string }> {
  return (closure?.edges ?? []).map(parseEdgeKey);
}

/** Model versions linked `deployedTo` a deployment or service, from its upstream closure. */
export function deployedModels(target: string, upClosure: Closure | undefined): string[] {
  const models = closureLinks(upClosure).filter((l) => l.kind === 'deployedTo' && l.to === target && kindOfId(l.from) === 'model');
  return [...new Set(models.map((l) => l.from))].sort();
}

/** A deployment's traffic share behind each endpoint it serves, as of `instant` (endpoints never observed are left out). */
export async function trafficShares(reader: GraphReader, deployment: string, instant: string): Promise<number[]> {
  const down = await reader.closure(deployment, 'down');
  const shares: number[] = [];
  for (const l of closureLinks(down).filter((x) => x.kind === 'serves' && x.from === deployment)) {
    const entry = latestAtOrBefore((await reader.edge(deployment, 'serves', l.to))?.series.traffic, instant);
    if (entry) shares.push(Number(entry.value));
  }
  return shares;
}
