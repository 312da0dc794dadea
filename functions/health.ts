import { app, type HttpResponseInit } from '@azure/functions';
import { getServices } from '../shared/composition.js';
import { json, problem } from '../shared/http.js';
import { TransientStoreError } from '../shared/errors.js';

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
