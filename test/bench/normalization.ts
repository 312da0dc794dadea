import type { Provenance } from '../../shared/graph/model.js';
import { normalize } from '../../shared/ingest/normalize.js';
import { documentsFor } from '../../shared/usecases/applyDelta.js';
import { MAX_EVENT_DEPTH, prepareEvent } from '../../shared/usecases/captureEvent.js';
import { contentHash } from '../../shared/util/canonicalJson.js';
import { toInstant } from '../../shared/util/time.js';
import { fixed, heading, int, median, runSectionAlone, table, timeMs } from './report.js';
import { recordFigures, round } from './results.js';
import { eventStream, type BenchEvent } from './stream.js';

/**
 * Section 1: the CPU path from the bytes Event Grid delivers to the graph documents they become,
 * with no I/O, on the one thread this process runs on, compared with JSON.parse of the same bytes.
 */
export const NORMALIZATION_EVENTS = 5_000;
const WARMUP_PASSES = 2;
const ROUNDS = 7;
const LEARNED_AT = '2024-06-01T00:00:00.000Z';
const REDACTION_KEY = 'bench-redaction-key';

/** What captureEvent does before its first write, minus redaction and the content hash (given, see below). */
function bytesToDocuments(text: string, hash: string): number {
  return eventToDocuments(JSON.parse(text), hash);
}

/**
 * What captureEvent does before its first write, all of it: identity and personal-data redaction
 * (prepareEvent, with the default approval rules' person fields), the content hash, the depth
 * check, then normalization.
 */
function bytesToDocumentsAsCaptured(text: string): number {
  const { raw, hash, depth } = prepareEvent(JSON.parse(text), { redactionKey: REDACTION_KEY });
  if (depth > MAX_EVENT_DEPTH) return 0;
  return eventToDocuments(raw, hash);
}

function eventToDocuments(raw: unknown, hash: string): number {
  const normalized = normalize('eventgrid', raw, hash);
  if (normalized.status !== 'project') return 0;
  const { time } = normalized;
  const prov: Provenance = {
    source: 'eventgrid',
    eventId: normalized.eventId,
    eventType: normalized.eventType,
    eventTime: time,
    instant: toInstant(time) as string,
    hash,
    learnedAt: LEARNED_AT,
  };
  const { merge, ensure } = documentsFor(normalized.delta, prov);
  return merge.length + ensure.length;
}

export function runNormalizationBench(events: readonly BenchEvent[]): void {
  const texts = events.map((e) => JSON.stringify(e.raw));
  // Path (b) takes each event's content hash as given, so it times exactly parse + envelope +
  // normalize + documentsFor; path (c) redacts and hashes as captureEvent does (identities and
  // personal data replaced by keyed hashes, then canonical JSON + SHA-256) and checks the depth.
  const hashes = events.map((e) => contentHash(e.raw));
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

  let sink = 0;
  const passes = {
    'JSON.parse': () => {
      for (const text of texts) if (JSON.parse(text) !== null) sink++;
    },
    'parse + envelope + normalize + documentsFor': () => {
      for (let i = 0; i < texts.length; i++) sink += bytesToDocuments(texts[i] as string, hashes[i] as string);
    },
    '... + redaction + contentHash + depth (as captureEvent does)': () => {
      for (const text of texts) sink += bytesToDocumentsAsCaptured(text);
    },
  };
  type Pass = keyof typeof passes;
  const names = Object.keys(passes) as Pass[];

  // Every event must make it through both paths; a refusal would shorten the timed path.
  let documents = 0;
  let refused = 0;
  texts.forEach((text, i) => {
    const n = bytesToDocuments(text, hashes[i] as string);
    documents += n;
    if (n === 0 || bytesToDocumentsAsCaptured(text) !== n) refused++;
  });

  for (let w = 0; w < WARMUP_PASSES; w++) for (const name of names) passes[name]();
  const rates = new Map<Pass, number[]>(names.map((n) => [n, []]));
  // Rounds interleave the passes so drift in machine load hits them alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) rates.get(name)?.push(texts.length / (timeMs(passes[name]) / 1000));
  }

  const medians = new Map(names.map((n) => [n, median(rates.get(n) ?? [])]));
  const parseRate = medians.get('JSON.parse') as number;

  console.log(heading('1. Normalization throughput (one core, no I/O)'));
  console.log(
    `  stream: ${int(events.length)} Azure ML events, ${int(bytes / events.length)} bytes/event on average, ` +
      `${fixed(documents / events.length, 1)} graph documents/event, ${refused} refused`,
  );
  console.log(`  ${WARMUP_PASSES} warm-up passes, then median of ${ROUNDS} rounds per path\n`);
  console.log(
    table(
      ['path (bytes -> ...)', 'events/s (median)', 'us/event', 'MB/s', 'cost vs JSON.parse'],
      names.map((name) => {
        const rate = medians.get(name) as number;
        return [name, int(rate), fixed(1e6 / rate, 1), fixed((rate * bytes) / events.length / 1e6, 1), `${fixed(parseRate / rate, 1)}x`];
      }),
    ),
  );
  const full = medians.get('parse + envelope + normalize + documentsFor') as number;
  const withHash = medians.get('... + redaction + contentHash + depth (as captureEvent does)') as number;
  console.log(
    `\n  summary: normalization costs ${fixed(parseRate / full, 1)}x JSON.parse (bytes to graph documents vs bytes to objects), ` +
      `${fixed(parseRate / withHash, 1)}x with redaction and the content hash; ${int(full)} events/s on one core (machine-dependent)`,
  );
  recordFigures({
    normalization: {
      ratioToJsonParse: round(parseRate / full, 1),
      ratioWithHash: round(parseRate / withHash, 1),
      eventsPerSecond: round(full, 0),
      eventsPerSecondWithHash: round(withHash, 0),
    },
  });
  if (sink === -1) console.log('unreachable'); // keeps the results observable so no pass is optimised away
}

// `npm run bench:normalization`: this section alone, on the same first events of the same seeded stream.
runSectionAlone(import.meta.url, '1', async () => runNormalizationBench(eventStream(NORMALIZATION_EVENTS)));
