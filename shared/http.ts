import type { HttpResponseInit } from '@azure/functions';
import { toProblem } from './errors.js';

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
