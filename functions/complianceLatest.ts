import { route } from '../shared/api/route.js';
import { reportSchema } from '../shared/compliance/report.js';
import { latestReport } from '../shared/compliance/runCompliance.js';
import { DomainError } from '../shared/errors.js';

export const complianceLatestRoute = route(
  {
    name: 'complianceLatest',
    method: 'GET',
    route: 'compliance/latest',
    summary: 'The newest compliance report (Q9, Q6)',
    description:
      'Sections `lineageCompleteness`, `deploymentTraceability`, `driftAttribution`, `retention` and `pii`, each with `numerator`, `denominator`, `ratio` (null when there is nothing to measure) and `items`. The human-readable HTML with the trend chart sits beside the JSON in Blob Storage under `reports/{yyyy}/{mm}/{dd}/{runId}.html`. 404 until a compliance run has finished.',
    tags: ['compliance'],
    authLevel: 'function',
    role: 'auditor',
    // A report covers every workspace.
    allWorkspaces: true,
    responses: { 200: { description: 'The newest report', schema: reportSchema.meta({ id: 'ComplianceReport' }) } },
    problems: ['not-found'],
  },
  async ({ services }) => {
    const report = await latestReport(services.compliance.blobs);
    if (!report)
      throw new DomainError(
        'not-found',
        'No compliance report yet: the timers have not run. POST /api/compliance/run (admin) runs the checks now.',
      );
    return report;
  },
);
