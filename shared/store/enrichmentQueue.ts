import type { QueueClient } from '@azure/storage-queue';
import type { EnrichmentMessage } from '../ingest/enrichmentMessage.js';
import { storeCall } from './storeErrors.js';

/**
 * Enrichment is decoupled from capture through a Storage queue, so a slow, throttled or failing
 * REST API delays lineage and never loses it. Messages are base64 JSON, the queue trigger's
 * default encoding.
 */
export interface EnrichmentSink {
  enqueue(messages: EnrichmentMessage[]): Promise<void>;
}

export class EnrichmentQueue implements EnrichmentSink {
  constructor(readonly client: QueueClient) {}

  async ensure(): Promise<void> {
    await storeCall(`creating the queue ${this.client.name}`, () => this.client.createIfNotExists());
  }

  async enqueue(messages: EnrichmentMessage[]): Promise<void> {
    for (const message of messages) {
      await storeCall(`enqueueing to ${this.client.name}`, () =>
        this.client.sendMessage(Buffer.from(JSON.stringify(message), 'utf8').toString('base64')),
      );
    }
  }
}
