import { normalizeMonitorRecord } from '../../shared/ingest/monitor/categories.js';
import { splitMonitorMessage } from '../../shared/ingest/monitor/message.js';
import { normalize } from '../../shared/ingest/normalize.js';
import { contentHash } from '../../shared/util/canonicalJson.js';
import { redactIdentities } from '../../shared/privacy/identity.js';
import { fixed, heading, int, median, table, timeMs } from './report.js';
import type { MonitorMessage } from './monitorStream.js';

/**
 * Section 3: Azure Monitor messages from Event Hubs, bytes to per-record results, on the one
 * thread this process runs on, with no I/O: `splitMonitorMessage` on the message body, then
 * `normalizeMonitorRecord` on every record (what captureMonitorMessage does before its writes,
 * minus the content hashes), compared with JSON.parse of the same body. Bodies are measured as
 * JSON text and as UTF-8 bytes, the form the Functions host hands Event Hubs bodies over in.
 */
const WARMUP_PASSES = 2;
const ROUNDS = 9;

/** Every record's result, counted so no pass is optimised away. */
function splitAndNormalize(body: unknown): number {
  const split = splitMonitorMessage(body);
  if (!split.ok) return 0;
  let projected = 0;
  for (const record of split.records) if (normalizeMonitorRecord(record).status === 'projected') projected++;
  return split.records.length + projected;
}

/** The CPU part of captureMonitorMessage: per record, identity redaction and the content hash (captureEvent), then normalize('eventhubs'). */
function asCaptureDoes(body: unknown): number {
  const split = splitMonitorMessage(body);
  if (!split.ok) return 0;
  let n = 0;
  for (const record of split.records) {
    const redacted = redactIdentities(record, 'bench-redaction-key-0123456789');
    const hash = contentHash(redacted);
    if (normalize('eventhubs', redacted, hash).status === 'project') n++;
  }
  return n;
}

