import { z } from 'zod';
import { refParam, route, workspaceParam } from '../shared/api/route.js';
import { diffAnswerSchema } from '../shared/api/schemas.js';
import { diff } from '../shared/usecases/diff.js';

export const diffRoute = route(
  {
    name: 'diff',
    method: 'GET',
    route: 'diff',
    summary: 'What differs between two model versions (Q4)',
    description:
      'Data versions and digests, code and commits, environment image and conda content, compute, parameters by value, metrics (from, to, delta, better or worse by METRIC_DIRECTIONS), parent models, tags, properties, approvals and deployments, each difference with the provenance of both sides.',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({ from: refParam, to: refParam, workspace: workspaceParam }),
    responses: { 200: { description: 'The differences', schema: diffAnswerSchema } },
    // invalid-ref also when a reference names something other than a model version.
    problems: ['invalid-ref', 'not-found', 'ambiguous-ref'],
  },
  ({ query, services, scope }) => diff(services.graph, { ...query, scope, metricDirections: services.settings.METRIC_DIRECTIONS }),
);
