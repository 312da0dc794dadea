import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { armError, armJson } from './arm.js';

/** Response writing and body reading shared by the ARM routes and the control routes. */

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  json: (v: unknown) => string = armJson,
): void {
  // Set even when the client has gone (timed out during a delay), so the request log shows what it would have got.
  res.statusCode = status;
  if (res.headersSent || res.destroyed) return;
  const text = json(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'x-ms-request-id': randomUUID(),
    'x-ms-correlation-request-id': randomUUID(),
    'cache-control': 'no-cache',
    ...headers,
  });
  res.end(text);
}

/** ARM error body; ARM marks every error response with `x-ms-response-type: error`. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  send(res, status, armError(code, message), { 'x-ms-response-type': 'error', ...headers });
}

export class BadRequest extends Error {}

const MAX_BODY = 1024 * 1024;

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadRequest('request body over 1 MiB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequest('request body is not JSON');
  }
}
