import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import type { Services } from '../composition.js';
import { json } from '../http.js';
import { operationSchema, type Operation } from '../store/operationStore.js';
import { waitForOperation } from '../operations/operations.js';
import { response, type AnswerDoc, type HttpAnswer } from './route.js';

/**
 * The HTTP side of long operations. Azure's front end ends a request after 230 s, so routes that
 * start one answer 202 Accepted with a Location to GET /api/operations/{id}; `?wait=SECONDS`
 * (at most 200, under that limit) waits for the outcome and answers as the route did when it
 * ran in the request.
 */
export const MAX_WAIT_SECONDS = 200;
const RETRY_AFTER_SECONDS = 2;

export const waitQuery = z.object({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .default(0)
    .describe(
      `Seconds to wait for the outcome (at most ${MAX_WAIT_SECONDS}): finished by then, the answer is the result (or its problem); otherwise 202.`,
    ),
});

export const acceptedAnswer: AnswerDoc = {
  description: 'Queued or still running: `Location` names the operation to poll (GET /api/operations/{id}), `Retry-After` how soon.',
  schema: operationSchema,
};

export function operationLocation(request: HttpRequest, id: string): string {
  return `${new URL(request.url).origin}/api/operations/${id}`;
}

/** 200 with the result, the problem the operation failed with, or 202 while it is not finished. */
export async function answerOperation<T>(
  started: Operation,
  options: { wait: number; services: Services; request: HttpRequest; result: z.ZodType<T> },
): Promise<T | HttpAnswer> {
  const op = options.wait > 0 ? await waitForOperation(options.services.operations.operations, started, options.wait) : started;
  if (op.state === 'succeeded') return options.result.parse(op.result);
  if (op.state === 'failed' && op.error) {
    return response({
      status: op.error.status,
      jsonBody: { ...op.error, operation: op.id },
      headers: { 'content-type': 'application/problem+json; charset=utf-8', 'cache-control': 'no-store' },
    });
  }
  const accepted = json(op, 202);
  return response({
    ...accepted,
    headers: { ...accepted.headers, location: operationLocation(options.request, op.id), 'retry-after': String(RETRY_AFTER_SECONDS) },
  });
}
