// A tiny function app used only by the local host's timer test: a timer that fires every second
// and an HTTP function that reports how often it fired and what the trigger received.
import { app } from '@azure/functions';

let fired = 0;
let lastTimer = null;

app.timer('tick', {
  schedule: '%TICK_SCHEDULE%',
  handler: (timer) => {
    fired += 1;
    lastTimer = timer;
  },
});

app.http('ticks', { route: 'ticks', methods: ['GET'], authLevel: 'anonymous', handler: () => ({ jsonBody: { fired, lastTimer } }) });
