import { z } from 'zod';
import { route, workspaceParam } from '../shared/api/route.js';
import { searchAnswerSchema } from '../shared/api/schemas.js';
import { NODE_KINDS } from '../shared/graph/keys.js';
import { search } from '../shared/usecases/search.js';

export const searchRoute = route(
  {
    name: 'search',
    method: 'GET',
    route: 'search',
    summary: 'Find nodes by any reference form, tag, or name prefix',
    description:
      '`q` is an ARM id, `azureml:NAME:VERSION` (with `workspace`), a registry URI, a node id, `tag:KEY` or `tag:KEY=VALUE`, or the start of a name.',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({
      q: z.string().trim().min(1, 'required').max(512),
      workspace: workspaceParam,
      kind: z.enum(NODE_KINDS).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
    responses: { 200: { description: 'Matching nodes', schema: searchAnswerSchema } },
  },
  ({ query, services, scope }) => search(services.graph, { ...query, scope }),
);
