import type { QueueClient } from '@azure/storage-queue';
import type { EnrichmentMessage } from '../ingest/enrichmentMessage.js';
import { storeCall } from './storeErrors.js';

/**
 * Work decoupled from capture through Storage queues, so a slow, throttled or failing stage
 * delays lineage and never loses it. Messages are base64 JSON, the queue trigger's default
 * encoding.
 */
export class JsonQueue<T> {
  constructor(readonly client: QueueClient) {}

  async ensure(): Promise<void> {
    await storeCall(`creating the queue ${this.client.name}`, () => this.client.createIfNotExists());
  }

  async enqueue(messages: T[]): Promise<void> {
    for (const message of messages) {
      await storeCall(`enqueueing to ${this.client.name}`, () =>
        this.client.sendMessage(Buffer.from(JSON.stringify(message), 'utf8').toString('base64')),
      );
    }
  }
}

/** Enrichment: REST fetches an event asks for. */
export interface EnrichmentSink {
  enqueue(messages: EnrichmentMessage[]): Promise<void>;
}

export class EnrichmentQueue extends JsonQueue<EnrichmentMessage> implements EnrichmentSink {}

/** What capture tells the closure stage: links are pending (the stage finds which in the graph). */
export interface ClosureNudge {
  newLinks: number;
  eventId: string;
}

/** The closure stage's queue (CLOSURE_QUEUE): a nudge per event that stored new links. */
export interface ClosureSink {
  enqueue(messages: ClosureNudge[]): Promise<void>;
}

export class ClosureQueue extends JsonQueue<ClosureNudge> implements ClosureSink {}
