import { app, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { defineRoute } from '../shared/api/route.js';
import { problemSchema } from '../shared/api/schemas.js';
import { getServices } from '../shared/composition.js';
import { json, problem } from '../shared/http.js';
import { TransientStoreError } from '../shared/errors.js';

defineRoute({
  name: 'health',
  method: 'GET',
  route: 'health',
  summary: 'Liveness',
  description: '200 once the graph store answers; 503 otherwise. No key needed.',
  tags: ['meta'],
  authLevel: 'anonymous',
  responses: {
    200: { description: 'Healthy', schema: z.object({ status: z.literal('ok') }) },
    503: { description: 'The store does not answer', schema: problemSchema },
  },
});

/** Liveness for load balancers and the local host: 200 once the graph store answers. */
export async function health(): Promise<HttpResponseInit> {
  try {
    const services = await getServices();
    await services.ping();
    return json({ status: 'ok' });
  } catch (error) {
    return problem(new TransientStoreError('health check failed', error));
  }
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
