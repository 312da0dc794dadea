import { timerFunction } from '../shared/api/app.js';
import { reconcile } from '../shared/compliance/reconcile.js';
import { getServices } from '../shared/composition.js';

/**
 * Reads what serves again on its schedule (RECONCILE_SCHEDULE, default every 30 minutes): every
 * endpoint and deployment, and unfinished jobs and never-fetched nodes whose latest observation is
 * older than RECONCILE_OLDER_THAN_HOURS, through the enrichment queue. What changed becomes an
 * observation; the compliance `freshness` section reports how old our latest one is.
 * `runOnStartup` stays off: a scale-out must not trigger runs.
 */
export const reconcileServingTimer = timerFunction('reconcileServing', {
  schedule: '%RECONCILE_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  handler: async (timer, context) => {
    if (timer.isPastDue) context.log('reconcileServing: running late (past due)');
    const services = await getServices();
    const outcome = await reconcile({
      graph: services.graph,
      enrichments: services.enrichmentQueue,
      now: () => new Date(),
      olderThanHours: services.settings.RECONCILE_OLDER_THAN_HOURS,
    });
    const queued = Object.entries(outcome.queued).map(([kind, n]) => `${n} ${kind}`);
    context.log(`reconcileServing: ${outcome.considered} nodes considered, queued ${queued.length > 0 ? queued.join(', ') : 'nothing'}`);
  },
});
