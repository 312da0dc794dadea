import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { SECTIONS } from '../shared/compliance/report.js';
import { trendHistory } from '../shared/compliance/runCompliance.js';

const trendSchema = z
  .object({
    points: z.array(
      z.object({
        runId: z.string(),
        generatedAt: z.string(),
        ratios: z.object(
          Object.fromEntries(SECTIONS.map((s) => [s, z.number().nullable()])) as Record<
            (typeof SECTIONS)[number],
            z.ZodNullable<z.ZodNumber>
          >,
        ),
      }),
    ),
  })
  .meta({ id: 'ComplianceTrend' });

export const complianceTrendRoute = route(
  {
    name: 'complianceTrend',
    method: 'GET',
    route: 'compliance/trend',
    summary: 'Every section’s ratio over past compliance runs',
    description:
      'The points the report’s trend chart draws, oldest first (the last 400 runs): each run’s id, time and ratio per section (null when there was nothing to measure). The explorer’s compliance view reads it.',
    tags: ['compliance'],
    authLevel: 'function',
    role: 'auditor',
    // The trend covers every workspace, like the reports.
    allWorkspaces: true,
    responses: { 200: { description: 'The trend', schema: trendSchema } },
  },
  async ({ services }) => ({ points: await trendHistory(services.compliance.blobs) }),
);
