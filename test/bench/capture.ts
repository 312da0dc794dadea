import { capturedMessages, runEnrichmentBench } from './enrichment.js';
import { runMonitorParsingBench } from './monitorParsing.js';
import { monitorStream } from './monitorStream.js';
import { NORMALIZATION_EVENTS, runNormalizationBench } from './normalization.js';
import { runSectionAlone } from './report.js';
import { runStoreBench, STORE_EVENTS } from './store.js';
import { eventStream, type BenchEvent } from './stream.js';

/** Sections 1 to 4, what capture costs: `npm run bench:capture` alone, or from run.ts. */
const MONITOR_MESSAGES = 1_500; // section 3, about 13,000 records

/** One seeded stream: the first events feed the store bench, all of them the CPU bench. */
export function captureStream(): BenchEvent[] {
  return eventStream(Math.max(NORMALIZATION_EVENTS, STORE_EVENTS));
}

export async function runCaptureBench(events: readonly BenchEvent[] = captureStream()): Promise<void> {
  runNormalizationBench(events.slice(0, NORMALIZATION_EVENTS));
  await runStoreBench(events.slice(0, STORE_EVENTS));
  // Section 3 runs after section 2 has stopped its stores, so the in-process Cosmos server's data is garbage by then.
  runMonitorParsingBench(monitorStream(MONITOR_MESSAGES));
  await runEnrichmentBench(capturedMessages());
}

runSectionAlone(import.meta.url, '1-4', () => runCaptureBench());
