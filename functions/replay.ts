import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { replay } from '../shared/usecases/replay.js';

export const replayRoute = route(
  {
    name: 'replay',
    method: 'POST',
    route: 'replay',
    summary: 'Re-project the raw event log and re-process dead letters',
    description:
      'Admin only. Bounded by the HTTP time limit; for large logs use `npm run replay`, which has none. A logged event whose body does not hash to its id is refused: dead-lettered as an integrity failure (`integrityFailures`), never projected or logged again.',
    tags: ['operations'],
    authLevel: 'admin',
    role: 'admin',
    // Replay touches every workspace's evidence: an admin limited to some workspaces may not run it.
    allWorkspaces: true,
    body: z.object({ events: z.boolean().default(true), deadLetters: z.boolean().default(true) }).strict(),
    responses: {
      200: {
        description: 'What was replayed',
        schema: z.object({
          events: z.object({
            replayed: z.number(),
            projected: z.number(),
            ignored: z.number(),
            deadLettered: z.number(),
            integrityFailures: z.number(),
          }),
          deadLetters: z.object({ retried: z.number(), resolved: z.number(), stillFailing: z.number() }),
        }),
      },
    },
  },
  async ({ body, services, context }) => {
    const report = await replay(services.capture, body);
    context.log(`replay: ${JSON.stringify(report)}`);
    return report;
  },
);