export function runMonitorParsingBench(messages: readonly MonitorMessage[]): void {
  const texts = messages.map((m) => JSON.stringify(m.body));
  const buffers = texts.map((t) => Buffer.from(t, 'utf8'));
  const records = messages.reduce((n, m) => n + m.labels.length, 0);
  const bytes = buffers.reduce((n, b) => n + b.length, 0);

  // Every message must split into the records it was built from, and no record may be refused:
  // a refusal would shorten the timed path.
  const outcomes = new Map<string, { projected: number; ignored: number; invalid: number }>();
  let splitRecords = 0;
  texts.forEach((text, i) => {
    const split = splitMonitorMessage(text);
    if (!split.ok) return;
    splitRecords += split.records.length;
    split.records.forEach((record, j) => {
      const label = messages[i]?.labels[j] ?? '?';
      const counts = outcomes.get(label) ?? { projected: 0, ignored: 0, invalid: 0 };
      counts[normalizeMonitorRecord(record).status]++;
      outcomes.set(label, counts);
    });
  });
  const invalid = [...outcomes.values()].reduce((n, c) => n + c.invalid, 0);

  let sink = 0;
  const passes = {
    'JSON.parse (text)': () => {
      for (const text of texts) sink += (JSON.parse(text) as { records: unknown[] }).records.length;
    },
    'split + normalize every record (text)': () => {
      for (const text of texts) sink += splitAndNormalize(text);
    },
    'JSON.parse (Buffer: toString + parse)': () => {
      for (const buffer of buffers) sink += (JSON.parse(buffer.toString('utf8')) as { records: unknown[] }).records.length;
    },
    'split + normalize every record (Buffer)': () => {
      for (const buffer of buffers) sink += splitAndNormalize(buffer);
    },
    '... + redaction + contentHash (as captureMonitorMessage)': () => {
      for (const buffer of buffers) sink += asCaptureDoes(buffer);
    },
    'splitMonitorMessage alone (Buffer)': () => {
      for (const buffer of buffers) {
        const split = splitMonitorMessage(buffer);
        if (split.ok) sink += split.records.length;
      }
    },
  };
  type Pass = keyof typeof passes;
  const names = Object.keys(passes) as Pass[];
  /** The JSON.parse each path is compared with: of the same input form. */
  const baseline: Record<Pass, Pass> = {
    'JSON.parse (text)': 'JSON.parse (text)',
    'split + normalize every record (text)': 'JSON.parse (text)',
    'JSON.parse (Buffer: toString + parse)': 'JSON.parse (Buffer: toString + parse)',
    'split + normalize every record (Buffer)': 'JSON.parse (Buffer: toString + parse)',
    '... + redaction + contentHash (as captureMonitorMessage)': 'JSON.parse (Buffer: toString + parse)',
    'splitMonitorMessage alone (Buffer)': 'JSON.parse (Buffer: toString + parse)',
  };

  for (let w = 0; w < WARMUP_PASSES; w++) for (const name of names) passes[name]();
  const rates = new Map<Pass, number[]>(names.map((n) => [n, []]));
  // Rounds interleave the passes so drift in machine load hits them alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) rates.get(name)?.push(records / (timeMs(passes[name]) / 1000));
  }
  const medians = new Map(names.map((n) => [n, median(rates.get(n) ?? [])]));
  const rate = (n: Pass) => medians.get(n) as number;

  console.log(heading('3. Azure Monitor envelope parsing (one core, no I/O)'));
  const sizes = messages.map((m) => m.labels.length);
  const bySource = new Map<string, number>();
  for (const m of messages) bySource.set(m.source, (bySource.get(m.source) ?? 0) + 1);
  console.log(
    `  stream: ${int(messages.length)} Event Hubs messages (${[...bySource].map(([s, n]) => `${s} ${int(n)}`).join(', ')}), ` +
      `${int(records)} records, ${fixed(records / messages.length, 1)} records/message (${Math.min(...sizes)}-${Math.max(...sizes)}), ` +
      `${int(bytes / records)} bytes/record on average`,
  );
  console.log(`  ${int(splitRecords)} records split back out, ${invalid} refused as invalid; records by category, as normalized:`);
  const rows = [...outcomes].sort((a, b) => total(b[1]) - total(a[1]));
  console.log(
    table(
      ['category', 'records', 'share', 'projected', 'ignored'],
      rows.map(([label, c]) => [label, int(total(c)), `${fixed((100 * total(c)) / records, 1)}%`, int(c.projected), int(c.ignored)]),
    ),
  );
  console.log(
    `\n  ${WARMUP_PASSES} warm-up passes, then median of ${ROUNDS} rounds per path; rates are records/s, whole messages per call\n`,
  );
  console.log(
    table(
      ['path (message body -> ...)', 'records/s (median)', 'us/record', 'MB/s', 'cost vs JSON.parse of same input'],
      names.map((name) => [
        name,
        int(rate(name)),
        fixed(1e6 / rate(name), 2),
        fixed((rate(name) * bytes) / records / 1e6, 1),
        `${fixed(rate(baseline[name]) / rate(name), 1)}x`,
      ]),
    ),
  );
  const textCost = rate('JSON.parse (text)') / rate('split + normalize every record (text)');
  const bufferCost = rate('JSON.parse (Buffer: toString + parse)') / rate('split + normalize every record (Buffer)');
  const captureCost = rate('JSON.parse (Buffer: toString + parse)') / rate('... + redaction + contentHash (as captureMonitorMessage)');
  console.log('\n  (records/s, us/record and MB/s are MACHINE-DEPENDENT; the cost ratios much less so. captureEvent replaces caller');
  console.log('  identities by keyed hashes and hashes each record once, for its event-log id and its event id)');
  console.log(
    `\n  summary: split + normalize costs ${fixed(textCost, 1)}x JSON.parse on text bodies, ${fixed(bufferCost, 1)}x on Buffer bodies (${int(rate('split + normalize every record (Buffer)'))} records/s on one core); with captureMonitorMessage's hashing ${fixed(captureCost, 1)}x`,
  );
  if (sink === -1) console.log('unreachable'); // keeps the results observable so no pass is optimised away
}

function total(c: { projected: number; ignored: number; invalid: number }): number {
  return c.projected + c.ignored + c.invalid;
}
