import { z } from 'zod';
import { refParam, route, workspaceParam } from '../shared/api/route.js';
import { gateAnswerSchema } from '../shared/api/schemas.js';
import { DomainError } from '../shared/errors.js';
import { gateRequirementSchema } from '../shared/config.js';
import { describeUnmet, gate } from '../shared/usecases/gate.js';

export const gateRoute = route(
  {
    name: 'gate',
    method: 'GET',
    route: 'gate',
    summary: 'Is a model version traceable enough to promote (Q7)',
    description:
      'A CI/CD step: 200 when the model version meets the policy (setting GATE_REQUIRE, or `require` to ask for a stricter or looser one): lineage facts, metrics, a standing approval, thresholds such as `metric:auc>=0.8`. Otherwise 422 naming each unmet requirement with the observed value (`missing`, `unmet`, `checks`, `model`).',
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
        .pipe(z.array(gateRequirementSchema))
        .optional()
        .describe('comma-separated: data, code, environment, job, metrics, approval, metric:NAME>=VALUE (also <=, >, <)'),
    }),
    responses: { 200: { description: 'Passed', schema: gateAnswerSchema } },
    problems: ['invalid-ref', 'not-found', 'ambiguous-ref', 'gate-failed'],
  },
  async ({ query, services, scope }) => {
    const answer = await gate(services.graph, { ...query, require: query.require ?? services.settings.GATE_REQUIRE, scope });
    if (answer.passed) return answer;
    const unmet = describeUnmet(answer);
    throw new DomainError('gate-failed', `${answer.model.label} does not meet ${unmet.join('; ')}.`, {
      missing: answer.missing,
      unmet,
      checks: answer.checks,
      model: { id: answer.model.id, key: answer.model.key, label: answer.model.label },
    });
  },
);
