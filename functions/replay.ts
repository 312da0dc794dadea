import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { getServices } from '../shared/composition.js';
import { DomainError } from '../shared/errors.js';
import { json, problem } from '../shared/http.js';
import { replay } from '../shared/usecases/replay.js';

const bodySchema = z.object({ events: z.boolean().default(true), deadLetters: z.boolean().default(true) }).strict();

/**
 * POST /api/replay {"events": true, "deadLetters": true}: re-projects the raw event log and
 * re-processes pending dead letters. Admin-level key only. Large logs: use `npm run replay`,
 * which has no HTTP time limit.
 */
export async function replayHandler(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const text = await request.text();
    let input: unknown = {};
    if (text.trim().length > 0) {
      try {
        input = JSON.parse(text);
      } catch {
        throw new DomainError('invalid-request', 'the body must be JSON: {"events": boolean, "deadLetters": boolean}');
      }
    }
    const options = bodySchema.safeParse(input);
    if (!options.success) throw new DomainError('invalid-request', options.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    const services = await getServices();
    const report = await replay(services.capture, options.data);
    context.log(`replay: ${JSON.stringify(report)}`);
    return json(report);
  } catch (error) {
    if (!(error instanceof DomainError)) context.error(`replay failed: ${error instanceof Error ? error.message : String(error)}`);
    return problem(error);
  }
}

app.http('replay', { route: 'replay', methods: ['POST'], authLevel: 'admin', handler: replayHandler });
