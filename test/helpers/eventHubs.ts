import { createHmac } from 'node:crypto';
import { EventHubConsumerClient, type EventPosition, type ReceivedEventData } from '@azure/event-hubs';

/**
 * Reads one partition with the real consumer client until `count` events arrived (or the time is
 * up), and returns them with any error the subscription reported.
 */
export async function receive(
  connectionString: string,
  hub: string,
  partitionId: string,
  startPosition: EventPosition,
  count: number,
  options: { timeoutMs?: number; consumerGroup?: string; ownerLevel?: number } = {},
): Promise<{ events: ReceivedEventData[]; errors: Error[] }> {
  const client = new EventHubConsumerClient(options.consumerGroup ?? '$Default', connectionString, hub, {
    retryOptions: { maxRetries: 0 },
  });
  const events: ReceivedEventData[] = [];
  const errors: Error[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const timer = setTimeout(done, options.timeoutMs ?? 5_000);
  const subscription = client.subscribe(
    partitionId,
    {
      processEvents: (batch) => {
        events.push(...batch);
        if (events.length >= count) done();
        return Promise.resolve();
      },
      processError: (error) => {
        errors.push(error);
        done();
        return Promise.resolve();
      },
    },
    { startPosition, maxWaitTimeInSeconds: 1, ...(options.ownerLevel !== undefined ? { ownerLevel: options.ownerLevel } : {}) },
  );
  await finished;
  clearTimeout(timer);
  await subscription.close();
  await client.close();
  return { events, errors };
}

/** A shared access signature as Event Hubs defines it, for tests that bring their own token. */
export function sasToken(resource: string, keyName: string, key: string, expiresAtSeconds: number): string {
  const sr = encodeURIComponent(resource);
  const sig = encodeURIComponent(createHmac('sha256', key).update(`${sr}\n${expiresAtSeconds}`).digest('base64'));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expiresAtSeconds}&skn=${encodeURIComponent(keyName)}`;
}
