import { z } from 'zod';
import { route } from '../shared/api/route.js';
import { DomainError } from '../shared/errors.js';
import { operationSchema } from '../shared/store/operationStore.js';

export const operationStatusRoute = route(
  {
    name: 'operationStatus',
    method: 'GET',
    route: 'operations/{id}',
    summary: 'Status of a long operation',
    description:
      'The operation a 202 answer named in its `Location`: `state` (queued, running, succeeded, failed), `attempts` (more than one after a worker recycle or a failed delivery), `progress` while running, then `result` (what the starting route answers with `?wait`) or `error` (problem details).',
    tags: ['operations'],
    authLevel: 'admin',
    role: 'admin',
    // Operations (compliance runs, replays) cover every workspace, like the routes that start them.
    allWorkspaces: true,
    params: z.object({ id: z.uuid() }),
    responses: { 200: { description: 'The operation', schema: operationSchema } },
    problems: ['not-found'],
  },
  async ({ params, services }) => {
    const op = await services.operations.operations.get(params.id);
    if (!op) throw new DomainError('not-found', `No operation ${params.id}.`);
    return op;
  },
);
