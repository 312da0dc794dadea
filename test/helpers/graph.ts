import type { Services } from '../../shared/composition.js';
import { canonicalJson } from '../../shared/util/canonicalJson.js';

/** The whole stored graph as canonical JSON lines, sorted: equal strings mean identical graphs. */
export async function graphSnapshot(services: Services): Promise<string[]> {
  const docs = await services.graph.all();
  return docs.map((d) => canonicalJson(d)).sort();
}
