import { registeredRoutes } from '../shared/api/app.js';
import { openApiDocument } from '../shared/api/openapi.js';
import { rawRoute } from '../shared/api/route.js';
import { json } from '../shared/http.js';

/** Answers without the stores: the document is built from the routes functions/index.ts registered. */
export const openapiRoute = rawRoute(
  {
    name: 'openapi',
    method: 'GET',
    route: 'openapi.json',
    summary: 'This API as an OpenAPI 3.1 document',
    description:
      'Generated from the zod schemas that validate each route. Needs a function key like every route but health and the signed chat-ops routes.',
    tags: ['meta'],
    authLevel: 'function',
    responses: { 200: { description: 'The OpenAPI document' } },
  },
  () => Promise.resolve(json(openApiDocument(registeredRoutes()))),
);
