import { eventGridFunction } from '../shared/api/app.js';
import { getServices } from '../shared/composition.js';
import { captureEvent } from '../shared/usecases/captureEvent.js';

/**
 * Azure ML system events from the workspace's Event Grid system topic, in the Event Grid schema
 * or CloudEvents 1.0. The trigger hands over one event per invocation; batches are split by the
 * host. Throwing fails the delivery and Event Grid retries it; refused events complete normally.
 */
export const captureEventGrid = eventGridFunction('captureEventGrid', {
  handler: async (event, context) => {
    const services = await getServices();
    const outcome = await captureEvent(services.capture, event, { channel: 'eventgrid' });
    const queued = outcome.status === 'projected' && outcome.queuedParts > 0 ? `, ${outcome.queuedParts} parts queued` : '';
    const summary = `${outcome.status} ${outcome.eventType ?? '(unknown type)'} id=${outcome.eventId ?? '(none)'} hash=${outcome.hash}${outcome.duplicate ? ' (duplicate)' : ''}${queued}`;
    if (outcome.status === 'dead-lettered') context.warn(`${summary}: ${outcome.reason}`);
    else context.log(summary);
  },
});
