import { z } from 'zod';
import { refParam, route, workspaceParam } from '../shared/api/route.js';
import { nodeSchema } from '../shared/api/schemas.js';
import { metricHistory } from '../shared/usecases/metricHistory.js';

export const metricHistoryRoute = route(
  {
    name: 'metricHistory',
    method: 'GET',
    route: 'metrics/history',
    summary: 'Every logged value of one metric of a job’s MLflow run',
    description:
      'Enrichment keeps the latest value of each metric; this asks the workspace’s MLflow tracking server for the whole series (metrics/get-history, every page), logs the answer raw as evidence and records it on the job. `ref` names a job or a model version (its producing job). A finished run’s history is fetched once, then answered from the graph (`fetched: false`).',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({
      ref: refParam,
      metric: z.string().trim().min(1).max(250).describe('the metric key as logged, e.g. log_loss'),
      workspace: workspaceParam,
    }),
    responses: {
      200: {
        description: 'The values by step, and the evidence hash',
        schema: z.object({
          job: nodeSchema,
          metric: z.string(),
          values: z.array(z.object({ value: z.number(), step: z.number().optional(), timestamp: z.number().optional() })),
          hash: z.string(),
          fetched: z.boolean(),
        }),
      },
    },
    problems: ['invalid-ref', 'not-found', 'ambiguous-ref', 'not-configured'],
  },
  ({ query, services, scope }) => metricHistory(services.enrich, { ...query, scope }),
);
