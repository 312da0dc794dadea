import { z } from 'zod';
import { route, workspaceParam } from '../shared/api/route.js';
import { asOfAnswerSchema } from '../shared/api/schemas.js';
import { lineageAsOf } from '../shared/usecases/asOf.js';

export const lineageAsOfRoute = route(
  {
    name: 'lineageAsOf',
    method: 'GET',
    route: 'lineage/as-of',
    summary: 'Which deployments and model versions served an endpoint at a moment (Q2)',
    description:
      'Answers from the latest traffic-share and deployment-model observations at or before `at`, with the upstream of each model.',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({
      endpoint: z.string().trim().min(1, 'required: the ARM id of an online or batch endpoint, or its name').max(2048),
      workspace: workspaceParam,
      at: z.string().trim().min(1, 'required: an ISO 8601 date-time').max(64),
      depth: z.coerce.number().int('must be a whole number').min(1).max(25).default(3),
    }),
    responses: { 200: { description: 'What served the endpoint', schema: asOfAnswerSchema } },
    problems: ['invalid-ref', 'ambiguous-ref', 'not-found'],
  },
  ({ query, services, scope }) => lineageAsOf(services.graph, { ...query, maxNodes: services.settings.LINEAGE_MAX_NODES, scope }),
);
