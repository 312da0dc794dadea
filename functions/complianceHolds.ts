import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { holdIdSchema, holdInputSchema, holdSchema } from '../shared/compliance/holds.js';
import { DomainError } from '../shared/errors.js';

/**
 * Legal holds: records in a hold's scope are kept past their retention policy until it ends.
 * Holds cover every workspace, so each route needs an admin without a workspace limit.
 */
const holdParams = z.object({ holdId: holdIdSchema });

export const complianceHoldsListRoute = route(
  {
    name: 'complianceHoldsList',
    method: 'GET',
    route: 'compliance/holds',
    summary: 'List legal holds',
    description: 'Admin only. Active and expired holds; expired ones no longer keep anything.',
    tags: ['compliance'],
    authLevel: 'admin',
    role: 'admin',
    allWorkspaces: true,
    responses: { 200: { description: 'Every hold', schema: z.object({ holds: z.array(holdSchema.meta({ id: 'LegalHold' })) }) } },
  },
  async ({ services }) => ({ holds: await services.compliance.holds.list() }),
);

export const complianceHoldsPutRoute = route(
  {
    name: 'complianceHoldsPut',
    method: 'PUT',
    route: 'compliance/holds/{holdId}',
    summary: 'Place or change a legal hold',
    description:
      'Admin only. Takes effect at the next retention run: records in scope are marked and kept. `reason` must not contain personal data.',
    tags: ['compliance'],
    authLevel: 'admin',
    role: 'admin',
    allWorkspaces: true,
    params: holdParams,
    body: holdInputSchema,
    responses: { 200: { description: 'The hold as stored', schema: holdSchema } },
  },
  ({ params, body, services }) => services.compliance.holds.put(params.holdId, body, services.compliance.now()),
);

export const complianceHoldsDeleteRoute = route(
  {
    name: 'complianceHoldsDelete',
    method: 'DELETE',
    route: 'compliance/holds/{holdId}',
    summary: 'End a legal hold',
    description: 'Admin only. At the next retention run the records it kept are released, and purged if past their policy.',
    tags: ['compliance'],
    authLevel: 'admin',
    role: 'admin',
    allWorkspaces: true,
    params: holdParams,
    responses: { 200: { description: 'Ended', schema: z.object({ deleted: z.literal(true) }) } },
    problems: ['not-found'],
  },
  async ({ params, services }) => {
    if (!(await services.compliance.holds.remove(params.holdId))) throw new DomainError('not-found', `No legal hold ${params.holdId}.`);
    return { deleted: true as const };
  },
);
