import { storageQueueFunction } from '../shared/api/app.js';
import { getServices } from '../shared/composition.js';
import { maintainClosures } from '../shared/usecases/closures.js';

/**
 * The closure stage: capture nudges this queue when an event stores new links, and each delivery
 * brings every pending link into the closures at once (the nudges of many events coalesce: a
 * delivery that finds nothing pending costs one query). A failed run throws and is redelivered;
 * its links stay pending, so lookups walk until a run succeeds.
 */
export const maintainClosuresFunction = storageQueueFunction('maintainClosures', {
  queueName: '%CLOSURE_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async (_message, context) => {
    const services = await getServices();
    const run = await maintainClosures(services.graph);
    if (run.links > 0)
      context.log(
        `closures: ${run.links} links in ${run.batches} batches, ${run.written} closure documents written, ${run.truncated} truncated`,
      );
  },
});
