import type { Container } from '@azure/cosmos';
import { z } from 'zod';
import { queryPages, type StoredDoc } from './reads.js';
import type { StoreMeter } from './storeMeter.js';

/**
 * What changed in a container since the last pass, by high-water mark on Cosmos DB's `_ts` (the
 * server's last-modified second, on every document, indexed by default).
 *
 * Why not Cosmos DB's change feed: the embedded server has none, and a path the tests cannot run is a path
 * nobody has run. A `_ts` range query returns the same documents the change feed would (latest
 * version of everything created or updated since the mark), in Azure and locally alike.
 *
 * `_ts` has one-second resolution and replicas commit slightly out of step, so each run re-reads
 * the last few seconds before its mark and skips the documents it already saw there (the
 * `boundary`: id and ETag of each), so a document is processed once per version.
 */
export const LAG_SECONDS = 5;
/**
 * Documents older than this when a run starts are settled: anything written then is visible. The
 * mark moves up to here even when nothing newer arrived, so a burst of writes is not re-read by
 * every later run. Generous, to absorb skew between this clock and the server's.
 */
export const SETTLED_SECONDS = 60;

export const markSchema = z.object({
  /** Newest `_ts` seen. */
  ts: z.number().int(),
  /** `pk|id|etag` -> `_ts` of the documents seen within LAG_SECONDS of `ts`. */
  boundary: z.record(z.string(), z.number().int()),
});
export type Mark = z.infer<typeof markSchema>;

export const START: Mark = { ts: 0, boundary: {} };

export interface ChangeWindow {
  /** Inclusive, in epoch seconds. */
  since: number;
  until: number;
}

function boundaryKey(doc: StoredDoc): string {
  return `${doc.pk}|${doc.id}|${doc._etag}`;
}

export interface ChangeReadOptions {
  pageSize?: number;
  nowSeconds?: number;
  /** Save the mark every so many pages, so a long first pass can be resumed where it stopped. */
  checkpoint?: { everyPages: number; save: (mark: Mark) => Promise<void> };
}

/** A container's change stream, read by `_ts`; every page is metered. */
export class ChangeStream {
  constructor(
    private readonly container: Container,
    private readonly meter: StoreMeter,
  ) {}

  /**
   * Documents changed after `mark` (or inside `window`), page by page, and the mark to store once
   * they are all processed. Store the new mark only after processing: a pass that dies half-way
   * reads the same changes again, which every reader must tolerate (recompute, never count twice).
   */
  async read(
    from: { mark: Mark } | { window: ChangeWindow },
    onPage: (docs: StoredDoc[]) => Promise<void>,
    options: ChangeReadOptions = {},
  ): Promise<{ mark: Mark | undefined; read: number }> {
    const pageSize = options.pageSize ?? 500;
    const inWindow = 'window' in from;
    const since = inWindow ? from.window.since : Math.max(0, from.mark.ts - LAG_SECONDS);
    const query = inWindow
      ? {
          query: 'SELECT * FROM c WHERE c._ts >= @since AND c._ts <= @until',
          parameters: [
            { name: '@since', value: since },
            { name: '@until', value: from.window.until },
          ],
        }
      : // In `_ts` order, so a long first run can save its progress and a timed-out run resumes there.
        { query: 'SELECT * FROM c WHERE c._ts >= @since ORDER BY c._ts', parameters: [{ name: '@since', value: since }] };
    const seen = inWindow ? {} : from.mark.boundary;
    const settled = (options.nowSeconds ?? Math.floor(Date.now() / 1000)) - SETTLED_SECONDS;
    let newest = inWindow ? 0 : from.mark.ts;
    let recent: Array<[string, number]> = [];
    let read = 0;
    let pages = 0;
    const markNow = (ts: number): Mark => {
      const boundary: Record<string, number> = {};
      for (const [key, t] of Object.entries(seen)) if (t >= ts - LAG_SECONDS) boundary[key] = t;
      for (const [key, t] of recent) if (t >= ts - LAG_SECONDS) boundary[key] = t;
      return { ts, boundary };
    };
    for await (const docs of queryPages<StoredDoc>(this.container, this.meter, query, pageSize)) {
      read += docs.length;
      const unseen = docs.filter((d) => !(boundaryKey(d) in seen));
      for (const d of unseen) {
        newest = Math.max(newest, d._ts);
        if (d._ts >= newest - LAG_SECONDS) recent.push([boundaryKey(d), d._ts]);
      }
      // Keep only candidates for the boundary (a first run sees the whole container).
      if (recent.length > 10_000) recent = recent.filter(([, ts]) => ts >= newest - LAG_SECONDS);
      if (unseen.length > 0) await onPage(unseen);
      // Every document up to `newest` has been processed (ascending `_ts`): a safe place to resume.
      if (options.checkpoint && !inWindow && ++pages % options.checkpoint.everyPages === 0) await options.checkpoint.save(markNow(newest));
    }
    if (inWindow) return { mark: undefined, read };
    return { mark: markNow(Math.max(newest, settled)), read };
  }
}
