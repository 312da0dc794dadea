import type { QueueClient } from '@azure/storage-queue';
import { mapLimited } from '../util/mapLimited.js';
import { storeCall } from './storeErrors.js';

/** Sends in flight at once: an event's hundreds of fan-out parts go out in a second or two. */
const SEND_CONCURRENCY = 16;

/**
 * A Storage queue of JSON messages, base64-encoded (the queue trigger's default encoding), so
 * the work behind them runs later, retried and dead-lettered by its trigger.
 */
export class JsonQueue<T> {
  constructor(readonly client: QueueClient) {}

  async ensure(): Promise<void> {
    await storeCall(`creating the queue ${this.client.name}`, () => this.client.createIfNotExists());
  }

  async enqueue(messages: readonly T[]): Promise<void> {
    await mapLimited(messages, SEND_CONCURRENCY, (message) =>
      storeCall(`enqueueing to ${this.client.name}`, () =>
        this.client.sendMessage(Buffer.from(JSON.stringify(message), 'utf8').toString('base64')),
      ),
    );
  }
}
