import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { CHECKS, reportSchema } from '../shared/compliance/report.js';
import { complianceRun } from '../shared/compliance/complianceRun.js';

const instant = z.iso.datetime({ offset: true });

export const complianceRunRoute = route(
  {
    name: 'complianceRun',
    method: 'POST',
    route: 'compliance/run',
    summary: 'Run the compliance checks now and return the report',
    description:
      "Admin only. Runs the named checks (default: all) and returns when the report is written. `mode`: `incremental` (default) processes what changed since each check last ran; `full` recomputes from scratch; `window` re-checks documents changed between `since` and `until` without moving the checks' marks. 409 while another run of one of the checks is in progress; 503 also when another run of the same check committed first.",
    tags: ['compliance'],
    authLevel: 'admin',
    role: 'admin',
    // A report covers every workspace: an admin limited to some may not run it.
    allWorkspaces: true,
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
    responses: { 200: { description: 'The report written by this run', schema: reportSchema.meta({ id: 'ComplianceReport' }) } },
    // 409 while another run of one of the checks holds its lease.
    problems: ['run-in-progress'],
  },
  async ({ body, services, context }) => {
    const window = body.mode === 'window' ? { since: body.since as string, until: body.until as string } : undefined;
    return complianceRun(services.compliance, { checks: body.checks, mode: body.mode, window, trigger: 'http:compliance/run' }, (line) =>
      context.log(line),
    );
  },
);
