import { app } from '@azure/functions';
import { z } from 'zod';
import { defineRoute, httpRoute } from '../shared/api/route.js';
import { problemSchema } from '../shared/api/schemas.js';
import { holdIdSchema, holdInputSchema, holdSchema } from '../shared/compliance/holds.js';
import { DomainError } from '../shared/errors.js';

/** Legal holds: records in a hold's scope are kept past their retention policy until it ends. */
const holdParams = z.object({ holdId: holdIdSchema });
const holdsAnswer = z.object({ holds: z.array(holdSchema.meta({ id: 'LegalHold' })) });
const adminOfAll = (scope: Set<string> | null) => {
  if (scope !== null)
    throw new DomainError('forbidden', 'Legal holds cover every workspace; they need Lineage.Admin without a workspace limit.');
};

export const listHoldsRoute = defineRoute({
  name: 'complianceHoldsList',
  method: 'GET',
  route: 'compliance/holds',
  summary: 'List legal holds',
  description: 'Admin only. Active and expired holds; expired ones no longer keep anything.',
  tags: ['compliance'],
  authLevel: 'admin',
  role: 'admin',
  responses: { 200: { description: 'Every hold', schema: holdsAnswer }, 403: { description: 'Not an admin', schema: problemSchema } },
});

export const putHoldRoute = defineRoute({
  name: 'complianceHoldsPut',
  method: 'PUT',
  route: 'compliance/holds/{holdId}',
  summary: 'Place or change a legal hold',
  description:
    'Admin only. Takes effect at the next retention run: records in scope are marked and kept. `reason` must not contain personal data.',
  tags: ['compliance'],
  authLevel: 'admin',
  role: 'admin',
  params: holdParams,
  body: holdInputSchema,
  responses: {
    200: { description: 'The hold as stored', schema: holdSchema },
    400: { description: 'Invalid hold', schema: problemSchema },
    403: { description: 'Not an admin', schema: problemSchema },
  },
});

export const deleteHoldRoute = defineRoute({
  name: 'complianceHoldsDelete',
  method: 'DELETE',
  route: 'compliance/holds/{holdId}',
  summary: 'End a legal hold',
  description: 'Admin only. At the next retention run the records it kept are released, and purged if past their policy.',
  tags: ['compliance'],
  authLevel: 'admin',
  role: 'admin',
  params: holdParams,
  responses: {
    200: { description: 'Ended', schema: z.object({ deleted: z.literal(true) }) },
    400: { description: 'Invalid hold id', schema: problemSchema },
    403: { description: 'Not an admin', schema: problemSchema },
    404: { description: 'No such hold', schema: problemSchema },
  },
});

const listHolds = httpRoute(listHoldsRoute, async ({ services, scope }) => {
  adminOfAll(scope);
  return { holds: await services.compliance.holds.list() };
});

const holdsByIdHandlers = {
  PUT: httpRoute(putHoldRoute, async ({ params, body, services, scope }) => {
    adminOfAll(scope);
    return services.compliance.holds.put(params.holdId, body, services.compliance.now());
  }),
  DELETE: httpRoute(deleteHoldRoute, async ({ params, services, scope }) => {
    adminOfAll(scope);
    if (!(await services.compliance.holds.remove(params.holdId))) throw new DomainError('not-found', `No legal hold ${params.holdId}.`);
    return { deleted: true as const };
  }),
};

app.http('complianceHoldsList', { route: 'compliance/holds', methods: ['GET'], authLevel: 'admin', handler: listHolds });
app.http('complianceHoldsPut', {
  route: 'compliance/holds/{holdId}',
  methods: ['PUT'],
  authLevel: 'admin',
  handler: holdsByIdHandlers.PUT,
});
app.http('complianceHoldsDelete', {
  route: 'compliance/holds/{holdId}',
  methods: ['DELETE'],
  authLevel: 'admin',
  handler: holdsByIdHandlers.DELETE,
});
