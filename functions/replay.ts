import { app } from '@azure/functions';
import { z } from 'zod';
import { defineRoute, httpRoute } from '../shared/api/route.js';
import { problemSchema } from '../shared/api/schemas.js';
import { replay } from '../shared/usecases/replay.js';
import { DomainError } from '../shared/errors.js';

export const replayRoute = defineRoute({
  name: 'replay',
  method: 'POST',
  route: 'replay',
  summary: 'Re-project the raw event log and re-process dead letters',
  description: 'Admin only. Bounded by the HTTP time limit; for large logs use `npm run replay`, which has none.',
  tags: ['operations'],
  authLevel: 'admin',
  role: 'admin',
  body: z.object({ events: z.boolean().default(true), deadLetters: z.boolean().default(true) }).strict(),
  responses: {
    200: {
      description: 'What was replayed',
      schema: z.object({
        events: z.object({ replayed: z.number(), projected: z.number(), ignored: z.number(), deadLettered: z.number() }),
        deadLetters: z.object({ retried: z.number(), resolved: z.number(), stillFailing: z.number() }),
      }),
    },
    400: { description: 'Invalid body', schema: problemSchema },
    403: { description: 'Not an admin', schema: problemSchema },
  },
});

export const replayHandler = httpRoute(replayRoute, async ({ body, services, context, scope }) => {
  // Replay touches every workspace's evidence: an admin limited to some workspaces may not run it.
  if (scope !== null)
    throw new DomainError('forbidden', 'Replay covers every workspace; it needs Lineage.Admin without a workspace limit.');
  const report = await replay(services.capture, body);
  context.log(`replay: ${JSON.stringify(report)}`);
  return report;
});

app.http('replay', { route: 'replay', methods: ['POST'], authLevel: 'admin', handler: replayHandler });
