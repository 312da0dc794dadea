import { storageQueueFunction } from '../shared/api/app.js';
import { getServices } from '../shared/composition.js';
import { workFanOutPart } from '../shared/usecases/fanOut.js';

/**
 * Works the fan-out queue: one part of an event's graph work that capture queued instead of
 * doing inline (an event naming thousands of models). Transient failures throw, so the queue
 * redelivers; on the last delivery, or for parts no delivery can project, the part goes to the
 * dead-letter store with its reason, replayable once fixed.
 */
export const projectFanOutPart = storageQueueFunction('projectFanOutPart', {
  queueName: '%FANOUT_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const services = await getServices();
    const dequeueCount = Number((context.triggerMetadata as { dequeueCount?: unknown } | undefined)?.dequeueCount ?? 1);
    const outcome = await workFanOutPart(services.capture, message, { dequeueCount, maxAttempts: services.settings.FANOUT_MAX_ATTEMPTS });
    if (outcome.status === 'dead-lettered') context.warn(`dead-lettered fan-out part: ${outcome.reason}`);
    else context.log(`projected fan-out part: ${JSON.stringify(outcome.writes)}`);
  },
});
