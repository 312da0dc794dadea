import { z } from 'zod';
import { route, workspaceParam } from '../shared/api/route.js';
import { reproduceAnswerSchema } from '../shared/api/schemas.js';
import { reproduce } from '../shared/usecases/reproduce.js';

export const reproduceRoute = route(
  {
    name: 'reproduce',
    method: 'GET',
    route: 'reproduce',
    summary: 'A pinned Azure ML job spec that reruns a job, and what could not be pinned',
    description:
      'Rebuilds a command job (named by its ARM id or name, or through the model version it produced) as an Azure ML CLI (v2) job YAML: ' +
      'command, code and environment by version, the image by digest where it is referenced by one, inputs by data or model version, ' +
      'compute and literal inputs; with the az ml job create command (printed, never run) and the gaps: mutable image tags, images rebuilt ' +
      'on base-image updates, inputs read from bare paths, no recorded seed, code dirty at submission.',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({
      ref: z.string().trim().min(1, 'required: a job (ARM id or name) or a model version (NAME:VERSION or ARM id)').max(2048),
      workspace: workspaceParam,
    }),
    responses: { 200: { description: 'The pinned spec and its gaps', schema: reproduceAnswerSchema } },
    problems: ['invalid-ref', 'ambiguous-ref', 'not-found'],
  },
  ({ query, services, scope }) => reproduce(services.graph, { ...query, scope }),
);
