import type { EnrichmentMessage } from '../ingest/enrichmentMessage.js';
import { JsonQueue } from './jsonQueue.js';

/**
 * Enrichment is decoupled from capture through a Storage queue, so a slow, throttled or failing
 * REST API delays lineage and never loses it.
 */
export interface EnrichmentSink {
  enqueue(messages: EnrichmentMessage[]): Promise<void>;
}

export class EnrichmentQueue extends JsonQueue<EnrichmentMessage> implements EnrichmentSink {}
