import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EventHubConsumerClient, type ReceivedEventData } from '@azure/event-hubs';
import cliProgress from 'cli-progress';
import { loadSettings } from '../../shared/config.js';
import { buildServices } from '../../shared/composition.js';
import type { CaptureDeps } from '../../shared/usecases/captureEvent.js';
import { captureMonitorMessage } from '../../shared/usecases/captureMonitorMessage.js';

/**
 * `npm run rewind -- --from ISO_TIME [--to ISO_TIME] [--partition N] [--consumer-group NAME]`
 *
 * Re-reads the events the hub still retains, enqueued from `--from` up to `--to` (both inclusive;
 * `--to` defaults to the moment rewind starts), through `@azure/event-hubs`, and captures them as
 * captureEventHub does, with the same delivery in provenance. Capture is idempotent, so a record
 * already in the graph changes nothing and rewind is safe to repeat. It reads with a consumer group
 * of its own (`rewind` by default): the running function app holds its own group's partitions.
 */
/** The consumer group rewind reads with unless told otherwise; the Azure template creates it. */
export const REWIND_CONSUMER_GROUP = 'rewind';

const USAGE = `Usage: npm run rewind -- --from ISO_TIME [--to ISO_TIME] [--partition N] [--consumer-group NAME]

Re-reads the Event Hubs hub's retained events (EVENTHUB_CONNECTION, or
EVENTHUB_CONNECTION__fullyQualifiedNamespace with a signed-in identity; hub EVENTHUB_NAME) enqueued
between --from and --to, and captures them into the stores named by the settings (as npm run replay).

  --from ISO_TIME         first enqueued time to re-read (inclusive), e.g. 2024-05-01T08:00:00Z
  --to ISO_TIME           last enqueued time to re-read (inclusive); default: now
  --partition N           only this partition; default: all
  --consumer-group NAME   consumer group to read with; default: rewind (the Azure template
                          and the local stand-in have it; elsewhere, create it on the hub)
  -h, --help              this text`;

export interface RewindOptions {
  from: Date;
  to: Date;
  partition?: string;
  consumerGroup: string;
}

export interface RewindSource {
  hub: string;
  /** A connection string, or a fully qualified namespace reached with DefaultAzureCredential. */
  connection?: string;
  namespace?: string;
}

export interface PartitionReport {
  events: number;
  records: number;
  projected: number;
  ignored: number;
  deadLettered: number;
  failed: number;
  firstSequenceNumber?: number;
  lastSequenceNumber?: number;
}

export interface RewindProgress {
  events: number;
  /** Events between each partition's first one in the window and its end (refined as partitions start). */
  total: number;
  records: number;
}

export async function rewindHub(
  capture: CaptureDeps,
  source: RewindSource,
  options: RewindOptions,
  onProgress: (progress: RewindProgress) => void = () => undefined,
): Promise<Record<string, PartitionReport>> {
  const client = source.connection
    ? new EventHubConsumerClient(options.consumerGroup, source.connection, source.hub)
    : new EventHubConsumerClient(
        options.consumerGroup,
        source.namespace as string,
        source.hub,
        new (await import('@azure/identity')).DefaultAzureCredential(),
      );
  try {
    const ids = options.partition !== undefined ? [options.partition] : await client.getPartitionIds();
    const windows = await Promise.all(
      ids.map(async (id) => {
        const p = await client.getPartitionProperties(id);
        // Nothing to read when the partition is empty or its newest event predates the window.
        const empty = p.isEmpty || p.lastEnqueuedOnUtc < options.from || p.beginningSequenceNumber > p.lastEnqueuedSequenceNumber;
        return { id, begin: p.beginningSequenceNumber, end: p.lastEnqueuedSequenceNumber, empty };
      }),
    );
    const progress: RewindProgress = { events: 0, records: 0, total: 0 };
    // Each partition counts its retained events until its window is known, then what it read.
    const counts = (share: number, next: number) => ((progress.total += next - share), next);
    onProgress(progress);
    const reports: Record<string, PartitionReport> = {};
    await Promise.all(
      windows.map(async (w) => {
        const report: PartitionReport = { events: 0, records: 0, projected: 0, ignored: 0, deadLettered: 0, failed: 0 };
        reports[w.id] = report;
        if (w.empty) return;
        let share = counts(0, w.end - w.begin + 1);
        await readPartition(client, w.id, options, w.end, async (event) => {
          if (report.firstSequenceNumber === undefined) {
            report.firstSequenceNumber = event.sequenceNumber;
            share = counts(share, w.end - event.sequenceNumber + 1);
          }
          report.lastSequenceNumber = event.sequenceNumber;
          const delivery = {
            partitionId: w.id,
            eventHubName: source.hub,
            sequenceNumber: event.sequenceNumber,
            offset: event.offset,
            enqueuedTime: event.enqueuedTimeUtc.toISOString(),
          };
          const result = await captureMonitorMessage(capture, bodyOf(event), delivery);
          report.events++;
          for (const k of ['records', 'projected', 'ignored', 'deadLettered', 'failed'] as const) report[k] += result[k];
          progress.events++;
          progress.records += result.records;
          onProgress(progress);
        });
        counts(share, report.events);
        onProgress(progress);
      }),
    );
    return reports;
  } finally {
    await client.close();
  }
}

