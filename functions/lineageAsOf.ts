import { app } from '@azure/functions';
import { z } from 'zod';
import { defineRoute, httpRoute } from '../shared/api/route.js';
import { asOfAnswerSchema, problemSchema } from '../shared/api/schemas.js';
import { servedAt } from '../shared/usecases/asOf.js';

export const lineageAsOfRoute = defineRoute({
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
    endpoint: z.string().trim().min(1, 'required: the ARM id of an online endpoint').max(2048),
    at: z.string().trim().min(1, 'required: an ISO 8601 date-time').max(64),
    depth: z.coerce.number().int('must be a whole number').min(1).max(25).default(3),
  }),
  responses: {
    200: { description: 'What served the endpoint', schema: asOfAnswerSchema },
    400: { description: 'Invalid query', schema: problemSchema },
    404: { description: 'Unknown endpoint', schema: problemSchema },
  },
});

export const lineageAsOf = httpRoute(lineageAsOfRoute, ({ query, services, scope }) =>
  servedAt(services.graph, { ...query, maxNodes: services.settings.LINEAGE_MAX_NODES, scope }),
);

app.http('lineageAsOf', { route: 'lineage/as-of', methods: ['GET'], authLevel: 'function', handler: lineageAsOf });
