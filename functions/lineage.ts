import { z } from 'zod';
import { refParam, route, workspaceParam } from '../shared/api/route.js';
import { lineageAnswerSchema } from '../shared/api/schemas.js';
import { DomainError } from '../shared/errors.js';
import { NODE_KINDS } from '../shared/graph/keys.js';
import { lineage } from '../shared/usecases/lineage.js';

const MAX_PAGE = 500;

export const lineageRoute = route(
  {
    name: 'lineage',
    method: 'GET',
    route: 'lineage',
    summary: 'Upstream and downstream lineage of a node (Q1)',
    description:
      'Walks the graph from `ref` with bounds a bot can trust: depth, a node budget per page, and a time budget. When a bound is hit the answer says `partial: true` and, for the node budget, carries a `cursor` to continue.',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({
      ref: refParam,
      direction: z.enum(['upstream', 'downstream', 'both']).default('upstream'),
      depth: z.coerce.number().int('must be a whole number').min(1).max(50).default(3),
      limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional().describe('nodes per page (default LINEAGE_MAX_NODES, at most 500)'),
      timeBudgetMs: z.coerce.number().int().min(50).max(30_000).default(5_000),
      kinds: z
        .string()
        .max(300)
        .transform((s) =>
          s
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean),
        )
        .pipe(z.array(z.enum(NODE_KINDS)))
        .optional()
        .describe('comma-separated node kinds to return'),
      since: z.iso.datetime({ offset: true }).optional().describe('only nodes asserted by events at or after this time'),
      until: z.iso.datetime({ offset: true }).optional(),
      cursor: z.string().max(200).optional(),
      workspace: workspaceParam,
    }),
    responses: { 200: { description: 'The lineage answer', schema: lineageAnswerSchema } },
    problems: ['invalid-ref', 'not-found', 'ambiguous-ref'],
  },
  async ({ query, services, scope }) => {
    const max = Math.min(services.settings.LINEAGE_MAX_DEPTH, 50);
    if (query.depth > max)
      throw new DomainError('invalid-request', `depth: at most ${max}`, { errors: [{ parameter: 'depth', message: `at most ${max}` }] });
    return lineage(services.graph, { ...query, maxNodes: Math.min(query.limit ?? services.settings.LINEAGE_MAX_NODES, MAX_PAGE), scope });
  },
);