/** Reads one partition from --from until --to or the end it had when rewind started. */
function readPartition(
  client: EventHubConsumerClient,
  partitionId: string,
  options: RewindOptions,
  endSequenceNumber: number,
  each: (event: ReceivedEventData) => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      void subscription.close().then(() => (error ? reject(error) : resolve()), reject);
    };
    const subscription = client.subscribe(
      partitionId,
      {
        processEvents: async (events) => {
          for (const event of events) {
            if (finished) return;
            if (event.sequenceNumber > endSequenceNumber || event.enqueuedTimeUtc > options.to) return finish();
            await each(event);
            if (event.sequenceNumber === endSequenceNumber) return finish();
          }
        },
        processError: (error) => {
          finish(new Error(`partition ${partitionId}: ${error.message}`));
          return Promise.resolve();
        },
      },
      {
        // The client's enqueued-time position is exclusive; --from is inclusive.
        startPosition: { enqueuedOn: new Date(options.from.getTime() - 1) },
        maxBatchSize: 100,
        maxWaitTimeInSeconds: 5,
        skipParsingBodyAsJson: true,
      },
    );
  });
}

/** The body as the Functions host hands it to captureEventHub: text, JSON-parsed when it is JSON. */
function bodyOf(event: ReceivedEventData): unknown {
  const raw: unknown = event.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : JSON.stringify(raw);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function parseRewindArgs(argv: string[], now: Date): RewindOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      partition: { type: 'string' },
      'consumer-group': { type: 'string', default: REWIND_CONSUMER_GROUP },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const time = (name: string, value: string | undefined): Date | undefined => {
    if (value === undefined) return undefined;
    const t = new Date(value);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t.getTime()))
      throw new Error(`--${name} must be an ISO 8601 time, got "${value}"`);
    return t;
  };
  const from = time('from', values.from);
  if (!from) throw new Error('--from is required (an ISO 8601 time, e.g. 2024-05-01T08:00:00Z)');
  const to = time('to', values.to) ?? now;
  if (to < from) throw new Error(`--to (${to.toISOString()}) is before --from (${from.toISOString()})`);
  if (values.partition !== undefined && !/^\d+$/.test(values.partition))
    throw new Error(`--partition must be a partition id (0, 1, ...), got "${values.partition}"`);
  return { from, to, consumerGroup: values['consumer-group'], ...(values.partition !== undefined ? { partition: values.partition } : {}) };
}

async function main(): Promise<void> {
  const options = parseRewindArgs(process.argv.slice(2), new Date());
  if (options === 'help') return void console.log(USAGE);
  const connection = process.env.EVENTHUB_CONNECTION || undefined;
  const namespace = process.env.EVENTHUB_CONNECTION__fullyQualifiedNamespace || undefined;
  if (!connection && !namespace)
    throw new Error('set EVENTHUB_CONNECTION (a connection string) or EVENTHUB_CONNECTION__fullyQualifiedNamespace');
  const hub = process.env.EVENTHUB_NAME || 'insights-logs-amlworkspace';
  const services = await buildServices(loadSettings());
  console.log(
    `rewinding hub ${hub} (consumer group ${options.consumerGroup}) from ${options.from.toISOString()} to ${options.to.toISOString()}` +
      (options.partition !== undefined ? `, partition ${options.partition}` : ''),
  );
  // Redrawn in place on a terminal; a line every few seconds in logs.
  const bar = new cliProgress.SingleBar(
    { format: 'rewind [{bar}] {value}/{total} events | {records} records', noTTYOutput: true, notTTYSchedule: 5000 },
    cliProgress.Presets.legacy,
  );
  bar.start(0, 0, { records: 0 });
  const started = Date.now();
  try {
    const partitions = await rewindHub(services.capture, { hub, connection, namespace }, options, (p) => {
      bar.setTotal(p.total);
      bar.update(p.events, { records: p.records });
    });
    bar.stop();
    const totals = Object.values(partitions).reduce(
      (t, p) => ({
        events: t.events + p.events,
        records: t.records + p.records,
        projected: t.projected + p.projected,
        ignored: t.ignored + p.ignored,
        deadLettered: t.deadLettered + p.deadLettered,
        failed: t.failed + p.failed,
      }),
      { events: 0, records: 0, projected: 0, ignored: 0, deadLettered: 0, failed: 0 },
    );
    console.log(
      JSON.stringify(
        { ...totals, partitions, seconds: (Date.now() - started) / 1000, cosmosRequests: services.meter.storeRequests },
        null,
        2,
      ),
    );
    if (totals.failed > 0) process.exitCode = 1;
  } finally {
    bar.stop();
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`rewind failed: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(1);
  });
}
