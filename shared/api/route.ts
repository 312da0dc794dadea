import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { principalFrom, requireRole, type Principal, type Role } from '../access.js';
import { getServices, type Services } from '../composition.js';
import { DomainError } from '../errors.js';
import { json, problem } from '../http.js';

/**
 * One contract per HTTP route: the zod schemas that parse its input are also what the OpenAPI
 * document publishes, so the two cannot drift. `httpRoute` turns a contract and a use case into a
 * thin handler: parse, check the role, run, map (answers as JSON, errors as problem details).
 */
export interface RouteSpec {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Functions route template, below /api. */
  route: string;
  summary: string;
  description: string;
  tags: string[];
  authLevel: 'anonymous' | 'function' | 'admin';
  /** Entra app role needed when App Service authentication sits in front. */
  role?: Role;
  query?: z.ZodObject;
  params?: z.ZodObject;
  body?: z.ZodType;
  /** Status -> description and body schema (JSON unless contentType says otherwise). */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export const ROUTES: RouteSpec[] = [];

export interface RouteInput<S extends RouteSpec> {
  query: S['query'] extends z.ZodObject ? z.infer<S['query']> : Record<string, never>;
  params: S['params'] extends z.ZodObject ? z.infer<S['params']> : Record<string, never>;
  body: S['body'] extends z.ZodType ? z.infer<S['body']> : undefined;
  principal: Principal;
  /** Workspaces the caller may see with the route's role; null = all. */
  scope: Set<string> | null;
  services: Services;
  request: HttpRequest;
  context: InvocationContext;
}

const MAX_URL = 8 * 1024;
const MAX_BODY = 64 * 1024;

function issues(error: z.ZodError, where: string): DomainError {
  const errors = error.issues.map((i) => ({ parameter: i.path.join('.') || where, message: i.message }));
  return new DomainError('invalid-request', errors.map((e) => `${e.parameter}: ${e.message}`).join('; '), { errors });
}

export function defineRoute<S extends RouteSpec>(spec: S): S {
  ROUTES.push(spec);
  return spec;
}

export function httpRoute<S extends RouteSpec>(spec: S, run: (input: RouteInput<S>) => Promise<unknown>) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    try {
      if (request.url.length > MAX_URL) throw new DomainError('invalid-request', `the URL is longer than ${MAX_URL} characters`);
      const principal = principalFrom(request.headers);
      const scope = spec.role ? requireRole(principal, spec.role) : null;
      const rawQuery: Record<string, string> = {};
      for (const [k, v] of request.query.entries()) if (k !== 'code') rawQuery[k] = v;
      const query = spec.query ? spec.query.safeParse(rawQuery) : { success: true as const, data: {} };
      if (!query.success) throw issues(query.error, 'query');
      const params = spec.params ? spec.params.safeParse(request.params) : { success: true as const, data: {} };
      if (!params.success) throw issues(params.error, 'path');
      let body: unknown = undefined;
      if (spec.body) {
        const text = await request.text();
        if (Buffer.byteLength(text) > MAX_BODY) throw new DomainError('payload-too-large', `the body is larger than ${MAX_BODY} bytes`);
        let parsedJson: unknown = {};
        if (text.trim().length > 0) {
          try {
            parsedJson = JSON.parse(text);
          } catch {
            throw new DomainError('invalid-request', 'the body must be JSON');
          }
        }
        const parsed = spec.body.safeParse(parsedJson);
        if (!parsed.success) throw issues(parsed.error, 'body');
        body = parsed.data;
      }
      const services = await getServices();
      const result = await run({
        query: query.data,
        params: params.data,
        body,
        principal,
        scope,
        services,
        request,
        context,
      } as RouteInput<S>);
      return isResponse(result) ? result : json(result);
    } catch (error) {
      if (!(error instanceof DomainError)) context.error(`${spec.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      return problem(error);
    }
  };
}

const RESPONSE = Symbol('http-response');

function isResponse(value: unknown): value is HttpResponseInit {
  return typeof value === 'object' && value !== null && RESPONSE in value;
}

/** A non-JSON or non-200 answer from a route body. */
export function response(init: HttpResponseInit): HttpResponseInit {
  return Object.assign(init, { [RESPONSE]: true });
}

/** Common query parameters. */
export const refParam = z
  .string()
  .trim()
  .min(1, 'required: a model, job, data, environment, code, endpoint or deployment reference')
  .max(2048);
export const workspaceParam = z.string().trim().min(1).max(1024).optional();
