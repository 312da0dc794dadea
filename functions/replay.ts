import { z } from 'zod';
import { acceptedAnswer, answerOperation, waitQuery } from '../shared/api/operations.js';
import { route } from '../shared/api/route.js';
import { startOperation } from '../shared/operations/operations.js';

const replayReportSchema = z.object({
  events: z.object({
    replayed: z.number(),
    projected: z.number(),
    ignored: z.number(),
    deadLettered: z.number(),
    integrityFailures: z.number(),
  }),
  deadLetters: z.object({ retried: z.number(), resolved: z.number(), stillFailing: z.number() }),
});

export const replayRoute = route(
  {
    name: 'replay',
    method: 'POST',
    route: 'replay',
    summary: 'Re-project the raw event log and re-process dead letters',
    description:
      'Admin only. Queues the replay and answers 202 with a `Location` to poll (GET /api/operations/{id}); with `?wait=SECONDS` it answers with the report when done within that time. `npm run replay` runs it in a terminal instead. A logged event whose body does not hash to its id is refused: dead-lettered as an integrity failure (`integrityFailures`), never projected or logged again.',
    tags: ['operations'],
    authLevel: 'admin',
    role: 'admin',
    // Replay touches every workspace's evidence: an admin limited to some workspaces may not run it.
    allWorkspaces: true,
    query: waitQuery,
    body: z.object({ events: z.boolean().default(true), deadLetters: z.boolean().default(true) }).strict(),
    responses: { 200: { description: 'What was replayed (with `?wait`)', schema: replayReportSchema }, 202: acceptedAnswer },
  },
  async ({ body, query, services, request }) => {
    const op = await startOperation(services.operations, 'replay', body);
    return answerOperation(op, { wait: query.wait, services, request, result: replayReportSchema });
  },
);
