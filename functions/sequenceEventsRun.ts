import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { sequenceEvents } from '../shared/usecases/sequenceEvents.js';

export const sequenceEventsRunRoute = route(
  {
    name: 'sequenceEventsRun',
    method: 'POST',
    route: 'tlog/sequence',
    summary: 'Sequence the logged raw events into the evidence log now and sign a checkpoint',
    description:
      'Admin only. What the `sequenceEvents` timer does on its schedule: every raw event logged since the last run becomes a leaf, then a checkpoint of the grown tree is signed. `mismatched` lists events whose stored body does not hash to their id: they are not sequenced, and the integrity check reports them.',
    tags: ['audit'],
    authLevel: 'admin',
    role: 'admin',
    // The log spans every workspace's events.
    allWorkspaces: true,
    responses: {
      200: {
        description: 'What this run did',
        schema: z.object({
          status: z.enum(['sequenced', 'idle', 'superseded']),
          sequenced: z.number().int(),
          size: z.number().int(),
          checkpoint: z.object({ size: z.number().int(), note: z.string() }).optional(),
          mismatched: z.array(z.string()),
          unreadable: z.array(z.string()),
          purged: z.number().int(),
          commits: z.number().int(),
        }),
      },
    },
  },
  async ({ services, context }) => {
    const result = await sequenceEvents(services.tlog.sequencer);
    context.log(`sequenceEventsRun: ${result.status}, ${result.sequenced} new leaves, tree size ${result.size}`);
    return result;
  },
);
