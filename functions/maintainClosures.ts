import { storageQueueFunction } from '../shared/api/app.js';
import { getServices } from '../shared/composition.js';
import { runClosureStage } from '../shared/usecases/closureStage.js';

/**
 * The closure stage: capture nudges this queue when an event stores new links, and each delivery
 * brings every pending link into the closures at once (the nudges of many events coalesce: a
 * delivery that finds nothing pending costs one query). A failed run throws and is redelivered;
 * its links stay pending, so lookups walk until a run succeeds. Runs go one at a time
 * (runClosureStage says why).
 */
export const maintainClosuresFunction = storageQueueFunction('maintainClosures', {
  queueName: '%CLOSURE_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async (_message, context) => {
    const services = await getServices();
    // One run at a time (a blob lease beside the compliance checks' own); a busy stage picks these links up.
    const run = await runClosureStage(services.graph, services.compliance.blobs);
    if (run.busy) context.log('closures: another run holds the stage; it takes these links');
    else if (run.links > 0) context.log(`closures: ${run.links} links in ${run.batches} batches, ${run.written} closures written`);
  },
});
