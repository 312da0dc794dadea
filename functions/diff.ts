import { app } from '@azure/functions';
import { z } from 'zod';
import { defineRoute, httpRoute, refParam, workspaceParam } from '../shared/api/route.js';
import { diffAnswerSchema, problemSchema } from '../shared/api/schemas.js';
import { diffModels } from '../shared/usecases/diff.js';

export const diffRoute = defineRoute({
  name: 'diff',
  method: 'GET',
  route: 'diff',
  summary: 'What differs between two model versions (Q4)',
  description:
    'Data versions, code and commits, environment, compute, parameters, metrics, parent models, tags, properties, approvals and deployments, each difference with the provenance of both sides.',
  tags: ['lookups'],
  authLevel: 'function',
  role: 'reader',
  query: z.object({ from: refParam, to: refParam, workspace: workspaceParam }),
  responses: {
    200: { description: 'The differences', schema: diffAnswerSchema },
    400: { description: 'Invalid query, or not model versions', schema: problemSchema },
    404: { description: 'Unknown ref', schema: problemSchema },
  },
});

export const diffHandler = httpRoute(diffRoute, ({ query, services, scope }) => diffModels(services.graph, { ...query, scope }));

app.http('diff', { route: 'diff', methods: ['GET'], authLevel: 'function', handler: diffHandler });
