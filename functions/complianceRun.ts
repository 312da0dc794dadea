import { app } from '@azure/functions';
import { z } from 'zod';
import { defineRoute, httpRoute } from '../shared/api/route.js';
import { problemSchema } from '../shared/api/schemas.js';
import { CHECKS, reportSchema } from '../shared/compliance/report.js';
import { DomainError } from '../shared/errors.js';
import { complianceRun } from '../shared/usecases/compliance.js';

const instant = z.iso.datetime({ offset: true });

export const complianceRunRoute = defineRoute({
  name: 'complianceRun',
  method: 'POST',
  route: 'compliance/run',
  summary: 'Run the compliance checks now and return the report',
  description:
    "Admin only. Runs the named checks (default: all) and returns when the report is written. `mode`: `incremental` (default) processes what changed since each check last ran; `full` recomputes from scratch; `window` re-checks documents changed between `since` and `until` without moving the checks' marks.",
  tags: ['compliance'],
  authLevel: 'admin',
  role: 'admin',
  body: z
    .object({
      checks: z.array(z.enum(CHECKS)).min(1).optional(),
      mode: z.enum(['incremental', 'full', 'window']).default('incremental'),
      since: instant.optional(),
      until: instant.optional(),
    })
    .strict()
    .refine((b) => b.mode !== 'window' || (b.since !== undefined && b.until !== undefined && Date.parse(b.since) <= Date.parse(b.until)), {
      message: 'mode "window" needs since <= until',
      path: ['since'],
    }),
  responses: {
    200: { description: 'The report written by this run', schema: reportSchema.meta({ id: 'ComplianceReport' }) },
    400: { description: 'Invalid body', schema: problemSchema },
    403: { description: 'Not an admin of every workspace', schema: problemSchema },
    503: { description: 'A store is unavailable, or another run of the same check committed first', schema: problemSchema },
  },
});

export const complianceRunHandler = httpRoute(complianceRunRoute, async ({ body, services, context, scope }) => {
  // A report covers every workspace: an admin limited to some may not run it.
  if (scope !== null)
    throw new DomainError('forbidden', 'Compliance runs cover every workspace; they need Lineage.Admin without a workspace limit.');
  const window = body.mode === 'window' ? { since: body.since as string, until: body.until as string } : undefined;
  return complianceRun(services, { checks: body.checks, mode: body.mode, window, trigger: 'http:compliance/run' }, (line) =>
    context.log(line),
  );
});

app.http('complianceRun', { route: 'compliance/run', methods: ['POST'], authLevel: 'admin', handler: complianceRunHandler });
