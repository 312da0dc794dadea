import { app } from '@azure/functions';
import { defineRoute, httpRoute } from '../shared/api/route.js';
import { problemSchema } from '../shared/api/schemas.js';
import { reportSchema } from '../shared/compliance/report.js';
import { latestReport } from '../shared/compliance/runCompliance.js';
import { DomainError } from '../shared/errors.js';

export const complianceLatestRoute = defineRoute({
  name: 'complianceLatest',
  method: 'GET',
  route: 'compliance/latest',
  summary: 'The newest compliance report (Q9, Q6)',
  description:
    'Sections `lineageCompleteness`, `deploymentTraceability`, `driftAttribution`, `retention` and `pii`, each with `numerator`, `denominator`, `ratio` (null when there is nothing to measure) and `items`. The human-readable HTML with the trend chart sits beside the JSON in Blob Storage under `reports/{yyyy}/{mm}/{dd}/{runId}.html`.',
  tags: ['compliance'],
  authLevel: 'function',
  role: 'auditor',
  responses: {
    200: { description: 'The newest report', schema: reportSchema.meta({ id: 'ComplianceReport' }) },
    403: { description: 'Not an auditor of every workspace', schema: problemSchema },
    404: { description: 'No compliance run has finished yet', schema: problemSchema },
  },
});

export const complianceLatestHandler = httpRoute(complianceLatestRoute, async ({ services, scope }) => {
  if (scope !== null)
    throw new DomainError('forbidden', 'Compliance reports cover every workspace; they need Lineage.Auditor without a workspace limit.');
  const report = await latestReport(services.compliance.blobs);
  if (!report)
    throw new DomainError(
      'not-found',
      'No compliance report yet: the timers have not run. POST /api/compliance/run (admin) runs the checks now.',
    );
  return report;
});

app.http('complianceLatest', { route: 'compliance/latest', methods: ['GET'], authLevel: 'function', handler: complianceLatestHandler });
