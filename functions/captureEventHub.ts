import { eventHubFunction } from '../shared/api/app.js';
import { getServices } from '../shared/composition.js';
import { captureMonitorMessage } from '../shared/usecases/captureMonitorMessage.js';

/**
 * The workspace's resource logs and the Activity Log, streamed by diagnostic settings to Event
 * Hubs as `{"records": [...]}` messages. Records are captured one by one, with the partition,
 * sequence number, offset and enqueued time in their provenance; a record the stores refuse is
 * dead-lettered. The function throws only when a record could be stored nowhere: the retry policy
 * below then re-runs the batch (capture is idempotent) while the partition waits. Once the retries
 * are spent the host checkpoints past the batch anyway (an Event Hubs trigger never holds a
 * partition), so the last failure names the positions `npm run rewind` re-reads from the hub.
 */
interface EventHubMetadata {
  partitionContext?: { partitionId?: string; eventHubName?: string; consumerGroup?: string };
  sequenceNumberArray?: Array<string | number>;
  offsetArray?: Array<string | number>;
  enqueuedTimeUtcArray?: string[];
}

export const captureEventHub = eventHubFunction('captureEventHub', {
  eventHubName: '%EVENTHUB_NAME%',
  connection: 'EVENTHUB_CONNECTION',
  // A consumer group of our own: readers sharing $Default would split or steal the partitions.
  consumerGroup: '%EVENTHUB_CONSUMER_GROUP%',
  cardinality: 'many',
  retry: { strategy: 'exponentialBackoff', maxRetryCount: 5, minimumInterval: { seconds: 10 }, maximumInterval: { minutes: 5 } },
  handler: async (messages, context) => {
    const services = await getServices();
    const meta = (context.triggerMetadata ?? {}) as EventHubMetadata;
    const batch = Array.isArray(messages) ? messages : [messages];
    const totals = { records: 0, projected: 0, ignored: 0, deadLettered: 0, failed: 0 };
    const ignoredByCategory: Record<string, number> = {};
    const errors: string[] = [];
    for (const [i, message] of batch.entries()) {
      const delivery = {
        partitionId: meta.partitionContext?.partitionId,
        eventHubName: meta.partitionContext?.eventHubName,
        sequenceNumber: meta.sequenceNumberArray?.[i],
        offset: meta.offsetArray?.[i],
        enqueuedTime: meta.enqueuedTimeUtcArray?.[i],
      };
      const report = await captureMonitorMessage(
        services.capture,
        message,
        Object.fromEntries(Object.entries(delivery).filter(([, v]) => v !== undefined)),
      );
      for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += report[k];
      for (const [category, n] of Object.entries(report.ignoredByCategory))
        ignoredByCategory[category] = (ignoredByCategory[category] ?? 0) + n;
      errors.push(...report.errors);
    }
    context.log(
      `captured ${batch.length} messages: ${JSON.stringify(totals)}${Object.keys(ignoredByCategory).length ? ` ignored by category ${JSON.stringify(ignoredByCategory)}` : ''}`,
    );
    if (totals.failed > 0) {
      const retry = context.retryContext;
      const last = retry !== undefined && retry.maxRetryCount !== -1 && retry.retryCount >= retry.maxRetryCount;
      throw new Error(
        `${totals.failed} records could not be stored (${positions(meta, batch.length)}): ${errors.slice(0, 3).join(' | ')}` +
          (last ? `; the host now checkpoints past them: ${rewindHint(meta, batch.length)}` : ''),
      );
    }
  },
});

function positions(meta: EventHubMetadata, count: number): string {
  const seq = meta.sequenceNumberArray ?? [];
  return `partition ${meta.partitionContext?.partitionId ?? '?'}, sequence numbers ${String(seq[0] ?? '?')}-${String(seq[count - 1] ?? '?')}`;
}

function rewindHint(meta: EventHubMetadata, count: number): string {
  const times = meta.enqueuedTimeUtcArray ?? [];
  const from = times[0];
  const to = times[count - 1];
  if (from === undefined || to === undefined) return 're-read them with npm run rewind';
  return `re-read them with npm run rewind -- --from ${from} --to ${to} --partition ${meta.partitionContext?.partitionId ?? '0'}`;
}
