import { app } from '@azure/functions';
import { z } from 'zod';
import { defineRoute, httpRoute } from '../shared/api/route.js';
import { problemSchema, requestAnswerSchema } from '../shared/api/schemas.js';
import { lookupRequest } from '../shared/usecases/requestLookup.js';

export const requestsRoute = defineRoute({
  name: 'requests',
  method: 'GET',
  route: 'requests/{requestId}',
  summary: 'Which deployment and model answered a prediction request (Q3)',
  description:
    "`requestId` is the online-endpoint traffic log's `XRequestId`. The model is the one the deployment served when the request arrived.",
  tags: ['lookups'],
  authLevel: 'function',
  role: 'reader',
  params: z.object({ requestId: z.string().trim().min(1).max(256, 'expected the XRequestId of a request, at most 256 characters') }),
  query: z.object({ depth: z.coerce.number().int('must be a whole number').min(1).max(25).default(3) }),
  responses: {
    200: { description: 'The request and the model that answered it', schema: requestAnswerSchema },
    400: { description: 'Invalid request id or query', schema: problemSchema },
    404: { description: 'Unknown request', schema: problemSchema },
    410: { description: 'Purged under the request-trace retention policy', schema: problemSchema },
  },
});

export const requestLineage = httpRoute(requestsRoute, ({ params, query, services, scope }) =>
  lookupRequest(services.graph, services.requests, params.requestId, query.depth, services.settings.LINEAGE_MAX_NODES, scope),
);

app.http('requests', { route: 'requests/{requestId}', methods: ['GET'], authLevel: 'function', handler: requestLineage });
