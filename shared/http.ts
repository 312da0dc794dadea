import type { HttpResponseInit } from '@azure/functions';
import type { z } from 'zod';
import { DomainError, toProblem } from './errors.js';

/** Mapping between the domain and HTTP: JSON answers and one problem-JSON error shape. */
export function json(body: unknown, status = 200): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } };
}

export function problem(error: unknown, instance?: string): HttpResponseInit {
  const p = toProblem(error);
  return {
    status: p.status,
    jsonBody: instance ? { ...p, instance } : p,
    headers: { 'content-type': 'application/problem+json; charset=utf-8', 'cache-control': 'no-store' },
  };
}

/** Parses query parameters against a zod schema; failures become a 400 naming each parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: URLSearchParams): z.infer<S> {
  const input: Record<string, string> = {};
  for (const [k, v] of query.entries()) if (k !== 'code') input[k] = v;
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ parameter: i.path.join('.') || '(query)', message: i.message }));
    throw new DomainError('invalid-request', errors.map((e) => `${e.parameter}: ${e.message}`).join('; '), { errors });
  }
  return parsed.data;
}
