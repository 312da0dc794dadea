import { z } from 'zod';
import { refParam, route, workspaceParam } from '../shared/api/route.js';
import { gateAnswerSchema } from '../shared/api/schemas.js';
import { DomainError } from '../shared/errors.js';
import { gate, GATE_REQUIREMENTS } from '../shared/usecases/gate.js';

export const gateRoute = route(
  {
    name: 'gate',
    method: 'GET',
    route: 'gate',
    summary: 'Is a model version traceable enough to promote (Q7)',
    description:
      'A CI/CD step: 200 when the model version meets the traceability policy (setting GATE_REQUIRE, or `require` to ask for a stricter or looser one), otherwise 422 with exactly what is missing (`missing`, `checks`, `model`).',
    tags: ['lookups'],
    authLevel: 'function',
    role: 'reader',
    query: z.object({
      ref: refParam,
      workspace: workspaceParam,
      require: z
        .string()
        .max(200)
        .transform((s) =>
          s
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        )
        .pipe(z.array(z.enum(GATE_REQUIREMENTS)))
        .optional()
        .describe('comma-separated: data, code, environment, job, metrics, approval'),
    }),
    responses: { 200: { description: 'Passed', schema: gateAnswerSchema } },
    problems: ['invalid-ref', 'not-found', 'ambiguous-ref', 'gate-failed'],
  },
  async ({ query, services, scope }) => {
    const answer = await gate(services.graph, { ...query, require: query.require ?? services.settings.GATE_REQUIRE, scope });
    if (answer.passed) return answer;
    throw new DomainError('gate-failed', `${answer.model.label} is missing ${answer.missing.join(', ')}.`, {
      missing: answer.missing,
      checks: answer.checks,
      model: { id: answer.model.id, key: answer.model.key, label: answer.model.label },
    });
  },
);
