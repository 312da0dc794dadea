import { JsonQueue } from './jsonQueue.js';

/** What capture tells the closure stage: links are pending (the stage finds which in the graph). */
export interface ClosureNudge {
  newLinks: number;
  eventId: string;
}

/**
 * The closure stage's queue (CLOSURE_QUEUE), worked by maintainClosures: a nudge per event, or
 * per queued part of one, that stored new links.
 */
export interface ClosureSink {
  enqueue(messages: ClosureNudge[]): Promise<void>;
}

export class ClosureQueue extends JsonQueue<ClosureNudge> implements ClosureSink {}
