import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { getServices } from '../shared/composition.js';
import { DomainError } from '../shared/errors.js';
import { json, parseQuery, problem } from '../shared/http.js';
import { lineage } from '../shared/usecases/lineage.js';

const querySchema = z.object({
  ref: z.string().trim().min(1, 'required: the model, job, data, environment, endpoint or deployment to start from').max(2048),
  direction: z.enum(['upstream', 'downstream', 'both']).default('upstream'),
  depth: z.coerce.number().int('must be a whole number').min(1).default(3),
  workspace: z.string().trim().min(1).max(1024).optional(),
});

/** GET /api/lineage?ref=REF&direction=upstream|downstream|both&depth=N[&workspace=ARM_ID] */
export async function lineageHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const services = await getServices();
    const q = parseQuery(querySchema, request.query);
    const max = services.settings.LINEAGE_MAX_DEPTH;
    if (q.depth > max) throw new DomainError('invalid-request', `depth: at most ${max}`, { errors: [{ parameter: 'depth', message: `at most ${max}` }] });
    const answer = await lineage(services.graph, { ...q, maxNodes: services.settings.LINEAGE_MAX_NODES });
    return json(answer);
  } catch (error) {
    if (!(error instanceof DomainError)) context.error(`lineage failed: ${error instanceof Error ? error.message : String(error)}`);
    return problem(error);
  }
}

app.http('lineage', { route: 'lineage', methods: ['GET'], authLevel: 'function', handler: lineageHandler });
