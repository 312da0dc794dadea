import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { getServices } from '../shared/composition.js';
import { DomainError } from '../shared/errors.js';
import { json, parseQuery, problem } from '../shared/http.js';
import { lookupRequest } from '../shared/usecases/requestLookup.js';

const querySchema = z.object({ depth: z.coerce.number().int('must be a whole number').min(1).max(25).default(3) });
const requestIdSchema = z.string().trim().min(1).max(256);

/** GET /api/requests/{requestId}: the traffic log's XRequestId to endpoint, deployment, model and upstream (Q3). */
export async function requestLineage(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const services = await getServices();
    const id = requestIdSchema.safeParse(request.params.requestId);
    if (!id.success) throw new DomainError('invalid-request', 'requestId: expected the XRequestId of a request, 1 to 256 characters');
    const q = parseQuery(querySchema, request.query);
    return json(await lookupRequest(services.graph, services.requests, id.data, q.depth, services.settings.LINEAGE_MAX_NODES));
  } catch (error) {
    if (!(error instanceof DomainError)) context.error(`request lookup failed: ${error instanceof Error ? error.message : String(error)}`);
    return problem(error);
  }
}

app.http('requests', { route: 'requests/{requestId}', methods: ['GET'], authLevel: 'function', handler: requestLineage });
