import type { GraphStore } from '../store/graphStore.js';
import { withRetry } from '../store/retry.js';
import { maintainClosures } from './closures.js';

/** A lock held by one run at a time (a blob lease): undefined when another run holds it. */
export interface StageLocks {
  lease(name: string): Promise<(() => Promise<void>) | undefined>;
}

export const CLOSURE_STAGE_LOCK = 'closure-stage';

export interface ClosureStageRun {
  batches: number;
  links: number;
  written: number;
  /** Another run held the stage, so this one left the pending links to it. */
  busy: boolean;
}

/** How often a caller that must see closures current (a compliance run) asks for the stage again. */
const WAIT_POLL_MS = 1000;

/**
 * One run of the closure stage, and only one at a time across every instance. Two runs side by
 * side could each read a closure the other is about to grow and never see the other's growth
 * (each writes only what it changed, so no ETag catches it), leaving a closure short while its
 * links are marked propagated. One run at a time rules that out.
 *
 * A nudge that finds the stage held returns at once: the holder looks for pending links again
 * after it lets go, so links stored while it ran (whose nudges were turned away) are not left
 * behind. If the holder dies, its lease lapses within a minute and its own queue message is
 * delivered again. `wait` keeps asking instead, for callers that need the closures current.
 */
export async function runClosureStage(
  graph: GraphStore,
  locks: StageLocks,
  options: { wait?: boolean; batchSize?: number } = {},
): Promise<ClosureStageRun> {
  const total: ClosureStageRun = { batches: 0, links: 0, written: 0, busy: false };
  for (;;) {
    const release = await locks.lease(CLOSURE_STAGE_LOCK);
    if (!release) {
      if (!options.wait) return { ...total, busy: true };
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      continue;
    }
    try {
      const run = await maintainClosures(graph, options.batchSize);
      total.batches += run.batches;
      total.links += run.links;
      total.written += run.written;
    } finally {
      await release();
    }
    const left = await withRetry(() => graph.pendingLinks(1), 'reading pending links');
    if (left.length === 0) return total;
  }
}
