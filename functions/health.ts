import { z } from 'zod';
import { rawRoute } from '../shared/api/route.js';
import { getServices } from '../shared/composition.js';
import { TransientStoreError } from '../shared/errors.js';
import { json, problem } from '../shared/http.js';

/** Liveness for load balancers and the local host: 200 once the graph store answers, 503 on any failure (settings included). */
export const healthRoute = rawRoute(
  {
    name: 'health',
    method: 'GET',
    route: 'health',
    summary: 'Liveness',
    description: '200 once the graph store answers; 503 otherwise. No key needed.',
    tags: ['meta'],
    authLevel: 'anonymous',
    responses: { 200: { description: 'Healthy', schema: z.object({ status: z.literal('ok') }) } },
    problems: ['store-unavailable'],
  },
  async () => {
    try {
      const services = await getServices();
      await services.ping();
      return json({ status: 'ok' });
    } catch (error) {
      return problem(new TransientStoreError('health check failed', error));
    }
  },
);
