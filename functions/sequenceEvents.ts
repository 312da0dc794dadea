import { timerFunction } from '../shared/api/app.js';
import { getServices } from '../shared/composition.js';
import { sequenceEvents } from '../shared/usecases/sequenceEvents.js';

/**
 * The evidence log's sequencer on its schedule (TLOG_SEQUENCE_SCHEDULE, default every 5 minutes):
 * the events logged since its last run become leaves and a signed checkpoint covers them. Runs at
 * the same time (a late timer and `POST /api/tlog/sequence`) are safe: one commits, the other
 * starts over from it. `runOnStartup` stays off: a scale-out must not trigger runs.
 */
export const sequenceEventsTimer = timerFunction('sequenceEvents', {
  schedule: '%TLOG_SEQUENCE_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  handler: async (timer, context) => {
    if (timer.isPastDue) context.log('sequenceEvents: running late (past due)');
    const result = await sequenceEvents((await getServices()).tlog.sequencer);
    context.log(
      `sequenceEvents: ${result.status}, ${result.sequenced} new leaves, tree size ${result.size}, ${result.commits} commits` +
        (result.mismatched.length > 0
          ? `; ${result.mismatched.length} bodies do not hash to their id: ${result.mismatched.join(', ')}`
          : ''),
    );
  },
});
