import { z } from 'zod';
import { acceptedAnswer, answerOperation, waitQuery } from '../shared/api/operations.js';
import { route } from '../shared/api/route.js';
import { CHECKS, reportSchema } from '../shared/compliance/report.js';
import { startOperation } from '../shared/operations/operations.js';

const instant = z.iso.datetime({ offset: true });

export const complianceRunRoute = route(
  {
    name: 'complianceRun',
    method: 'POST',
    route: 'compliance/run',
    summary: 'Run the compliance checks now',
    description:
      "Admin only. Queues a run of the named checks (default: all) and answers 202 with a `Location` to poll (GET /api/operations/{id}); with `?wait=SECONDS` it answers with the report when written within that time. A first run over a large graph can take longer than Azure lets an HTTP request last (230 s). `mode`: `incremental` (default) processes what changed since each check last ran; `full` recomputes from scratch; `window` re-checks documents changed between `since` and `until` without moving the checks' marks. A run that loses to another run of the same check committing first is delivered again and continues from the winner's marks.",
    tags: ['compliance'],
    authLevel: 'admin',
    role: 'admin',
    // A report covers every workspace: an admin limited to some may not run it.
    allWorkspaces: true,
    query: waitQuery,
    body: z
      .object({
        checks: z.array(z.enum(CHECKS)).min(1).optional(),
        mode: z.enum(['incremental', 'full', 'window']).default('incremental'),
        since: instant.optional(),
        until: instant.optional(),
      })
      .strict()
      .refine(
        (b) => b.mode !== 'window' || (b.since !== undefined && b.until !== undefined && Date.parse(b.since) <= Date.parse(b.until)),
        { message: 'mode "window" needs since <= until', path: ['since'] },
      ),
    responses: {
      200: { description: 'The report written by this run (with `?wait`)', schema: reportSchema.meta({ id: 'ComplianceReport' }) },
      202: acceptedAnswer,
    },
    // 409 while another run of one of the checks holds its lease.
    problems: ['run-in-progress'],
  },
  async ({ body, query, services, request }) => {
    const window = body.mode === 'window' ? { since: body.since as string, until: body.until as string } : undefined;
    const op = await startOperation(services.operations, 'compliance-run', { checks: body.checks, mode: body.mode, window });
    return answerOperation(op, { wait: query.wait, services, request, result: reportSchema });
  },
);
