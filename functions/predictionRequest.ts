import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { predictionRequestAnswerSchema } from '../shared/api/schemas.js';
import { predictionRequest } from '../shared/usecases/predictionRequest.js';

/** A prediction request: a scoring request an online endpoint served. The function keeps its public name, `requests`. */
export const predictionRequestRoute = route(
  {
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
    responses: { 200: { description: 'The request and the model that answered it', schema: predictionRequestAnswerSchema } },
    problems: ['not-found', 'gone'],
  },
  ({ params, query, services, scope }) =>
    predictionRequest(
      services.graph,
      services.predictionRequests,
      params.requestId,
      query.depth,
      services.settings.LINEAGE_MAX_NODES,
      scope,
    ),
);
