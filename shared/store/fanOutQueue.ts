import type { FanOutPart } from '../ingest/fanOutMessage.js';
import { JsonQueue } from './jsonQueue.js';

/**
 * The parts of an event's graph work beyond what capture projects inline (graph/split.ts), worked
 * by projectFanOutPart, so the webhook answers in time whatever the number of links.
 */
export interface FanOutSink {
  enqueue(parts: FanOutPart[]): Promise<void>;
}

export class FanOutQueue extends JsonQueue<FanOutPart> implements FanOutSink {}
