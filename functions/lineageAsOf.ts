import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { getServices } from '../shared/composition.js';
import { DomainError } from '../shared/errors.js';
import { json, parseQuery, problem } from '../shared/http.js';
import { servedAt } from '../shared/usecases/asOf.js';

const querySchema = z.object({
  endpoint: z.string().trim().min(1, 'required: the ARM id of an online endpoint').max(2048),
  at: z.string().trim().min(1, 'required: an ISO 8601 date-time'),
  depth: z.coerce.number().int('must be a whole number').min(1).max(25).default(3),
});

/** GET /api/lineage/as-of?endpoint=ENDPOINT_ARM_ID&at=ISO8601[&depth=N] (Q2). */
export async function lineageAsOf(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const services = await getServices();
    const q = parseQuery(querySchema, request.query);
    return json(await servedAt(services.graph, { ...q, maxNodes: services.settings.LINEAGE_MAX_NODES }));
  } catch (error) {
    if (!(error instanceof DomainError)) context.error(`as-of lookup failed: ${error instanceof Error ? error.message : String(error)}`);
    return problem(error);
  }
}

app.http('lineageAsOf', { route: 'lineage/as-of', methods: ['GET'], authLevel: 'function', handler: lineageAsOf });
