import { app } from '@azure/functions';
import { openApiDocument } from '../shared/api/openapi.js';
import { defineRoute } from '../shared/api/route.js';
import { json } from '../shared/http.js';

defineRoute({
  name: 'openapi',
  method: 'GET',
  route: 'openapi.json',
  summary: 'This API as an OpenAPI 3.1 document',
  description:
    'Generated from the zod schemas that validate each route. Needs a function key like every route but health and the signed chat-ops routes.',
  tags: ['meta'],
  authLevel: 'function',
  responses: { 200: { description: 'The OpenAPI document' } },
});

// Route modules register their contracts when functions/index.ts imports them, before any request.
app.http('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'function',
  handler: () => Promise.resolve(json(openApiDocument())),
});
