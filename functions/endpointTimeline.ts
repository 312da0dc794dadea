import { z } from 'zod';
import { route, workspaceParam } from '../shared/api/route.js';
import { timelineAnswerSchema } from '../shared/api/schemas.js';
import { driftSignals } from '../shared/compliance/runCompliance.js';
import { endpointTimeline } from '../shared/usecases/endpointTimeline.js';

export const endpointTimelineRoute = route(
  {
    name: 'endpointTimeline',
    method: 'GET',
    route: 'endpoints/timeline',
    summary: 'What served an endpoint over time, the last good model version and how to roll back to it',
    description:
      'Every traffic and model change behind an online or batch endpoint, each model version with its service periods, gate result and drift signals, ' +
      'the last good version under the documented rule (ROLLBACK_MIN_TRAFFIC_PERCENT, ROLLBACK_MIN_SERVICE_MINUTES, GATE_REQUIRE) ' +
      'and the Azure CLI command that returns traffic to it. The command is printed, never run.',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({
      endpoint: z.string().trim().min(1, 'required: the ARM id of an online or batch endpoint, or its name with workspace').max(2048),
      workspace: workspaceParam,
      since: z.string().trim().max(64).optional(),
      until: z.string().trim().max(64).optional(),
    }),
    responses: { 200: { description: 'The endpoint timeline', schema: timelineAnswerSchema } },
    problems: ['invalid-ref', 'ambiguous-ref', 'not-found'],
  },
  ({ query, services, scope }) =>
    endpointTimeline(services.graph, {
      ...query,
      scope,
      rule: {
        minTrafficPercent: services.settings.ROLLBACK_MIN_TRAFFIC_PERCENT,
        minServiceMinutes: services.settings.ROLLBACK_MIN_SERVICE_MINUTES,
        gateRequires: services.settings.GATE_REQUIRE,
      },
      driftSignals: () => driftSignals(services.compliance.blobs),
    }),
);
