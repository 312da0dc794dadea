import { z } from 'zod';
import { refParam, route, workspaceParam } from '../shared/api/route.js';
import { impactAnswerSchema } from '../shared/api/schemas.js';
import { impact } from '../shared/usecases/impact.js';

export const impactRoute = route(
  {
    name: 'impact',
    method: 'GET',
    route: 'impact',
    summary: 'What depends on a data version, environment, code version, commit or model version now (Q5)',
    description:
      'Model versions, jobs, deployments and endpoints downstream of `ref`, each with the path that reaches it; deployments say whether they serve a dependent model right now.',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({ ref: refParam, workspace: workspaceParam, depth: z.coerce.number().int().min(1).max(50).default(25) }),
    responses: { 200: { description: 'Everything that depends on ref', schema: impactAnswerSchema } },
    problems: ['invalid-ref', 'not-found', 'ambiguous-ref'],
  },
  ({ query, services, scope }) => impact(services.graph, { ...query, maxNodes: services.settings.LINEAGE_MAX_NODES, scope }),
);
